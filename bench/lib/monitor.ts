/**
 * Where Redis commands come from: a MONITOR trace attributed to the client connection
 * (by its CLIENT SETNAME name) and to the script that ran them. Redis lists a script's
 * inner commands (source "lua") right after its EVALSHA, so they are charged to it.
 * MONITOR slows Redis down: use it for attribution, never while timing.
 */
import { createHash } from 'node:crypto';
import * as bullmqScripts from 'bullmq/dist/esm/scripts/index.js';
import { Redis } from 'ioredis';

const scriptNames = new Map<string, string>();
for (const script of Object.values(bullmqScripts) as Array<{ name?: string; content?: string }>) {
  if (script?.name && script.content) {
    scriptNames.set(createHash('sha1').update(script.content).digest('hex'), `bullmq ${script.name}`);
  }
}

/** The product's own scripts are private to packages/store: name them by the keys they touch. */
function scriptName(sha: string, scriptKeys: string[]): string {
  const known = scriptNames.get(sha);
  if (known) return known;
  const [first, , third] = scriptKeys;
  if (first?.endsWith(':log')) return 'store RecordStore.append';
  if (first?.includes(':repo:') && third?.includes(':triggers:')) return 'store TriggerStore.loadContext';
  // Anything else: its sha and its keys with the tenant names blurred.
  const shape = scriptKeys.map((key) => key.replace(/\{ns:[^}]*\}/, '{ns}')).join(' ');
  return `script ${sha.slice(0, 8)} (${shape || 'no keys'})`;
}

export interface Trace {
  /** "client · script-or-command" → commands, a script's inner commands included. */
  bySource: Map<string, number>;
  /** "client · script-or-command" → calls made by the client. */
  calls: Map<string, number>;
  /** "client · script" → inner command → count. */
  inner: Map<string, Map<string, number>>;
  total: number;
}

export async function traceCommands(redisUrl: string, work: () => Promise<void>): Promise<Trace> {
  const client = new Redis(redisUrl, { connectionName: 'bench-monitor' });
  const monitor = await client.monitor();
  const events: Array<{ args: string[]; source: string }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    events.push({ args, source });
  });
  await work();
  await new Promise((resolve) => setTimeout(resolve, 200));
  monitor.disconnect();
  const names = new Map<string, string>();
  for (const line of ((await client.client('LIST')) as string).split('\n')) {
    const addr = /addr=(\S+)/.exec(line)?.[1];
    const name = /name=(\S*)/.exec(line)?.[1];
    if (addr) names.set(addr, name || 'unnamed');
  }
  await client.quit();

  const bySource = new Map<string, number>();
  const calls = new Map<string, number>();
  const inner = new Map<string, Map<string, number>>();
  let current: string | undefined;
  let total = 0;
  for (const { args, source } of events) {
    const command = (args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      if (!current) continue;
      bySource.set(current, (bySource.get(current) ?? 0) + 1);
      const perScript = inner.get(current) ?? new Map<string, number>();
      perScript.set(command, (perScript.get(command) ?? 0) + 1);
      inner.set(current, perScript);
      total++;
      continue;
    }
    const clientName = names.get(source) ?? source;
    if (clientName.startsWith('bench') && !clientName.startsWith('bench-bare')) {
      current = undefined;
      continue;
    }
    const label =
      command === 'evalsha' || command === 'eval'
        ? scriptName(
            command === 'evalsha'
              ? (args[1] ?? '')
              : createHash('sha1')
                  .update(args[1] ?? '')
                  .digest('hex'),
            args.slice(3, 3 + Number(args[2] ?? 0)),
          )
        : command;
    current = `${clientName} · ${label}`;
    bySource.set(current, (bySource.get(current) ?? 0) + 1);
    calls.set(current, (calls.get(current) ?? 0) + 1);
    total++;
  }
  return { bySource, calls, inner, total };
}

/** The trace per unit (notification, job), biggest sources first. */
export function perUnit(trace: Trace, units: number, top = 25) {
  const round2 = (value: number) => Math.round((value / units) * 100) / 100;
  return {
    total: round2(trace.total),
    bySource: Object.fromEntries(
      [...trace.bySource.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([source, count]) => {
          const inner = trace.inner.get(source);
          const detail = inner
            ? ` (${round2(trace.calls.get(source) ?? 0)} calls; inside: ${[...inner.entries()]
                .sort((a, b) => b[1] - a[1])
                .map(([command, n]) => `${command} ${round2(n)}`)
                .join(', ')})`
            : '';
          return [source, `${round2(count)}${detail}`];
        }),
    ),
  };
}
