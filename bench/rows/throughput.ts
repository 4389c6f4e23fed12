/**
 * Rows 3 and 4: end-to-end deliveries per second with the pipeline kept full (push in →
 * receiver got it), one ALL trigger per push and then ten; the baseline is bare BullMQ
 * (add from this process, a no-op Worker in another) in the same round.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { DIGEST, PushClient } from '../lib/load.js';
import { counterDelta, INGEST_TOKEN, scrapeCounters } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { pushFor, saturate, type Topology } from './pipeline.js';

export const BARE_QUEUE = 'bare';
export const BARE_PREFIX = 'bench';
const CLIENTS = 16;
export const WORKER_COUNTERS = [
  'delivery_attempts_total',
  'delivery_postponed_total',
  'push_evaluations_total',
];

export function bareQueue(ctx: StackContext) {
  const connection = new Redis(ctx.redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: 'bench-bare-queue',
  });
  const queue = new Queue(BARE_QUEUE, { connection, prefix: BARE_PREFIX });
  return {
    queue,
    add: async (seq: number) => {
      await queue.add('push', {
        eventId: randomUUID(),
        namespace: 'bench',
        repository: 'bare',
        tag: `v${seq}`,
        digest: DIGEST,
        pushedAt: Date.now(),
        receivedAt: Date.now(),
      });
      return 1;
    },
    close: async () => {
      await queue.close();
      await connection.quit();
    },
  };
}

export async function throughputRows(ctx: StackContext, topology: Topology): Promise<RowResult[]> {
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, CLIENTS);
  const minimalClient = new PushClient(
    `http://127.0.0.1:${ctx.minimalPipeline.ports.http}`,
    INGEST_TOKEN,
    CLIENTS,
  );
  const bare = bareQueue(ctx);
  const rounds3: Array<Record<string, number | string>> = [];
  const rounds4: Array<Record<string, number | string>> = [];
  const roundsMinimal: Array<Record<string, number | string>> = [];
  const cpuRounds: Array<Record<string, Record<string, number>>> = [];
  const phases = ['bare', 'one', 'fan', 'minimal'] as const;
  for (let r = 0; r < ctx.options.rounds; r++) {
    const shift = r % phases.length;
    const order = [...phases.slice(shift), ...phases.slice(0, shift)];
    const rates: Record<string, number> = {};
    const postponed: Record<string, number> = {};
    const cpu: Record<string, Record<string, number>> = {};
    for (const which of order) {
      ctx.setPhase(`throughput ${which} r${r + 1}`);
      const before = await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS);
      const result =
        which === 'bare'
          ? await saturate(ctx, {
              concurrency: CLIENTS,
              cap: 1000,
              fanout: 1,
              sink: ctx.bareWorker,
              labels: ['completed'],
              send: bare.add,
            })
          : which === 'minimal'
            ? await saturate(ctx, {
                concurrency: CLIENTS,
                cap: 1000,
                fanout: 1,
                sink: ctx.receiver,
                labels: ['minimal'],
                send: (seq) => minimalClient.push(pushFor(topology.one, `v${seq % 1000}`)),
              })
            : await saturate(ctx, {
                concurrency: CLIENTS,
                cap: which === 'one' ? 1000 : 2000,
                fanout: which === 'one' ? 1 : 10,
                sink: ctx.receiver,
                labels: ['fast'],
                send: (seq) =>
                  client.push(pushFor(which === 'one' ? topology.one : topology.fan, `v${seq % 1000}`)),
              });
      const delta = counterDelta(before, await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS));
      rates[which] = result.rate;
      cpu[which] = result.cpuMsPerUnit;
      postponed[which] = Object.entries(delta)
        .filter(([key]) => key.startsWith('delivery_postponed_total'))
        .reduce((sum, [, value]) => sum + value, 0);
    }
    const ratio3 = rates.one! / rates.bare!;
    const ratio4 = rates.fan! / rates.one!;
    rounds3.push({
      round: r + 1,
      product: Math.round(rates.one!),
      baseline: Math.round(rates.bare!),
      ratio: round(ratio3),
      postponed: postponed.one ?? 0,
    });
    rounds4.push({
      round: r + 1,
      product: Math.round(rates.fan!),
      baseline: Math.round(rates.one!),
      ratio: round(ratio4),
      postponed: postponed.fan ?? 0,
    });
    roundsMinimal.push({
      round: r + 1,
      product: Math.round(rates.one!),
      baseline: Math.round(rates.minimal!),
      ratio: round(rates.one! / rates.minimal!),
      productCpuMs: round(stackCpuMs(cpu.one ?? {}), 3),
      baselineCpuMs: round(stackCpuMs(cpu.minimal ?? {}), 3),
    });
    cpuRounds.push(cpu);
    ctx.log(
      `  e2e round ${r + 1}: bare ${fmt(rates.bare!)} /s, minimal pipeline ${fmt(rates.minimal!)} /s, 1 trigger ${fmt(rates.one!)} /s, 10 triggers ${fmt(rates.fan!)} deliveries/s`,
    );
  }
  await client.close();
  await minimalClient.close();
  await bare.close();
  const ratio3 = median(rounds3.map((x) => x.ratio as number));
  const ratio4 = median(rounds4.map((x) => x.ratio as number));
  const ratioMinimal = median(roundsMinimal.map((x) => x.ratio as number));
  const productCpuMs = median(roundsMinimal.map((x) => x.productCpuMs as number));
  const baselineCpuMs = median(roundsMinimal.map((x) => x.baselineCpuMs as number));
  const med = (rows: typeof rounds3, key: string) => fmt(median(rows.map((x) => x[key] as number)));
  const cpuMsPerUnit = Object.fromEntries(
    phases.map((phase) => {
      const names = Object.keys(cpuRounds[0]?.[phase] ?? {});
      return [
        phase,
        Object.fromEntries(
          names.map((name) => [name, round(median(cpuRounds.map((c) => c[phase]?.[name] ?? Number.NaN)), 3)]),
        ),
      ];
    }),
  );
  const cpuNote =
    'details.cpuMsPerUnit: CPU milliseconds each process spent per delivery (per job for bare) in the measured windows, median of rounds; total = the whole machine cost of one unit.';
  return [
    {
      id: 'e2e-one',
      figure: `end-to-end deliveries/s, one ALL trigger per push (${CLIENTS} clients, single-event pushes)`,
      value: `${med(rounds3, 'product')} deliveries/s`,
      baseline: `bare BullMQ add + no-op worker: ${med(rounds3, 'baseline')} jobs/s`,
      ratio: round(ratio3),
      target: '>= 0.5x',
      met: ratio3 >= 0.5,
      rounds: rounds3,
      details: { cpuMsPerUnit },
      notes: [cpuNote],
    },
    {
      id: 'e2e-fanout',
      figure: 'end-to-end deliveries/s, 10 matching triggers per push (fan-out)',
      value: `${med(rounds4, 'product')} deliveries/s`,
      baseline: `the row above: ${med(rounds4, 'baseline')} deliveries/s`,
      ratio: round(ratio4),
      target: '>= 0.8x',
      met: ratio4 >= 0.8,
      rounds: rounds4,
    },
    {
      id: 'e2e-minimal',
      figure: 'end-to-end deliveries/s, one ALL trigger per push, against the minimal two-hop pipeline',
      value: `${med(roundsMinimal, 'product')} deliveries/s`,
      baseline: `minimal pipeline (node:http + Queue.add, fan-out worker, undici POST + XADD): ${med(roundsMinimal, 'baseline')} deliveries/s`,
      ratio: round(ratioMinimal),
      target: '>= 0.7x',
      met: ratioMinimal >= 0.7,
      rounds: roundsMinimal,
    },
    {
      id: 'cpu-per-notification',
      figure: 'machine CPU per notification (api + worker + Redis), one ALL trigger, pipeline full',
      value: `${fmt(productCpuMs, 3)} ms`,
      baseline: `minimal pipeline (its process + Redis): ${fmt(baselineCpuMs, 3)} ms`,
      ratio: round(productCpuMs / baselineCpuMs),
      target: '<= 1.0 ms',
      met: productCpuMs <= 1.0,
      rounds: roundsMinimal,
      notes: [
        'CPU from /proc/<pid>/stat over the measured window of the e2e phases above; the ratio is informative, the target is absolute.',
      ],
    },
  ];
}

/** CPU ms per unit of the processes that do the work of one path: ours or the minimal pipeline's. */
function stackCpuMs(perProcess: Record<string, number>): number {
  const names = ['api', 'worker', 'minimalPipeline', 'redis', 'redis replica'];
  return names.reduce((sum, name) => sum + (perProcess[name] ?? 0), 0);
}
