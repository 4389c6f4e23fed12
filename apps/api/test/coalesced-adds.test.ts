// The adds of one turn share a socket write to Redis; each request still gets its own jobs.

import type { Socket } from 'node:net';
import {
  createRedis,
  EVENT_DEDUPE_TTL_MS,
  type PushEventJob,
  queueOptions,
  type RedisConnection,
} from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CoalescedAdds, type PushJob } from '../src/coalesced-adds.js';

const redisServer = useRedis();
let redis: RedisConnection;
let queue: Queue<PushEventJob>;

beforeAll(async () => {
  // The api's own connection: its writes are batched per turn (store/write-batching.ts).
  redis = createRedis({ REDIS_URL: redisServer().url }, { role: 'fail-fast', name: 'coalesced-adds-test' });
  queue = new Queue<PushEventJob>(uniqueName(), {
    ...queueOptions('push-events', 0, redis),
    prefix: uniqueName(),
  });
  await queue.waitUntilReady();
  // The first add of a script sends it again after Redis answers NOSCRIPT: not what is measured.
  await queue.add('push', job(uniqueName(), 'warm-up').data);
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

/** Socket writes (syscalls) the client made to Redis while `work` ran: its flushes, one or many commands each. */
async function writesDuring(work: () => Promise<unknown>): Promise<number> {
  const socket = (redis as unknown as { stream: Socket }).stream as Socket & {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  let writes = 0;
  const { _write, _writev } = socket;
  socket._write = (...args) => {
    writes++;
    _write.apply(socket, args);
  };
  socket._writev = (...args) => {
    writes++;
    _writev.apply(socket, args);
  };
  try {
    await work();
  } finally {
    socket._write = _write;
    socket._writev = _writev;
  }
  return writes;
}

/**
 * Runs each call in its own callback of one turn of the event loop, as requests are (each
 * read in its own I/O callback), so each ends with its own flush of the socket.
 */
function inSeparateCallbacks<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
  return Promise.all(
    calls.map(
      (call) => new Promise<T>((resolve, reject) => setImmediate(() => call().then(resolve, reject))),
    ),
  );
}

it('the adds of one turn go out together; each caller gets its own jobs, in its order, duplicates included', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  let answers: Array<Awaited<ReturnType<CoalescedAdds['add']>>> = [];
  const waitingBefore = (await queue.getJobCounts('waiting')).waiting ?? 0;
  const writes = await writesDuring(async () => {
    answers = await inSeparateCallbacks([
      () => adds.add(queue, [job(ns, 'a')]),
      () => adds.add(queue, [job(ns, 'b'), job(ns, 'c')]),
      // Already added by the first caller, in the same turn: the script finds its dedupe key.
      () => adds.add(queue, [job(ns, 'a')]),
    ]);
  });
  expect(writes).toBe(1);
  expect(answers.map((jobs) => jobs.map((j) => j.data.eventId))).toEqual([['a'], ['b', 'c'], ['a']]);
  // A deduplicated add answers with the id of the job that already carries the event.
  expect(answers[2]![0]!.id).toBe(answers[0]![0]!.id);
  expect(((await queue.getJobCounts('waiting')).waiting ?? 0) - waitingBefore).toBe(3);
});

it('adds of later turns go out on their own', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  const first = await adds.add(queue, [job(ns, 'x')]);
  const second = await adds.add(queue, [job(ns, 'y')]);
  expect([first[0]!.data.eventId, second[0]!.data.eventId]).toEqual(['x', 'y']);
});

it('a caller fails when its own adds fail', async () => {
  const ns = uniqueName();
  const adds = new CoalescedAdds();
  const broken = new Redis(redisServer().url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
  const closedQueue = new Queue<PushEventJob>(uniqueName(), { connection: broken, prefix: uniqueName() });
  await closedQueue.waitUntilReady();
  broken.disconnect();
  const results = await Promise.allSettled([
    adds.add(closedQueue, [job(ns, 'p')]),
    adds.add(queue, [job(ns, 'q')]),
    adds.add(closedQueue, [job(ns, 'r')]),
  ]);
  // The caller whose adds were taken in the same turn is told so.
  expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
  await closedQueue.close().catch(() => {});
});
