// The adds of one turn share a round trip to Redis; each request still gets its own jobs.
import { EVENT_DEDUPE_TTL_MS, type PushEventJob, queueOptions } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CoalescedAdds, type PushJob } from '../src/coalesced-adds.js';

const redisServer = useRedis();
let redis: Redis;
let queue: Queue<PushEventJob>;

beforeAll(async () => {
  redis = new Redis(redisServer().url, { maxRetriesPerRequest: 1 });
  queue = new Queue<PushEventJob>(uniqueName(), {
    ...queueOptions('push-events', 0, redis),
    prefix: uniqueName(),
  });
  await queue.waitUntilReady();
});
afterAll(async () => {
  await queue.close();
  await redis.quit();
});

const job = (namespace: string, eventId: string): PushJob => ({
  name: 'push',
  data: {
    eventId,
    namespace,
    repository: 'app',
    tag: eventId,
    digest: `sha256:${'a'.repeat(64)}`,
    pushedAt: 1,
    receivedAt: 1,
  },
  opts: { deduplication: { id: `${namespace}/${eventId}`, ttl: EVENT_DEDUPE_TTL_MS } },
});

/** Round trips the client made to Redis while `work` ran (one per pipeline or command). */
async function writesDuring(work: () => Promise<unknown>): Promise<number> {
  const connection = (redis as unknown as { stream: NodeJS.WritableStream }).stream;
  let writes = 0;
  const write = connection.write.bind(connection);
  connection.write = ((...args: Parameters<typeof write>) => {
    writes++;
    return write(...args);
  }) as typeof write;
  try {
    await work();
  } finally {
    connection.write = write;
  }
  return writes;
}

it('the adds of one turn go out together; each caller gets its own jobs, in its order, duplicates included', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  let answers: Array<Awaited<ReturnType<CoalescedAdds['add']>>> = [];
  const writes = await writesDuring(async () => {
    answers = await Promise.all([
      adds.add(queue, [job(ns, 'a')]),
      adds.add(queue, [job(ns, 'b'), job(ns, 'c')]),
      // Already added by the first caller, in the same turn: the script finds its dedupe key.
      adds.add(queue, [job(ns, 'a')]),
    ]);
  });
  expect(writes).toBe(1);
  expect(answers.map((jobs) => jobs.map((j) => j.data.eventId))).toEqual([['a'], ['b', 'c'], ['a']]);
  // A deduplicated add answers with the id of the job that already carries the event.
  expect(answers[2]![0]!.id).toBe(answers[0]![0]!.id);
  expect((await queue.getJobCounts('waiting')).waiting).toBe(3);
});

it('adds of later turns go out on their own', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  const first = await adds.add(queue, [job(ns, 'x')]);
  const second = await adds.add(queue, [job(ns, 'y')]);
  expect([first[0]!.data.eventId, second[0]!.data.eventId]).toEqual(['x', 'y']);
});

it('a failed round trip fails every caller of it', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  const broken = new Redis(redisServer().url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
  const closedQueue = new Queue<PushEventJob>(uniqueName(), { connection: broken, prefix: uniqueName() });
  await closedQueue.waitUntilReady();
  broken.disconnect();
  const results = await Promise.allSettled([
    adds.add(closedQueue, [job(ns, 'p')]),
    adds.add(closedQueue, [job(ns, 'q')]),
  ]);
  expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  await closedQueue.close().catch(() => {});
});
