/**
 * Row 9b: Redis used_memory while access records are written straight through
 * RecordStore.append with a small per-namespace retention (bounded by retention?).
 * Row 9a, the worker's resident set, is in steady-rss.ts.
 */
import { type NewAccessRecord, RecordStore } from '@registry-triggers/store';
import { Redis } from 'ioredis';
import { type BenchContext, fmt, type RowResult } from '../lib/context.js';
import { DIGEST } from '../lib/load.js';
import { nowMs } from '../lib/protocol.js';
import { usedMemory } from '../lib/redis-info.js';
import { round } from '../lib/stats.js';

export const RETENTION_RECORDS = 1000;
const NAMESPACES = 4;
const REPOSITORIES = 5;
const TRIGGERS = 5;
const BATCH = 2000;

function recordFor(i: number): NewAccessRecord {
  const namespace = `mem${i % NAMESPACES}`;
  const repository = `repo${Math.floor(i / NAMESPACES) % REPOSITORIES}`;
  const trigger = `trigger-${Math.floor(i / (NAMESPACES * REPOSITORIES)) % TRIGGERS}`;
  const tag = `v1.${i % 1000}`;
  const body = `{"push_data":{"digest":"${DIGEST}","pushed_at":"2025-11-26 12:25:46","tag":"${tag}"},"repository":{"date_created":"2025-10-28 21:31:42","name":"${repository}","namespace":"${namespace}","region":"local","repo_authentication_type":"NO_CERTIFIED","repo_full_name":"${namespace}/${repository}","repo_origin_type":"NO_CERTIFIED","repo_type":"PRIVATE"}}`;
  return {
    triggerId: trigger,
    triggerName: trigger,
    triggerUrl: 'https://hooks.example.com/deploy',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: `event-${i}`,
    deliveryId: `delivery-${i}`,
    namespace,
    repository,
    tag,
    digest: DIGEST,
    status: 'succeeded',
    statusCode: '200',
    attempt: 1,
    requestTime: Date.now(),
    durationMs: 3,
    requestHeaders: {
      'content-type': 'application/json',
      'user-agent': 'registry-triggers/0.1',
      'webhook-id': `msg_${i}`,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    },
    requestBody: body,
    responseHeaders: { 'content-type': 'text/plain', 'content-length': '2' },
    responseBody: 'ok',
  } as NewAccessRecord;
}

/**
 * Every key of the access log by kind: count, entries (stream entries, or the fields of the
 * write-marker hashes, both generations) and MEMORY USAGE. Streams and marker hashes (a few
 * hundred keys) are measured exactly; other keys are grouped by shape (tenant and ids
 * blurred, e.g. `rt:{ns}:repo:<name>`) and their bytes extrapolated from a sample.
 */
async function keysByKind(redis: Redis) {
  const SAMPLE = 200;
  const kinds: Record<string, { keys: number; entries: number; bytes: number; sampled: number }> = {};
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', 'rt:*', 'COUNT', 2000);
    cursor = next;
    for (const key of found) {
      const stream = key.includes(':log:trigger:')
        ? 'trigger index'
        : key.includes(':log:repo:')
          ? 'repository index'
          : key.endsWith(':log')
            ? 'namespace log'
            : undefined;
      const markers = !stream && key.includes(':log:writes:') ? 'write markers' : undefined;
      const measured = stream ?? markers;
      const kind =
        measured ??
        key
          .replace(/\{ns:[^}]*\}/, '{ns}')
          .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>')
          .replace(/:(repo|trigger)[^:]*$/, ':<name>');
      const entry = kinds[kind] ?? { keys: 0, entries: 0, bytes: 0, sampled: 0 };
      kinds[kind] = entry;
      entry.keys++;
      if (stream) entry.entries += await redis.xlen(key);
      if (markers) entry.entries += await redis.hlen(key);
      if (measured || entry.sampled < SAMPLE) {
        // SAMPLES 0: every field of a marker hash, not an estimate from 5 of them.
        const bytes = Number(
          (markers ? await redis.memory('USAGE', key, 'SAMPLES', 0) : await redis.memory('USAGE', key)) ?? 0,
        );
        entry.bytes += bytes;
        entry.sampled++;
      }
    }
  } while (cursor !== '0');
  const result: Record<string, { keys: number; entries: number; bytes: number }> = {};
  for (const [kind, { keys, entries, bytes, sampled }] of Object.entries(kinds)) {
    result[kind] = { keys, entries, bytes: Math.round((bytes / Math.max(1, sampled)) * keys) };
  }
  return result;
}

export async function redisMemoryRow(ctx: BenchContext): Promise<RowResult> {
  const total = ctx.options.memoryRecords;
  await ctx.redis.flushall();
  const connection = new Redis(ctx.redisUrl, { connectionName: 'bench-records' });
  const store = new RecordStore(connection, {
    maxAgeMs: 7 * 24 * 3600 * 1000,
    maxRecordsPerNamespace: RETENTION_RECORDS,
  });
  const empty = await usedMemory(ctx.redis);
  const checkpoints = [0.1, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * total));
  const points: Array<Record<string, unknown>> = [];
  const started = nowMs();
  let written = 0;
  for (const checkpoint of checkpoints) {
    while (written < checkpoint) {
      const size = Math.min(BATCH, checkpoint - written);
      const now = Date.now();
      await Promise.all(Array.from({ length: size }, (_, i) => store.append(recordFor(written + i), now)));
      written += size;
    }
    const used = await usedMemory(ctx.redis);
    const streams = await keysByKind(ctx.redis);
    points.push({ records: written, usedMemoryMiB: round((used - empty) / 2 ** 20, 1), streams });
    ctx.log(
      `  ${fmt(written)} records: used_memory +${((used - empty) / 2 ** 20).toFixed(1)} MiB; ` +
        Object.entries(streams)
          .map(
            ([kind, s]) =>
              `${kind}: ${fmt(s.keys)} keys${s.entries ? `, ${fmt(s.entries)} ${kind === 'write markers' ? 'fields' : 'entries'}` : ''}, ${(s.bytes / 2 ** 20).toFixed(1)} MiB`,
          )
          .join(', '),
    );
  }
  const seconds = (nowMs() - started) / 1000;
  await connection.quit();
  const mem = (i: number) => points[i]!.usedMemoryMiB as number;
  const half = mem(2);
  const full = mem(4);
  // Bounded: the second half of the writes adds (almost) nothing.
  const bounded = full - half <= Math.max(1, 0.05 * half);
  const liveLimit = NAMESPACES * RETENTION_RECORDS;
  // What grew in the second half, for the verdict.
  const last = points[4]!.streams as Record<string, { keys: number; bytes: number }>;
  const mid = points[2]!.streams as Record<string, { keys: number; bytes: number }>;
  const growing = Object.entries(last)
    .filter(([kind, s]) => s.bytes - (mid[kind]?.bytes ?? 0) > 0.05 * s.bytes + 65536)
    .map(([kind, s]) => `${kind}: ${fmt(s.keys)} keys, ${fmt(s.bytes / 2 ** 20, 1)} MiB`);
  await ctx.redis.flushall();
  return {
    id: 'redis-memory',
    figure: `Redis used_memory after ${fmt(total)} access records (RecordStore.append, LOG_MAX_RECORDS_PER_NAMESPACE=${RETENTION_RECORDS}, ${NAMESPACES} namespaces x ${REPOSITORIES} repositories x ${TRIGGERS} triggers)`,
    value: `+${fmt(full, 1)} MiB (at ${fmt(checkpoints[2]!)} records: +${fmt(half, 1)} MiB)`,
    baseline: 'none',
    ratio: null,
    target: `bounded by retention (at most ~${fmt(liveLimit)} live records)`,
    met: bounded,
    rounds: [],
    details: { checkpoints: points, appendsPerSecond: Math.round(total / seconds) },
    notes:
      !bounded && growing.length > 0
        ? [`Still growing at the end (not bounded by the retention setting): ${growing.join('; ')}.`]
        : ['Every kind of key stopped growing once retention was reached.'],
  };
}
