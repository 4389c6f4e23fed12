/**
 * What the push-event job's own options cost per `Queue.add`, on the api's side and on
 * Redis's: the guarantees an ingested event carries (retries and removal, a job id of its
 * own, the 24 h dedupe key of its event id) added one at a time to the bare add the minimal
 * ingest server makes (agents/minimal-ingest.ts). The last case is the api's own job,
 * built by `pushJobFor` (apps/api/src/ingest.ts), so the figures follow the product.
 * Adds go 32 at a time, each batch in one turn as concurrent requests make them, on a
 * connection that batches its writes per turn as the api's does (createRedis).
 * Run: node --conditions=source --import tsx bench/job-shape.bench.ts
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createRedis, type PushEventJob, pushEventJobOptions } from '@registry-triggers/store';
import { startRedis } from '@registry-triggers/testing';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pushJobFor } from '../apps/api/src/ingest.js';
import { infoSection } from './lib/redis-info.js';
import { median } from './lib/stats.js';
import { bareJob, event } from './rows/ingest.js';

const ADDS_PER_ROUND = Number(process.env.ADDS ?? 20_000);
const ROUNDS = 5;
const IN_FLIGHT = 32;

type Add = (queue: Queue<PushEventJob>, seq: number) => Promise<unknown>;
const cases: Array<[string, Add]> = [
  ["bare add (the minimal server's)", (queue, seq) => queue.add('push', bareJob(seq))],
  [
    '+ retries and removal (pushEventJobOptions)',
    (queue, seq) => queue.add('push', bareJob(seq), { ...pushEventJobOptions }),
  ],
  [
    '+ a job id of its own',
    (queue, seq) => queue.add('push', bareJob(seq), { ...pushEventJobOptions, jobId: randomUUID() }),
  ],
  [
    "+ the 24 h dedupe key: the api's job (pushJobFor)",
    (queue, seq) => {
      const job = pushJobFor(event(seq), randomUUID(), Date.now(), { requestId: randomUUID() });
      return queue.add(job.name, job.data, job.opts);
    },
  ],
];

const redisCpu = async (redis: Redis) => {
  const cpu = await infoSection(redis, 'cpu');
  return Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys);
};

const server = await startRedis({ outage: true });
const connection = createRedis(
  { REDIS_URL: server.url },
  { role: 'fail-fast', commandTimeoutMs: 5000, name: 'bench-job-shape' },
) as Redis;
const queue = new Queue<PushEventJob>('job-shape', { connection, prefix: 'bench' });
await queue.waitUntilReady();

const results = new Map<string, Array<{ clientUs: number; redisUs: number; rate: number }>>();
for (let round = 0; round <= ROUNDS; round++) {
  // Round 0 warms every case up and is not kept.
  for (const [name, add] of cases) {
    await connection.flushall();
    const redisBefore = await redisCpu(connection);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let seq = 0; seq < ADDS_PER_ROUND; seq += IN_FLIGHT)
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => add(queue, seq + i)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const redisSeconds = (await redisCpu(connection)) - redisBefore;
    if (round === 0) continue;
    const kept = results.get(name) ?? [];
    kept.push({
      clientUs: (cpu.user + cpu.system) / ADDS_PER_ROUND,
      redisUs: (redisSeconds * 1e6) / ADDS_PER_ROUND,
      rate: ADDS_PER_ROUND / seconds,
    });
    results.set(name, kept);
  }
}
await queue.close();
await connection.quit();
await server.stop();

console.log(
  `${cpus().length} cores, node ${process.version}, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ` + `${ROUNDS} rounds of ${ADDS_PER_ROUND.toLocaleString('en-US')} adds per case, median`,
);
console.log('| job | client CPU µs/add | Redis CPU µs/add | adds/s |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name] of cases) {
  const kept = results.get(name) ?? [];
  const m = (pick: (x: (typeof kept)[number]) => number) => median(kept.map(pick));
  console.log(
    `| ${name} | ${m((x) => x.clientUs).toFixed(1)} | ${m((x) => x.redisUs).toFixed(1)} | ${Math.round(m((x) => x.rate)).toLocaleString('en-US')} |`,
  );
}
