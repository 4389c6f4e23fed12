// A large distribution envelope answered 503 after Redis took part or all of it (a client
// deadline ran out, the writes went on), then resent whole by the registry, as it does until
// it gets a 2xx: every retry takes exactly what was not taken, and nothing is taken twice.
import { keys, type PushEventJob, queueNames } from '@registry-triggers/store';
import { redisCommand, uniqueName, useRedis, waitFor } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  type ApiResponse,
  digestOf,
  expectProblemShape,
  startApi,
} from './support/api-harness.js';

const V1 = 'application/vnd.docker.distribution.events.v1+json';
const EVENTS = 1000;
const NAMESPACES = 10;

const redisServer = useRedis();
let api: ApiHarness;
let probe: Redis;

beforeAll(async () => {
  // The api's default command deadline: the one a slow or paused Redis runs out.
  api = await startApi(redisServer(), { commandTimeoutMs: 500 });
  probe = new Redis(redisServer().url);
});
afterAll(async () => {
  probe?.disconnect();
  await api?.close();
});

async function countKeys(pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, found] = await probe.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += found.length;
  } while (cursor !== '0');
  return count;
}

/** What Redis holds of the envelope: queued events, dedupe keys, repositories. */
async function taken(namespaces: string[]) {
  const queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  const mine = jobs.filter((job) => namespaces.includes(job.data.namespace));
  let repositories = 0;
  for (const ns of namespaces) repositories += await probe.zcard(keys.repositoryIndex(ns));
  return {
    jobs: mine.length,
    distinctEvents: new Set(mine.map((job) => `${job.data.namespace}/${job.data.eventId}`)).size,
    dedupeKeys: await countKeys(
      `${keys.queuePrefix(queueNames.pushEvents, 0)}:${queueNames.pushEvents}:de:*`,
    ),
    repositories,
  };
}

/** Distinct repositories over several namespaces; every other event without an id. */
function envelopeOf(namespaces: string[], size: number) {
  return {
    events: Array.from({ length: size }, (_, i) => ({
      ...(i % 2 === 0 ? { id: `evt-${i}` } : {}),
      action: 'push',
      timestamp: new Date(1_700_000_000_000 + i).toISOString(),
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        repository: `${namespaces[i % namespaces.length]}/repo-${i}`,
        tag: 'v1',
        digest: digestOf(i),
      },
    })),
  };
}

const send = (envelope: unknown) =>
  api.request('POST', '/v1/events/distribution', { token: api.ingestToken, body: envelope, contentType: V1 });

describe('an envelope answered 503 and resent', () => {
  it('is taken once: the retry takes only what the 503 left, and a later resend is all duplicates', async () => {
    const namespaces = Array.from({ length: NAMESPACES }, () => uniqueName('env'));
    const envelope = envelopeOf(namespaces, EVENTS);
    const server = redisServer();
    // Writes wait in Redis past the api's deadline, then run: a 503 for writes that happen.
    await redisCommand(server.host, server.port, ['CLIENT', 'PAUSE', '1500', 'WRITE']);
    const refused = await send(envelope);
    expect(expectProblemShape(refused, 503).code).toBe('storage-unavailable');

    // As the registry does: the same envelope again until it is answered 2xx.
    const answers: ApiResponse[] = [];
    const accepted = await waitFor(
      async () => {
        const answer = await send(envelope);
        answers.push(answer);
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'the resent envelope to be answered 202' },
    );
    expect(accepted.body.accepted + accepted.body.duplicates).toBe(EVENTS);
    expect(new Set(accepted.body.eventIds).size).toBe(EVENTS);
    const once = { jobs: EVENTS, distinctEvents: EVENTS, dedupeKeys: EVENTS, repositories: EVENTS };
    expect(await taken(namespaces)).toEqual(once);

    // A resend after the 202 (the 202 was lost) takes nothing more, id or no id.
    const again = await send(envelope);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: EVENTS, eventIds: accepted.body.eventIds });
    expect(await taken(namespaces)).toEqual(once);
  });
});
