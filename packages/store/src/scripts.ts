/**
 * The one owner of the store's Lua scripts: each is registered on a connection with ioredis
 * `defineCommand` (under its name, prefixed `rt_`) the first time it runs there. ioredis then
 * sends it as EVAL on the first use per socket and as EVALSHA after, and falls back to EVAL
 * on NOSCRIPT (a node that lost its script cache, a promoted replica after a failover).
 */
import type { RedisConnection } from './connection.js';

type ScriptCommand = (numberOfKeys: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>;

export interface Script {
  readonly command: string;
  /** Runs the script with these keys (all in one slot) and arguments. */
  run(
    redis: RedisConnection,
    scriptKeys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown>;
}

const names = new Set<string>();

/** A script under a name unique in the store (the command it is defined as on each connection). */
export function defineScript(name: string, lua: string): Script {
  if (!/^[a-zA-Z][\w]*$/.test(name) || names.has(name))
    throw new Error(`bad or duplicate script name ${name}`);
  names.add(name);
  const command = `rt_${name}`;
  return {
    command,
    run(redis, scriptKeys, args) {
      const connection = redis as unknown as Record<string, ScriptCommand | undefined>;
      let run = connection[command];
      if (!run) {
        redis.defineCommand(command, { lua });
        run = connection[command]!;
      }
      return run.call(redis, scriptKeys.length, ...scriptKeys, ...args);
    },
  };
}
