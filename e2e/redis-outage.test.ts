/**
 * A Redis outage under the running apps, as an operator reads it in their logs: the apps
 * warn and reconnect by themselves, and no connection of theirs (the api's delivery-events
 * reader, a live tail's blocking read) leaves ioredis to print "Unhandled error event" with a
 * stack trace on every failed reconnect.
 */
import {
  type Receiver,
  type RedisHandle,
  startReceiver,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, type Stack, startStack } from './support/stack.js';

let redis: RedisHandle;
let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  // The local binary, which the test kills and starts again on the same port, with its data
  // (append-only, fsynced) kept across the kill.
  redis = await startRedis({ outage: true, persistent: true });
  stack = await startStack({ redis });
  receiver = await startReceiver();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await redis?.stop();
});

async function readyBoth(status: number): Promise<boolean> {
  const answers = await Promise.all(
    [stack.apiUrl, stack.logsUrl].map((url) => fetch(`${url}/readyz`).then((r) => r.status)),
  );
  return answers.every((answer) => answer === status);
}

it('logs no unhandled ioredis error while Redis is down, and serves again once it is back', async () => {
  const trigger = await stack.createTrigger('outage', 'app', {
    name: 'probe',
    url: receiver.url,
    type: 'ALL',
  });
  // A test delivery makes the api follow the delivery events on a connection of its own.
  const tested = await stack.call(
    'POST',
    `/v1/namespaces/outage/repositories/app/triggers/${trigger.id}/test`,
  );
  expect(tested.status).toBe(200);
  // A live tail holds a blocking connection of the logs app.
  const tail = new AbortController();
  const stream = await fetch(`${stack.logsUrl}/v1/namespaces/outage/records/stream`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: tail.signal,
  });
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  await reader.read();

  await redis.kill!();
  await waitFor(() => readyBoth(503), { timeoutMs: 10_000, message: 'both apps not ready' });
  // Reconnects fail meanwhile: each app warns of them on its shared connection.
  const warnings = (app: { output(): string[] }) =>
    app.output().filter((line) => line.includes('redis error')).length;
  await waitFor(() => warnings(stack.api) >= 3 && warnings(stack.logs) >= 3, {
    timeoutMs: 20_000,
    message: 'three failed reconnects in each app',
  });
  await redis.start!();
  await waitFor(() => readyBoth(200), { timeoutMs: 20_000, message: 'both apps ready again' });
  tail.abort();

  for (const app of [stack.api, stack.logs, ...stack.workers]) {
    const output = app.output().join('\n');
    expect(output).not.toContain('Unhandled error event');
  }
  // And the product works again: a push is delivered.
  await stack.push({
    namespace: 'outage',
    repository: 'app',
    tag: 'after',
    digest: `sha256:${'c'.repeat(64)}`,
  });
  await receiver.waitForRequests(2, 20_000);
}, 60_000);
