// Ingestion over real HTTP: what a registry posts, what the api answers, and what
// actually lands in the BullMQ push-event queue.
import { readFile } from 'node:fs/promises';
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { redisInfo, uniqueName, useRedis } from '@registry-triggers/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

interface FixtureRequest {
  contentType: string;
  envelope: { events: Array<Record<string, unknown> & { id: string; timestamp: string }> };
}

const fixture = JSON.parse(
  await readFile(new URL('./fixtures/distribution-2.8-skopeo-push.json', import.meta.url), 'utf8'),
) as { requests: FixtureRequest[] };

const V1 = 'application/vnd.docker.distribution.events.v1+json';
const V2 = 'application/vnd.docker.distribution.events.v2+json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const redisServer = useRedis();
let api: ApiHarness;
let queue: Queue<PushEventJob>;

beforeAll(async () => {
  api = await startApi(redisServer(), { maxBodyBytes: 512 * 1024 });
  queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
});
afterAll(async () => {
  await api?.close();
});

const push = (body: unknown, token = api.ingestToken, contentType?: string) =>
  api.request('POST', '/v1/events/push', { token, body, ...(contentType ? { contentType } : {}) });

const event = (ns: string, i: number, extra: { eventId?: string; pushedAt?: string } = {}) => ({
  namespace: ns,
  repository: 'team/app',
  tag: `v${i}`,
  digest: digestOf(i),
  ...extra,
});

/** Jobs of one namespace waiting in the push-event queue, oldest first. */
async function queuedFor(namespace: string): Promise<PushEventJob[]> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  return jobs.filter((job) => job?.data.namespace === namespace).map((job) => job.data);
}

describe('POST /v1/events/push', () => {
  it('one event: 202, a generated event id, and the job in the push-events queue', async () => {
    const ns = uniqueName();
    const before = Date.now();
    const response = await push(event(ns, 1));
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [expect.stringMatching(UUID)] });
    const [job, ...rest] = await queuedFor(ns);
    expect(rest).toEqual([]);
    expect(job).toEqual({
      eventId: response.body.eventIds[0],
      namespace: ns,
      repository: 'team/app',
      tag: 'v1',
      digest: digestOf(1),
      pushedAt: job?.receivedAt,
      receivedAt: expect.any(Number),
      // The answer's X-Request-Id, carried to the deliveries' records.
      requestId: response.headers.get('x-request-id'),
    });
    expect(job?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(job?.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('creates the repository on its first push, readable as soon as 202 is answered', async () => {
    const ns = uniqueName();
    const path = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
    expect((await api.request('GET', path, { token: api.adminToken })).status).toBe(404);
    expect((await push(event(ns, 1))).status).toBe(202);
    const created = await api.request('GET', path, { token: api.adminToken });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ namespace: ns, name: 'team/app', createdAt: expect.any(Number) });
    // A later push does not move its creation time.
    expect((await push(event(ns, 2))).status).toBe(202);
    expect((await api.request('GET', path, { token: api.adminToken })).body.createdAt).toBe(
      created.body.createdAt,
    );
  });

  it('creates the new repositories of a batch with one script per namespace, not one per repository', async () => {
    // Scripts Redis ran (EVALSHA, and EVAL when it had to load one) while a request was served.
    const scriptsRun = async (send: () => Promise<unknown>) => {
      const server = redisServer();
      const count = async () => {
        const stats = await redisInfo(server.host, server.port, ['INFO', 'commandstats']);
        const calls = (name: string) =>
          Number(/calls=(\d+)/.exec(stats.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0);
        return calls('evalsha') + calls('eval');
      };
      const before = await count();
      await send();
      return (await count()) - before;
    };
    const batchOf = (namespaces: string[]) =>
      Array.from({ length: 300 }, (_, i) => ({ ...event(namespaces[i % 3]!, i), repository: `repo-${i}` }));
    // Once to load every script, then counted.
    expect((await push(batchOf([uniqueName(), uniqueName(), uniqueName()]))).status).toBe(202);
    const namespaces = [uniqueName(), uniqueName(), uniqueName()];
    const scripts = await scriptsRun(async () => expect((await push(batchOf(namespaces))).status).toBe(202));
    // One script per event enqueues it (its dedupe key in the same script); the 300 new
    // repositories cost one script per namespace.
    expect(scripts).toBe(300 + 3);
    const listed = await api.request('GET', `/v1/namespaces/${namespaces[1]}/repositories?limit=200`, {
      token: api.adminToken,
    });
    expect(listed.body.repositories).toHaveLength(100);
  });

  it("dates a new repository at its first push's time, but never later than its arrival", async () => {
    const ns = uniqueName();
    const repository = (name: string) => `/v1/namespaces/${ns}/repositories/${name}`;
    const pushedAt = '2016-11-29T20:25:46+08:00';
    const past = await push({ ...event(ns, 1, { pushedAt }), repository: 'past' });
    expect(past.status).toBe(202);
    const before = Date.now();
    const future = await push({
      ...event(ns, 2, { pushedAt: '2099-01-01T00:00:00Z' }),
      repository: 'future',
    });
    expect(future.status).toBe(202);
    const after = Date.now();
    const read = async (name: string) =>
      (await api.request('GET', repository(name), { token: api.adminToken })).body.createdAt as number;
    expect(await read('past')).toBe(Date.parse(pushedAt));
    const futureCreated = await read('future');
    expect(futureCreated).toBeGreaterThanOrEqual(before);
    expect(futureCreated).toBeLessThanOrEqual(after);
  });

  it('keeps the given pushedAt (any offset) and eventId', async () => {
    const ns = uniqueName();
    const response = await push(
      event(ns, 1, { pushedAt: '2016-11-29T20:25:46+08:00', eventId: 'reg-evt-1' }),
    );
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: ['reg-evt-1'] });
    expect(await queuedFor(ns)).toEqual([
      expect.objectContaining({ eventId: 'reg-evt-1', pushedAt: Date.parse('2016-11-29T12:25:46Z') }),
    ]);
  });

  it('a batch of 1000 is accepted in one request; 1001 is 400 and queues nothing', async () => {
    const ns = uniqueName();
    const batch = Array.from({ length: 1000 }, (_, i) => event(ns, i, { eventId: `${ns}-${i}` }));
    const response = await push(batch);
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(1000);
    expect(response.body.duplicates).toBe(0);
    expect(response.body.eventIds).toEqual(batch.map((e) => e.eventId));
    const queued = await queuedFor(ns);
    expect(queued).toHaveLength(1000);
    expect(new Set(queued.map((job) => job.eventId))).toEqual(new Set(batch.map((e) => e.eventId)));

    const other = uniqueName();
    const tooMany = Array.from({ length: 1001 }, (_, i) => event(other, i));
    const problem = expectProblemShape(await push(tooMany), 400);
    expect(problem.code).toBe('validation-failed');
    expect(problem.errors).toEqual([{ path: '(body)', message: 'a batch holds at most 1000 events' }]);
    expect(await queuedFor(other)).toEqual([]);
  });

  it('duplicates by eventId within a request and across requests are counted, not queued twice', async () => {
    const ns = uniqueName();
    const first = await push([
      event(ns, 1, { eventId: 'a' }),
      event(ns, 2, { eventId: 'b' }),
      event(ns, 3, { eventId: 'a' }),
      event(ns, 4, { eventId: 'a' }),
    ]);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ accepted: 2, duplicates: 2, eventIds: ['a', 'b', 'a', 'a'] });

    const again = await push([event(ns, 1, { eventId: 'a' }), event(ns, 5, { eventId: 'c' })]);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ accepted: 1, duplicates: 1, eventIds: ['a', 'c'] });

    const alone = await push(event(ns, 2, { eventId: 'b' }), api.adminToken);
    expect(alone.body).toEqual({ accepted: 0, duplicates: 1, eventIds: ['b'] });

    const queued = await queuedFor(ns);
    expect(queued.map((job) => job.eventId).sort()).toEqual(['a', 'b', 'c']);
    // The first event carrying the id is the one kept.
    expect(queued.find((job) => job.eventId === 'a')?.tag).toBe('v1');

    // Event ids are per namespace: the same id elsewhere is a different event.
    const elsewhere = uniqueName();
    expect((await push(event(elsewhere, 1, { eventId: 'a' }))).body).toMatchObject({
      accepted: 1,
      duplicates: 0,
    });
  });

  it('concurrent requests with the same eventId queue it once', async () => {
    const ns = uniqueName();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => push(event(ns, 1, { eventId: 'race' }))),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(answers.reduce((sum, a) => sum + a.body.accepted, 0)).toBe(1);
    expect(answers.reduce((sum, a) => sum + a.body.duplicates, 0)).toBe(9);
    expect(await queuedFor(ns)).toHaveLength(1);
  });

  it('the ingest token, the admin and the namespace token (own namespace) may post', async () => {
    const ns = uniqueName();
    const token = await api.issueToken(ns);
    for (const [i, t] of [api.ingestToken, api.adminToken, token].entries()) {
      expect((await push(event(ns, i), t)).status).toBe(202);
    }
    expect(await queuedFor(ns)).toHaveLength(3);
  });

  const invalid: Array<[string, unknown, string, RegExp]> = [
    ['no namespace', { repository: 'app', tag: 'v1', digest: digestOf(1) }, 'namespace', /string/],
    ['upper-case namespace', { ...event('NS', 1) }, 'namespace', /lowercase/],
    ['bad repository', { ...event('ns', 1), repository: 'a//b' }, 'repository', /repository/],
    ['tag starting with -', { ...event('ns', 1), tag: '-v1' }, 'tag', /tag must be/],
    ['129-character tag', { ...event('ns', 1), tag: 'v'.repeat(129) }, 'tag', /1 to 128/],
    ['short sha256', { ...event('ns', 1), digest: 'sha256:abc' }, 'digest', /64/],
    ['digest without algorithm', { ...event('ns', 1), digest: 'abc' }, 'digest', /algorithm:encoded/],
    ['pushedAt not ISO', { ...event('ns', 1), pushedAt: 'yesterday' }, 'pushedAt', /.+/],
    ['pushedAt as a number', { ...event('ns', 1), pushedAt: 1700000000000 }, 'pushedAt', /.+/],
    ['eventId with a space', { ...event('ns', 1), eventId: 'a b' }, 'eventId', /printable ASCII/],
    ['empty eventId', { ...event('ns', 1), eventId: '' }, 'eventId', /.+/],
    ['unknown field', { ...event('ns', 1), action: 'push' }, '(body)', /action/],
    ['empty array', [], '(body)', /at least one event/],
    ['bad item in a batch', [event('ns', 1), { ...event('ns', 2), tag: '' }], '1.tag', /tag must be/],
  ];

  it.each(invalid)('%s is 400 naming the field', async (_label, body, path, message) => {
    const problem = expectProblemShape(await push(body), 400);
    expect(problem.code).toBe('validation-failed');
    expect(problem.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('a namespace in the body that is not valid is 400 even for a namespace token', async () => {
    const ns = uniqueName();
    const token = await api.issueToken(ns);
    expectProblemShape(await push({ ...event(ns, 1), namespace: 'Bad' }, token), 400);
  });

  it('a whole name ns/repo over 255 characters is 400 naming the repository', async () => {
    const long = { ...event(uniqueName(), 1), namespace: 'n'.repeat(255), repository: 'r' };
    const problem = expectProblemShape(await push(long), 400);
    expect(problem.errors).toEqual([
      { path: 'repository', message: 'namespace/repository must be at most 255 characters' },
    ]);
  });
});

describe('POST /v1/events/distribution', () => {
  it('replays the skopeo capture: blob pushes ignored, the tagged manifest accepted, a resend a duplicate', async () => {
    const [blob1, blob2, manifest] = fixture.requests;
    for (const blob of [blob1!, blob2!]) {
      const response = await api.request('POST', '/v1/events/distribution', {
        token: api.ingestToken,
        body: blob.envelope,
        contentType: blob.contentType,
      });
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ accepted: 0, duplicates: 0, eventIds: [], ignored: 1 });
    }
    const sent = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: manifest!.envelope,
      contentType: manifest!.contentType,
    });
    expect(sent.status).toBe(202);
    const id = manifest!.envelope.events[0]!.id;
    expect(sent.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [id], ignored: 0 });
    expect(await queuedFor('myns')).toEqual([
      {
        eventId: id,
        namespace: 'myns',
        repository: 'app',
        tag: 'release-v1.2',
        digest: 'sha256:389d74500ab3670423118923bb4bad9c2ffac7c01d27dd9bd601c80ca01fb2ec',
        pushedAt: Date.parse('2026-11-26T22:50:59.027Z'),
        receivedAt: expect.any(Number),
        requestId: sent.headers.get('x-request-id'),
      },
    ]);

    const resent = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: manifest!.envelope,
      contentType: manifest!.contentType,
    });
    expect(resent.status).toBe(202);
    expect(resent.body).toEqual({ accepted: 0, duplicates: 1, eventIds: [id], ignored: 0 });
    expect(await queuedFor('myns')).toHaveLength(1);
  });

  it.each([[V1], [V2], ['application/json'], [`${V2}; charset=utf-8`]])('takes %s', async (contentType) => {
    const ns = uniqueName();
    const manifest = structuredClone(fixture.requests[2]!.envelope);
    const original = manifest.events[0]!;
    manifest.events[0] = {
      ...original,
      id: `${ns}-1`,
      target: { ...(original.target as object), repository: `${ns}/team/app` },
    };
    const response = await api.request('POST', '/v1/events/distribution', {
      token: api.adminToken,
      body: manifest,
      contentType,
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [`${ns}-1`], ignored: 0 });
    expect(await queuedFor(ns)).toEqual([
      expect.objectContaining({ namespace: ns, repository: 'team/app', tag: 'release-v1.2' }),
    ]);
  });

  /** The api's warn lines about unusable envelope events that name `repository` among their examples. */
  const warningsNaming = (repository: string) =>
    api.logged.filter(
      (line) =>
        line.msg?.includes('cannot be taken') &&
        (line.examples as Array<{ repository: string }> | undefined)?.some(
          (e) => e.repository === repository,
        ),
    );

  it('counts only tagged manifest pushes; everything else is ignored', async () => {
    const ns = uniqueName();
    const target = (extra: Record<string, unknown>) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(7),
      repository: `${ns}/app`,
      ...extra,
    });
    const envelope = {
      events: [
        { id: 'e-push', action: 'push', target: target({ tag: 'v1' }) },
        { id: 'e-pull', action: 'pull', target: target({ tag: 'v1' }) },
        { id: 'e-delete', action: 'delete', target: target({ tag: 'v1' }) },
        { id: 'e-untagged', action: 'push', target: target({}) },
        { id: 'e-blob', action: 'push', target: target({ mediaType: 'application/octet-stream' }) },
        // A blob with a tag (no registry sends one, but the type says what it is).
        {
          id: 'e-tagged-layer',
          action: 'push',
          target: target({ tag: 'v1', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
        },
        {
          id: 'e-tagged-config',
          action: 'push',
          target: target({ tag: 'v1', mediaType: 'application/vnd.docker.container.image.v1+json' }),
        },
        {
          id: 'e-list',
          action: 'push',
          target: target({
            tag: 'v3',
            mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
          }),
        },
        {
          id: 'e-index',
          action: 'push',
          target: target({ tag: 'v4', mediaType: 'application/vnd.oci.image.index.v1+json' }),
        },
        { id: 'e-no-namespace', action: 'push', target: target({ tag: 'v1', repository: 'app' }) },
        { id: 'e-bad-tag', action: 'push', target: target({ tag: '-v1' }) },
        { id: 'e-bad-digest', action: 'push', target: target({ tag: 'v1', digest: 'sha256:xyz' }) },
        { id: 'e-no-target', action: 'push' },
        { action: 'push', target: target({ tag: 'v2' }) },
      ],
    };
    const response = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: envelope,
      contentType: V1,
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      accepted: 4,
      duplicates: 0,
      eventIds: ['e-push', 'e-list', 'e-index', expect.stringMatching(UUID)],
      ignored: 10,
    });
    expect((await queuedFor(ns)).map((job) => job.tag).sort()).toEqual(['v1', 'v2', 'v3', 'v4']);
    // The image pushes it could not take are warned of in one line, the first few with their
    // reason; the rest are not image pushes and go unremarked.
    const warned = warningsNaming(`${ns}/app`);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.unusable).toBe(3);
    expect(warned[0]?.examples).toEqual([
      {
        repository: 'app',
        tag: 'v1',
        reason: 'the repository has no namespace: it must be <namespace>/<repository>',
      },
      { repository: `${ns}/app`, tag: '-v1', reason: expect.stringMatching(/^tag must be/) },
      { repository: `${ns}/app`, tag: 'v1', reason: expect.stringMatching(/digest/) },
    ]);
  });

  it('an envelope of many unusable pushes writes one warn line, not one per event', async () => {
    const ns = uniqueName();
    const events = Array.from({ length: 400 }, (_, i) => ({
      id: `bad-${i}`,
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: digestOf(7),
        repository: `${ns}/app`,
        tag: `-bad${i}`,
      },
    }));
    const response = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: { events },
      contentType: V1,
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ accepted: 0, ignored: 400 });
    const warned = warningsNaming(`${ns}/app`);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ unusable: 400 });
    expect(warned[0]?.examples).toHaveLength(3);
  });

  it('an envelope with no events is 202 with nothing accepted', async () => {
    const response = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: { events: [] },
      contentType: V2,
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 0, duplicates: 0, eventIds: [], ignored: 0 });
  });

  it('a body that is not an envelope is 400; another media type is 415', async () => {
    for (const body of [{}, { events: {} }, { events: 'push' }, [{ events: [] }], { events: [42] }]) {
      const problem = expectProblemShape(
        await api.request('POST', '/v1/events/distribution', {
          token: api.ingestToken,
          body,
          contentType: V1,
        }),
        400,
      );
      expect(problem.errors?.length).toBeGreaterThan(0);
    }
    for (const contentType of ['text/plain', 'application/vnd.docker.distribution.events.v3+json']) {
      const problem = expectProblemShape(
        await api.request('POST', '/v1/events/distribution', {
          token: api.ingestToken,
          body: { events: [] },
          contentType,
        }),
        415,
      );
      expect(problem.detail).toContain(V1);
    }
  });
});

describe('metrics of ingestion', () => {
  it('push_events_total counts accepted, duplicate and ignored events by source', async () => {
    const read = async () => {
      const text = (await api.request('GET', '/metrics')).text;
      const value = (source: string, outcome: string) =>
        Number(
          new RegExp(
            `^push_events_total\\{(?=[^}]*source="${source}")(?=[^}]*outcome="${outcome}")[^}]*\\} (\\d+)$`,
            'm',
          ).exec(text)?.[1] ?? 0,
        );
      return {
        accepted: value('push', 'accepted'),
        duplicate: value('push', 'duplicate'),
        ignored: value('distribution', 'ignored'),
      };
    };
    const before = await read();
    const ns = uniqueName();
    await push([event(ns, 1, { eventId: 'm' }), event(ns, 2, { eventId: 'm' })]);
    await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: fixture.requests[0]!.envelope,
      contentType: V1,
    });
    const after = await read();
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.duplicate - before.duplicate).toBe(1);
    expect(after.ignored - before.ignored).toBe(1);
  });
});
