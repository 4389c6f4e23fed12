/**
 * Rows 1 and 2 (issue 19's ingest rows): how fast the api puts push events durably into the
 * queue. Single-event requests are measured against the minimal ingest server
 * (agents/minimal-ingest.ts: node:http, JSON.parse, one Queue.add), which pays for HTTP as the
 * api does, so the ratio is the price of the api's own stack; 100-event requests against bare
 * `addBulk` from this process. Bare `Queue.add` of single events stays as a diagnostic (how
 * far HTTP itself is from it). No worker runs, so nothing else competes for the cores; Redis
 * is flushed before every phase.
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
/** How long each side of each case runs before anything is measured (see the priming below). */
const PRIMING_MS = 3000;

/** The event every ingest case pushes (job-shape.bench.ts adds its job directly). */
export const event = (seq: number): PushEvent => ({
  namespace: 'bench',
  repository: 'ingest',
  tag: `v${seq}`,
  digest: DIGEST,
});

/** The job the minimal ingest server adds for `event(seq)`: the event, an id and two times. */
export const bareJob = (seq: number) => ({
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

  const bareAdd = async (seq: number) => {
    await queue.add('push', bareJob(seq));
    return 1;
  };
  const cases: Array<{
    id: string;
    figure: string;
    target: number;
    concurrency: number;
    product: (seq: number) => Promise<number>;
    /** The row's baseline. */
    baseline: { name: string; op: (seq: number) => Promise<number> };
    /** A second reference measured in the same round, reported as a diagnostic row. */
    diagnostic?: { id: string; name: string; op: (seq: number) => Promise<number> };
  }> = [
    {
      id: 'ingest-single',
      figure: `ingest events/s, single-event requests (${SINGLE_CLIENTS} keep-alive clients), ours / minimal node:http + Queue.add`,
      target: 0.7,
      concurrency: SINGLE_CLIENTS,
      product: (seq: number) => client.push(event(seq)),
      baseline: {
        name: 'minimal node:http + Queue.add',
        op: (seq: number) => minimalClient.push(event(seq)),
      },
      diagnostic: { id: 'ingest-single-bare', name: 'bare Queue.add', op: bareAdd },
    },
    {
      id: 'ingest-batch',
      figure: `ingest events/s, ${BATCH_SIZE}-event requests (${BATCH_CLIENTS} keep-alive clients), ours / bare addBulk`,
      target: 0.8,
      concurrency: BATCH_CLIENTS,
      product: (seq: number) =>
        client.push(Array.from({ length: BATCH_SIZE }, (_, i) => event(seq * BATCH_SIZE + i))),
      baseline: {
        name: `bare addBulk of ${BATCH_SIZE}`,
        op: async (seq: number) => {
          await queue.addBulk(
            Array.from({ length: BATCH_SIZE }, (_, i) => ({
              name: 'push',
              data: bareJob(seq * BATCH_SIZE + i),
            })),
          );
          return BATCH_SIZE;
        },
      },
    },
  ];

  // The apps run from TypeScript through tsx and start cold: the first phase after start-up
  // measured the api's JIT warming (about 5x its warm CPU per request in a --quick run, where
  // the api goes first), not the api. Each side runs every case once, unmeasured, first.
  for (const c of cases) {
    for (const op of [c.product, c.baseline.op]) {
      const loop = new ClosedLoop({ concurrency: c.concurrency, op });
      await sleep(PRIMING_MS);
      await loop.stop();
    }
  }
  await ctx.redis.flushall();

  const results: RowResult[] = [];
  for (const c of cases) {
    const rounds: Array<Record<string, number | string>> = [];
    const cpuRounds: Array<Record<string, Record<string, number>>> = [];
    const diagnostic: Array<Record<string, number | string>> = [];
    for (let r = 0; r < ctx.options.rounds; r++) {
      // Alternate which goes first so a drift in the machine's load favours none.
      const phases: Array<'product' | 'baseline' | 'diagnostic'> = c.diagnostic
        ? ['product', 'baseline', 'diagnostic']
        : ['product', 'baseline'];
      const order = r % 2 === 0 ? phases : [...phases].reverse();
      const rates: Record<string, number> = {};
      const cpu: Record<string, Record<string, number>> = {};
      let errors = 0;
      for (const which of order) {
        const op = which === 'product' ? c.product : which === 'baseline' ? c.baseline.op : c.diagnostic!.op;
        const measured = await phase(ctx, c.concurrency, op, allPids);
        rates[which] = measured.rate;
        cpu[which] = measured.cpuUs;
        if (which === 'product') errors = measured.errors;
      }
      cpuRounds.push(cpu);
      const ratio = rates.product! / rates.baseline!;
      rounds.push({
        round: r + 1,
        product: Math.round(rates.product!),
        baseline: Math.round(rates.baseline!),
        ratio: round(ratio),
        failedRequests: errors,
      });
      if (c.diagnostic && rates.diagnostic !== undefined) {
        diagnostic.push({
          round: r + 1,
          product: Math.round(rates.product!),
          baseline: Math.round(rates.diagnostic),
          ratio: round(rates.product! / rates.diagnostic),
          [`${c.baseline.name} / ${c.diagnostic.name}`]: round(rates.baseline! / rates.diagnostic),
        });
      }
      ctx.log(
        `  ${c.id} round ${r + 1}: api ${fmt(rates.product!)} /s, ${c.baseline.name} ${fmt(rates.baseline!)} /s, ratio ${ratio.toFixed(2)}${
          c.diagnostic && rates.diagnostic !== undefined
            ? `; ${c.diagnostic.name} ${fmt(rates.diagnostic)} /s`
            : ''
        }`,
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
      baseline: `${c.baseline.name}: ${fmt(median(rounds.map((x) => x.baseline as number)))} events/s`,
      ratio: round(ratio),
      target: `>= ${c.target}x`,
      met: ratio >= c.target,
      rounds,
      details: { cpuUsPerEvent },
      notes: [
        `details.cpuUsPerEvent: CPU microseconds each process spent per accepted event in the measured window (median of rounds), per phase (product: the api; baseline: ${c.baseline.name}${c.diagnostic ? `; diagnostic: ${c.diagnostic.name}` : ''}); "generator" is the load generator (this process).`,
      ],
    });
    if (c.diagnostic && diagnostic.length > 0) {
      const diagnosticRatio = median(diagnostic.map((x) => x.ratio as number));
      const baselineVsDiagnostic = median(
        diagnostic.map((x) => x[`${c.baseline.name} / ${c.diagnostic!.name}`] as number),
      );
      results.push({
        id: c.diagnostic.id,
        figure: `(diagnostic) the same load, ours / ${c.diagnostic.name} of the same job data from the generator`,
        value: `${fmt(median(diagnostic.map((x) => x.product as number)))} events/s (the ${c.baseline.name} server does ${baselineVsDiagnostic}x of ${c.diagnostic.name}: the price of HTTP itself)`,
        baseline: `${c.diagnostic.name}: ${fmt(median(diagnostic.map((x) => x.baseline as number)))} events/s`,
        ratio: round(diagnosticRatio),
        target: 'none (diagnostic)',
        met: null,
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
