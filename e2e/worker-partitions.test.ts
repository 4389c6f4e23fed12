/**
 * With QUEUE_PARTITIONS > 1, a worker told to take a subset (WORKER_PARTITIONS) delivers the
 * events of its partitions only; the others wait, untouched, for a worker that takes them.
 */
import { partitionFor } from '@registry-triggers/store';
import { type Receiver, sleep, startReceiver } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

const PARTITIONS = 3;
const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';

/** Two repositories of namespace `ns` that live in different partitions. */
function repositoriesInTwoPartitions(ns: string): Array<{ name: string; partition: number }> {
  const first = { name: 'app0', partition: partitionFor(ns, 'app0', PARTITIONS) };
  for (let i = 1; ; i++) {
    const partition = partitionFor(ns, `app${i}`, PARTITIONS);
    if (partition !== first.partition) return [first, { name: `app${i}`, partition }];
  }
}

let stack: Stack;
let receiver: Receiver;
const ns = 'parts';
const [mine, theirs] = repositoriesInTwoPartitions(ns);

beforeAll(async () => {
  receiver = await startReceiver();
  stack = await startStack({
    env: { QUEUE_PARTITIONS: String(PARTITIONS) },
    workerEnv: { WORKER_PARTITIONS: String(mine!.partition) },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

it('a worker consumes only the partitions it is given; another worker takes the rest', async () => {
  for (const repository of [mine!, theirs!]) {
    await stack.createTrigger(ns, repository.name, { name: 'all', url: receiver.url, type: 'ALL' });
  }
  const pushed = await stack.push(
    [mine!, theirs!].map((repository) => ({
      namespace: ns,
      repository: repository.name,
      tag: 'v1',
      digest: DIGEST,
    })),
  );
  expect(pushed.status).toBe(202);

  const [first] = await receiver.waitForRequests(1, 20_000);
  expect(JSON.parse(first!.body).repository.name).toBe(mine!.name);
  await sleep(1500);
  expect(receiver.requests).toHaveLength(1);

  await stack.startWorker({ WORKER_PARTITIONS: String(theirs!.partition) });
  const both = await receiver.waitForRequests(2, 20_000);
  expect(JSON.parse(both[1]!.body).repository.name).toBe(theirs!.name);
});
