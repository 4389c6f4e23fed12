import fc from 'fast-check';
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
    // Every deprecated or translated form that carries an IPv4 address, each spelled in
    // dotted, hex and uncompressed forms: the embedded address decides, never the spelling.
    '::127.0.0.1', // IPv4-compatible (::/96, deprecated): blocked as a whole
    '::7f00:1',
    '0:0:0:0:0:0:7f00:1',
    '::8.8.8.8',
    '::a00:1',
    '0::ffff:7f00:1', // IPv4-mapped
    '0:0:0:0:0:ffff:7f00:1',
    '::FFFF:7F00:1',
    '::ffff:0:7f00:1', // IPv4-translated (::ffff:0:0:0/96)
    '::ffff:0:a9fe:a9fe',
    '64:ff9b::127.0.0.1', // NAT64 well-known prefix
    '64:ff9b::7f00:1',
    '64:ff9b:0:0:0:0:a00:1',
    '64:ff9b::c0a8:101',
    '64:ff9b:1::8.8.8.8', // local-use NAT64 (64:ff9b:1::/48): its embedding is site-defined
    '64:ff9b:1:ffff::1',
    '2002:7f00:1::', // 6to4 with a private IPv4
    '2002:a00:1:1::1',
    '2002:c0a8:101::1',
    '2002:a9fe:a9fe::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo (2001::/32)
    '2001::1',
    '2001:0:ffff:ffff::',
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
    '64:ff9b::808:808', // NAT64 of a public address
    '2002:808:808::1', // 6to4 of a public address
    '2001:4860:4860::8888', // 2001:4860::/32 is not Teredo
    '2001:1::1',
  ])('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('isBlockedAddress reads an IPv6 address, not its spelling', () => {
  const spellings = (v4: string) => {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    const high = ((a << 8) | b).toString(16);
    const low = ((c << 8) | d).toString(16);
    return [`::ffff:${v4}`, `::ffff:${high}:${low}`, `0:0:0:0:0:ffff:${high}:${low}`, `64:ff9b::${v4}`];
  };

  it('an IPv4 address mapped or translated into IPv6 is judged as that IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        for (const spelled of spellings(v4))
          expect(isBlockedAddress(spelled), spelled).toBe(isBlockedAddress(v4));
      }),
    );
  });

  it('compressed, expanded and upper-case spellings get the same answer', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        // The WHATWG URL parser writes the canonical (compressed, lower-case) form.
        const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        expect(isBlockedAddress(address.toUpperCase()), address).toBe(isBlockedAddress(canonical));
      }),
      { numRuns: 2000 },
    );
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
    'http://[::127.0.0.1]:8080/hook',
    'http://[64:ff9b::127.0.0.1]:8080/hook',
    'http://[2002:7f00:1::1]:8080/hook',
    'http://localhost:8080/hook',
  ])('refuses %s without connecting', async (url) => {
    const report = await attemptDelivery(dispatcher, { url, headers: {}, body: '{}' }, options);
    expect(report.statusCode).toBe('SSRF_BLOCKED');
    expect(report.result).toEqual({ kind: 'error', code: 'SSRF_BLOCKED', retryable: false });
  });
});
