import { describe, expect, it } from 'vitest';
import { splitTokenList } from './auth.js';
import { tokenListSetting } from './env.js';

describe('ADMIN_TOKEN / INGEST_TOKEN lists', () => {
  it('split on commas, trimmed, empty items dropped', () => {
    expect(splitTokenList(' old-token-0123456789 , new-token-0123456789,')).toEqual([
      'old-token-0123456789',
      'new-token-0123456789',
    ]);
    expect(splitTokenList(undefined)).toEqual([]);
  });

  it('every token of the list must be at least 16 characters', () => {
    expect(tokenListSetting().safeParse('old-token-0123456789,new-token-0123456789').success).toBe(true);
    const short = tokenListSetting().safeParse('old-token-0123456789,short');
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]?.message).toMatch(/16 characters/);
    expect(tokenListSetting().safeParse(' , ').success).toBe(false);
  });
});
