import { describe, expect, it } from 'vitest';
import {
  checkTriggerUrl,
  HTTP_PORT_RULE,
  HTTPS_PORT_RULE,
  isAllowedHttpPort,
  redactUrl,
} from './url-rules.js';

const ruleOf = (raw: string): string | undefined => {
  const check = checkTriggerUrl(raw);
  return check.ok ? undefined : check.rule;
};

describe('checkTriggerUrl: http ports', () => {
  it.each([21, 70, 80, 210, 280, 443, 488, 591, 777, 1025, 8080, 65534])('allows http port %i', (port) => {
    expect(ruleOf(`http://hooks.example.com:${port}/x`)).toBeUndefined();
  });

  it.each([0, 1, 20, 22, 69, 71, 79, 81, 209, 211, 279, 281, 442, 444, 487, 489, 590, 592, 776, 778, 1024])(
    'refuses http port %i',
    (port) => {
      expect(ruleOf(`http://hooks.example.com:${port}/x`)).toBe(HTTP_PORT_RULE);
    },
  );

  it('allows the last port, 65535', () => {
    expect(ruleOf('http://hooks.example.com:65535/x')).toBeUndefined();
  });

  it('refuses 65536 with the port rule, not a parse error', () => {
    expect(ruleOf('http://hooks.example.com:65536/x')).toBe(HTTP_PORT_RULE);
  });

  it.each([
    ['http://[::1]:65536/', HTTP_PORT_RULE],
    ['http://hooks.example.com:99999/', HTTP_PORT_RULE],
    ['https://hooks.example.com:99999/', HTTPS_PORT_RULE],
  ])('refuses the out-of-range port of %s with the port rule', (raw, rule) => {
    expect(ruleOf(raw)).toBe(rule);
  });

  it('uses port 80 when none is written, and accepts it written out', () => {
    expect(ruleOf('http://hooks.example.com/x')).toBeUndefined();
    expect(ruleOf('http://hooks.example.com:80/x')).toBeUndefined();
  });

  it('agrees with the port table for every port', () => {
    const allowed = [21, 70, 80, 210, 280, 443, 488, 591, 777];
    for (let port = 0; port <= 65536; port++) {
      expect(isAllowedHttpPort(port)).toBe(allowed.includes(port) || (port >= 1025 && port <= 65535));
    }
  });
});

describe('checkTriggerUrl: https', () => {
  it('allows port 443, written or not', () => {
    expect(ruleOf('https://hooks.example.com/x')).toBeUndefined();
    expect(ruleOf('https://hooks.example.com:443/x')).toBeUndefined();
  });

  it.each([8443, 80, 1025, 65535])('refuses https port %i', (port) => {
    expect(ruleOf(`https://hooks.example.com:${port}/x`)).toBe(HTTPS_PORT_RULE);
  });

  it('names the rule in words a user understands', () => {
    expect(HTTPS_PORT_RULE).toMatch(/https URLs must use port 443/);
  });
});

describe('checkTriggerUrl: shape', () => {
  it.each([
    ['https://user:pass@hooks.example.com/', /user-info/],
    ['https://user@hooks.example.com/', /user-info/],
    ['https://@hooks.example.com/', /user-info/],
    ['ftp://hooks.example.com/', /scheme must be http or https, not ftp/],
    ['file:///etc/passwd', /scheme must be http or https/],
    ['javascript:alert(1)', /scheme must be http or https/],
    ['hooks.example.com/x', /absolute/],
    ['/relative/path', /absolute/],
    ['', /empty/],
    ['http:hooks.example.com', /http:\/\//],
    ['http:/hooks.example.com', /http:\/\//],
    ['http:\\\\hooks.example.com', /http:\/\//],
    ['http:///hooks.example.com', /host/],
    ['http://', /host/],
    [' https://hooks.example.com/', /spaces or control/],
    ['https://hooks.example.com/a b', /spaces or control/],
    ['https://hooks.example.com/\n', /spaces or control/],
    ['http://exa mple.com/', /spaces or control/],
    ['http://[::1/', /not a valid URL/],
    // A zone id names a network interface of one machine (link-local scope): no URL can.
    ['http://[fe80::1%25lo]/', /^url must not carry an IPv6 zone id/],
    ['http://[fe80::1%lo]:8080/hook', /^url must not carry an IPv6 zone id/],
    ['https://[fe80::1%25eth0]/', /^url must not carry an IPv6 zone id/],
    [`https://hooks.example.com/${'x'.repeat(2048)}`, /at most 2048/],
  ])('refuses %j', (raw, rule) => {
    expect(ruleOf(raw)).toMatch(rule);
  });

  it.each([
    'HTTPS://Hooks.Example.com/Path?q=1#f',
    'http://127.0.0.1:8080/hook',
    'http://[::1]:8080/hook',
    'https://xn--bcher-kva.example/',
    'https://hooks.example.com',
  ])('accepts %s', (raw) => {
    expect(ruleOf(raw)).toBeUndefined();
  });

  it('returns the parsed URL', () => {
    const check = checkTriggerUrl('http://hooks.example.com:8080/x?y=1');
    expect(check.ok && check.url.port).toBe('8080');
  });
});

describe('redactUrl', () => {
  it('hides the secret of the Alibaba Cloud example and keeps everything else byte for byte', () => {
    const url =
      'https://cs.console.alibabacloud.com/hook/trigger?triggerUrl=YzRmMWE5YzM2ZjMzYzQ0NmFiMGYzNWJlMmM2MjM2NzIyfGV4cHJlc3N8cmVkZXBsb3l8MThlMmllY2drdXYyZXw=&secret=365a4a664b45615438716a487a75695a7ac48329224b35b073c2197374e7d62a';
    expect(redactUrl(url)).toBe(
      'https://cs.console.alibabacloud.com/hook/trigger?triggerUrl=YzRmMWE5YzM2ZjMzYzQ0NmFiMGYzNWJlMmM2MjM2NzIyfGV4cHJlc3N8cmVkZXBsb3l8MThlMmllY2drdXYyZXw=&secret=***',
    );
  });

  it.each([
    ['http://h/?token=abc&page=2', 'http://h/?token=***&page=2'],
    ['http://h/?API_KEY=abc', 'http://h/?API_KEY=***'],
    ['http://h/?access_token=abc', 'http://h/?access_token=***'],
    ['http://h/?X-Amz-Signature=abc&X-Amz-Date=1', 'http://h/?X-Amz-Signature=***&X-Amz-Date=1'],
    ['http://h/?sig=abc', 'http://h/?sig=***'],
    ['http://h/?Password=abc', 'http://h/?Password=***'],
    ['http://h/?auth=abc', 'http://h/?auth=***'],
    ['http://h/?my%5Fsecret=abc', 'http://h/?my%5Fsecret=***'],
    ['http://h/?q=a%20b+c&page=2', 'http://h/?q=a%20b+c&page=2'],
    ['http://h/?secret=', 'http://h/?secret='],
    ['http://h/?flag&secret=a=b', 'http://h/?flag&secret=***'],
    ['http://h/x#access_token=abc&state=1', 'http://h/x#access_token=***&state=1'],
    ['https://user:hunter2@h/x', 'https://user:***@h/x'],
    ['http://h/plain', 'http://h/plain'],
    ['not a url ?token=abc', 'not a url ?token=***'],
  ])('%s → %s', (raw, redacted) => {
    expect(redactUrl(raw)).toBe(redacted);
  });

  it('is idempotent', () => {
    const once = redactUrl('http://h/?secret=1&token=2&x=3');
    expect(redactUrl(once)).toBe(once);
  });
});
