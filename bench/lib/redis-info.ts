/** Reads Redis INFO sections the benchmark needs: command counts and memory. */
import type { Redis } from 'ioredis';

export async function infoSection(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = await redis.info(section);
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * Calls per command since the last reset. Redis counts the commands a script runs
 * (redis.call) under their own names as well as the EVALSHA itself.
 */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const fields = await infoSection(redis, 'commandstats');
  const calls = new Map<string, number>();
  for (const [key, value] of Object.entries(fields)) {
    const match = /^cmdstat_(.+)$/.exec(key);
    const count = /calls=(\d+)/.exec(value);
    if (match?.[1] && count?.[1]) calls.set(match[1], Number(count[1]));
  }
  return calls;
}

export function diffCalls(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [command, count] of after) {
    const delta = count - (before.get(command) ?? 0);
    if (delta > 0) diff.set(command, delta);
  }
  return diff;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await infoSection(redis, 'memory')).used_memory);
}
