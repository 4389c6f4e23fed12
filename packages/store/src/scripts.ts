/** Runs a Lua script by its SHA1, loading it on the node that lacks it (also after a failover). */
import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.js';

const shaCache = new Map<string, string>();

function sha1(source: string): string {
  let sha = shaCache.get(source);
  if (!sha) {
    sha = createHash('sha1').update(source).digest('hex');
    shaCache.set(source, sha);
  }
  return sha;
}

export async function runScript(
  redis: RedisConnection,
  source: string,
  scriptKeys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  try {
    return await redis.evalsha(sha1(source), scriptKeys.length, ...scriptKeys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return redis.eval(source, scriptKeys.length, ...scriptKeys, ...args);
    }
    throw error;
  }
}
