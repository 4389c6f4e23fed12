import { describe, expect, it } from 'vitest';
import { attemptDelivery, createDeliveryDispatcher } from './http-delivery.js';
import { guardedLookup, isBlockedAddress } from './ssrf-guard.js';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    'fc00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:0:10.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::1',
    '[::1]',
    'fe80::1%eth0',
    'not-an-address',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
  ])('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('guardedLookup', () => {
  it('refuses a host name that resolves to loopback', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      guardedLookup('localhost', {}, (err) => resolve(err)),
    );
    expect(error).toMatchObject({ code: 'SSRF_BLOCKED' });
  });
});

describe('attemptDelivery with private networks blocked', () => {
  const dispatcher = createDeliveryDispatcher({
    allowPrivateNetworks: false,
    connectTimeoutMs: 1000,
    timeoutMs: 2000,
  });
  const options = { allowPrivateNetworks: false, timeoutMs: 2000 };

  // The WHATWG URL parser turns odd IPv4 spellings into dotted quads before the check.
  it.each([
    'http://127.0.0.1:8080/hook',
    'http://[::1]:8080/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://0x7f.1:8080/hook',
    'http://2130706433:8080/hook',
    'http://0177.0.0.1:8080/hook',
    'http://[::ffff:127.0.0.1]:8080/hook',
    'http://localhost:8080/hook',
  ])('refuses %s without connecting', async (url) => {
    const report = await attemptDelivery(dispatcher, { url, headers: {}, body: '{}' }, options);
    expect(report.statusCode).toBe('SSRF_BLOCKED');
    expect(report.result).toEqual({ kind: 'error', code: 'SSRF_BLOCKED', retryable: false });
  });
});
