import { describe, expect, it } from 'vitest';
import { acceptRequestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('acceptRequestId', () => {
  it('keeps a plain id the caller sent', () => {
    expect(acceptRequestId('req-42')).toBe('req-42');
    expect(acceptRequestId('01HZX3K5V2Q8W7N6M5B4C3D2E1')).toBe('01HZX3K5V2Q8W7N6M5B4C3D2E1');
    expect(acceptRequestId('  spaced  ')).toBe('spaced');
  });

  it('makes a new one for a missing, repeated, over-long or unsafe id', () => {
    for (const given of [
      undefined,
      '',
      ['a', 'b'],
      'x'.repeat(129),
      'two words',
      'line\nbreak',
      '"quoted"',
      'ünïcode',
    ]) {
      expect(acceptRequestId(given), JSON.stringify(given)).toMatch(UUID);
    }
    expect(acceptRequestId('x'.repeat(128))).toBe('x'.repeat(128));
  });
});
