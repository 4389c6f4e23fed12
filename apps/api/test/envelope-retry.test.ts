// A large distribution envelope answered 503 after Redis took part or all of it (a deadline
// ran out in the api, the writes went on), then resent whole by the registry, as it does until
// it gets a 2xx: every retry takes exactly what was not taken, and nothing is taken twice.
// An envelope over the limit is refused whole (413) before anything is taken.
import { keys, type PushEventJob, queueNames } from '@registry-triggers/store';
import { redisCommand, uniqueName, useRedis, waitFor } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  type ApiResponse,
  defaultOf,
  digestOf,
  expectProblemShape,
  startApi,
} from './support/api-harness.js';

const V1 = 'application/vnd.docker.distribution.events.v1+json';
/** The largest envelope the api takes by default. */
const EVENTS = defaultOf('MAX_EVENTS_PER_ENVELOPE');
const NAMESPACES = 10;
/** Longer than any deadline here, with room for a busy machine to get the request to Redis. */
const PAUSE_MS = 3000;

const redisServer = useRedis();
/** The api's own deadlines: a 500 ms command timeout, an 800 ms request deadline. */
let api: ApiHarness;
/** Commands may take 5 s, the request may not take more than 300 ms. */
let hasty: ApiHarness;
let probe: Redis;

beforeAll(async () => {
  api = await startApi(redisServer(), {
    commandTimeoutMs: 500,
    ingestDeadlineMs: defaultOf('INGEST_DEADLINE_MS'),
  });
  hasty = await startApi(redisServer(), { commandTimeoutMs: 5000, ingestDeadlineMs: 300 });
  probe = new Redis(redisServer().url);
});
afterAll(async () => {
  probe?.disconnect();
  await hasty?.close();
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
  let dedupeKeys = 0;
  const dedupePrefix = `${keys.queuePrefix(queueNames.pushEvents, 0)}:${queueNames.pushEvents}:de:`;
  for (const ns of namespaces) {
    repositories += await probe.zcard(keys.repositoryIndex(ns));
    dedupeKeys += await countKeys(`${dedupePrefix}${ns}/*`);
  }
  return {
    jobs: mine.length,
    distinctEvents: new Set(mine.map((job) => `${job.data.namespace}/${job.data.eventId}`)).size,
    dedupeKeys,
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

const send = (envelope: unknown, to = api) =>
  to.request('POST', '/v1/events/distribution', { token: to.ingestToken, body: envelope, contentType: V1 });

/** Writes wait in Redis past the api's deadlines, then run: a 503 for writes that happen. */
async function pauseWrites(ms: number) {
  const server = redisServer();
  await redisCommand(server.host, server.port, ['CLIENT', 'PAUSE', String(ms), 'WRITE']);
}

/** As the registry does: the same envelope again until it is answered 2xx. */
function resendUntilTaken(envelope: unknown, to = api): Promise<ApiResponse> {
  return waitFor(
    async () => {
      const answer = await send(envelope, to);
      return answer.status === 202 ? answer : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: 'the resent envelope to be answered 202' },
  );
}

const namespacesOfTest = () => Array.from({ length: NAMESPACES }, () => uniqueName('env'));
const takenOnce = { jobs: EVENTS, distinctEvents: EVENTS, dedupeKeys: EVENTS, repositories: EVENTS };

describe('an envelope answered 503 and resent', () => {
  it('is taken once: the retry takes only what the 503 left, and a later resend is all duplicates', async () => {
    const namespaces = namespacesOfTest();
    const envelope = envelopeOf(namespaces, EVENTS);
    await pauseWrites(PAUSE_MS);
    const refused = await send(envelope);
    // The command timeout, or on a machine so busy that the request started late, its deadline.
    expect(['storage-unavailable', 'ingest-deadline']).toContain(expectProblemShape(refused, 503).code);

    const accepted = await resendUntilTaken(envelope);
    expect(accepted.body.accepted + accepted.body.duplicates).toBe(EVENTS);
    expect(new Set(accepted.body.eventIds).size).toBe(EVENTS);
    expect(await taken(namespaces)).toEqual(takenOnce);

    // A resend after the 202 (the 202 was lost) takes nothing more, id or no id.
    const again = await send(envelope);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: EVENTS, eventIds: accepted.body.eventIds });
    expect(await taken(namespaces)).toEqual(takenOnce);
  });

  it('a request that outlives INGEST_DEADLINE_MS is answered 503 then, and its resend is exact', async () => {
    const namespaces = namespacesOfTest();
    const envelope = envelopeOf(namespaces, EVENTS);
    await pauseWrites(PAUSE_MS);
    const refused = await send(envelope, hasty);
    const problem = expectProblemShape(refused, 503);
    expect(problem.code).toBe('ingest-deadline');
    expect(refused.headers.get('retry-after')).toBe('1');
    // At the deadline, not when the paused writes are done.
    expect(refused.elapsedMs).toBeLessThan(PAUSE_MS - 500);
    await resendUntilTaken(envelope, hasty);
    expect(await taken(namespaces)).toEqual(takenOnce);
  });
});

describe('an envelope over MAX_EVENTS_PER_ENVELOPE', () => {
  it.each([EVENTS + 1, 10_000])(
    'of %i events is 413 naming the limit, and nothing is taken',
    async (size) => {
      const namespaces = namespacesOfTest();
      const problem = expectProblemShape(await send(envelopeOf(namespaces, size)), 413) as ReturnType<
        typeof expectProblemShape
      > & { limit?: number; quota?: string };
      expect(problem).toMatchObject({
        code: 'too-many-events',
        limit: EVENTS,
        quota: 'MAX_EVENTS_PER_ENVELOPE',
      });
      expect(problem.detail).toContain(`at most ${EVENTS} events`);
      expect(await taken(namespaces)).toEqual({ jobs: 0, distinctEvents: 0, dedupeKeys: 0, repositories: 0 });
    },
  );
});
