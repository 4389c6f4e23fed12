import { describe, expect, it } from 'vitest';
import { redactAccessToken, splitTokenList } from './auth.js';
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

describe('redactAccessToken', () => {
  it('masks every access_token value of a URL and nothing else', () => {
    expect(redactAccessToken('/v1/events/quay?namespace=ns&access_token=s3cr3t&x=1')).toBe(
      '/v1/events/quay?namespace=ns&access_token=***&x=1',
    );
    expect(redactAccessToken('/v1/events/gar?ACCESS_TOKEN=a&access_token=b#f')).toBe(
      '/v1/events/gar?ACCESS_TOKEN=***&access_token=***#f',
    );
    expect(redactAccessToken('/v1/events/gar?my_access_token=a')).toBe('/v1/events/gar?my_access_token=a');
  });
});
