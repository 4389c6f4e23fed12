/**
 * Rows 1 and 2: how fast the api puts push events durably into the queue, against bare
 * BullMQ adding the same jobs from the same process at the same concurrency. No worker
 * runs, so nothing else competes for the cores; Redis is flushed before every phase.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { forkAgent } from '../lib/agents.js';
import { type BenchContext, fmt, type RowResult } from '../lib/context.js';
import { ClosedLoop, DIGEST, PushClient, type PushEvent } from '../lib/load.js';
import { cpuOf } from '../lib/machine.js';
import { INGEST_TOKEN } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';

const SINGLE_CLIENTS = 32;
const BATCH_CLIENTS = 8;
const BATCH_SIZE = 100;

const event = (seq: number): PushEvent => ({
  namespace: 'bench',
  repository: 'ingest',
  tag: `v${seq}`,
  digest: DIGEST,
});

const bareJob = (seq: number) => ({
  eventId: randomUUID(),
  namespace: 'bench',
  repository: 'ingest',
  tag: `v${seq}`,
  digest: DIGEST,
  pushedAt: Date.now(),
  receivedAt: Date.now(),
});

/** One measured phase of a closed loop on an empty Redis: events/s and CPU per event per process. */
export async function phase(
  ctx: BenchContext,
  concurrency: number,
  op: (seq: number) => Promise<number>,
  pids: Record<string, number>,
) {
  await ctx.redis.flushall();
  const loop = new ClosedLoop({ concurrency, op });
  await sleep(ctx.options.warmupMs);
  const before = { units: loop.completed, cpu: cpuOf(pids) };
  const rate = await loop.measure(ctx.options.windowMs);
  const units = loop.completed - before.units;
  const after = cpuOf(pids);
  await loop.stop();
  if (loop.errors > 0) ctx.log(`  ${loop.errors} failed requests (last: ${loop.lastError})`);
  // CPU microseconds per event, per process, in the measured window.
  const cpuUs: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after)) {
    cpuUs[name] = Math.round(((seconds - (before.cpu[name] ?? seconds)) * 1e6) / Math.max(1, units));
  }
  return { rate, errors: loop.errors, cpuUs };
}

export async function ingestRows(
  ctx: BenchContext,
  apiUrl: string,
  pids: Record<string, number>,
): Promise<RowResult[]> {
  const connection = new Redis(ctx.redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: 'bench-bare-queue',
  });
  const queue = new Queue('bare-ingest', { connection, prefix: 'bench' });
  await queue.waitUntilReady();
  const client = new PushClient(apiUrl, INGEST_TOKEN, Math.max(SINGLE_CLIENTS, BATCH_CLIENTS));
  const minimal = await forkAgent('minimal-ingest.ts', { redisUrl: ctx.redisUrl });
  const minimalClient = new PushClient(
    `http://127.0.0.1:${minimal.ports.http}`,
    INGEST_TOKEN,
    SINGLE_CLIENTS,
  );
  const allPids = { ...pids, minimal: minimal.pid };

  const cases: Array<{
    id: string;
    figure: string;
    baselineName: string;
    target: number;
    concurrency: number;
    product: (seq: number) => Promise<number>;
    bare: (seq: number) => Promise<number>;
    minimal?: (seq: number) => Promise<number>;
  }> = [
    {
      id: 'ingest-single',
      figure: `ingest events/s, single-event requests (${SINGLE_CLIENTS} keep-alive clients)`,
      baselineName: 'bare Queue.add',
      target: 0.5,
      concurrency: SINGLE_CLIENTS,
      product: (seq: number) => client.push(event(seq)),
      minimal: (seq: number) => minimalClient.push(event(seq)),
      bare: async (seq: number) => {
        await queue.add('push', bareJob(seq));
        return 1;
      },
    },
    {
      id: 'ingest-batch',
      figure: `ingest events/s, ${BATCH_SIZE}-event requests (${BATCH_CLIENTS} keep-alive clients)`,
      baselineName: `bare addBulk of ${BATCH_SIZE}`,
      target: 0.8,
      concurrency: BATCH_CLIENTS,
      product: (seq: number) =>
        client.push(Array.from({ length: BATCH_SIZE }, (_, i) => event(seq * BATCH_SIZE + i))),
      bare: async (seq: number) => {
        await queue.addBulk(
          Array.from({ length: BATCH_SIZE }, (_, i) => ({
            name: 'push',
            data: bareJob(seq * BATCH_SIZE + i),
          })),
        );
        return BATCH_SIZE;
      },
    },
  ];

  const results: RowResult[] = [];
  for (const c of cases) {
    const rounds: Array<Record<string, number | string>> = [];
    const cpuRounds: Array<Record<string, Record<string, number>>> = [];
    const diagnostic: Array<Record<string, number | string>> = [];
    for (let r = 0; r < ctx.options.rounds; r++) {
      // Alternate which goes first so a drift in the machine's load favours none.
      const phases: Array<'product' | 'bare' | 'minimal'> = c.minimal
        ? ['product', 'bare', 'minimal']
        : ['product', 'bare'];
      const order = r % 2 === 0 ? phases : [...phases].reverse();
      const rates: Record<string, number> = {};
      const cpu: Record<string, Record<string, number>> = {};
      let errors = 0;
      for (const which of order) {
        const op = which === 'product' ? c.product : which === 'bare' ? c.bare : (c.minimal ?? c.bare);
        const measured = await phase(ctx, c.concurrency, op, allPids);
        rates[which] = measured.rate;
        cpu[which] = measured.cpuUs;
        if (which === 'product') errors = measured.errors;
      }
      cpuRounds.push(cpu);
      const ratio = rates.product! / rates.bare!;
      rounds.push({
        round: r + 1,
        product: Math.round(rates.product!),
        baseline: Math.round(rates.bare!),
        ratio: round(ratio),
        failedRequests: errors,
      });
      if (rates.minimal !== undefined) {
        diagnostic.push({
          round: r + 1,
          product: Math.round(rates.minimal),
          baseline: Math.round(rates.bare!),
          ratio: round(rates.minimal / rates.bare!),
          apiVsMinimal: round(rates.product! / rates.minimal),
        });
      }
      ctx.log(
        `  ${c.id} round ${r + 1}: api ${fmt(rates.product!)} /s, ${c.baselineName} ${fmt(rates.bare!)} /s, ratio ${ratio.toFixed(2)}`,
      );
    }
    const ratio = median(rounds.map((x) => x.ratio as number));
    const cpuUsPerEvent = Object.fromEntries(
      Object.keys(cpuRounds[0] ?? {}).map((which) => [
        which,
        Object.fromEntries(
          Object.keys(cpuRounds[0]?.[which] ?? {}).map((name) => [
            name,
            median(cpuRounds.map((cpu) => cpu[which]?.[name] ?? Number.NaN)),
          ]),
        ),
      ]),
    );
    results.push({
      id: c.id,
      figure: c.figure,
      value: `${fmt(median(rounds.map((x) => x.product as number)))} events/s`,
      baseline: `${c.baselineName}: ${fmt(median(rounds.map((x) => x.baseline as number)))} events/s`,
      ratio: round(ratio),
      target: `>= ${c.target}x`,
      met: ratio >= c.target,
      rounds,
      details: { cpuUsPerEvent },
      notes: [
        'details.cpuUsPerEvent: CPU microseconds each process spent per accepted event in the measured window (median of rounds); "generator" is the load generator (this process).',
      ],
    });
    if (diagnostic.length > 0) {
      const minimalRatio = median(diagnostic.map((x) => x.ratio as number));
      results.push({
        id: `${c.id}-minimal`,
        figure: '(diagnostic) the same load on a minimal node:http server doing JSON.parse + one Queue.add',
        value: `${fmt(median(diagnostic.map((x) => x.product as number)))} events/s (the api does ${median(diagnostic.map((x) => x.apiVsMinimal as number))}x of it)`,
        baseline: `${c.baselineName}: ${fmt(median(diagnostic.map((x) => x.baseline as number)))} events/s`,
        ratio: round(minimalRatio),
        target: `>= ${c.target}x`,
        met: minimalRatio >= c.target,
        rounds: diagnostic,
      });
    }
  }
  await client.close();
  await minimalClient.close();
  await minimal.close();
  await queue.close();
  await connection.quit();
  await ctx.redis.flushall();
  return results;
}
