// Namespace quotas over real HTTP and Redis: a PUT or POST over a quota is 409 naming it, a
// push that would create a repository over it is refused visibly (the 202 body, a warn line,
// a metric), never taken silently, and concurrent requests never overshoot.
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

const REPOSITORIES = 3;
const TRIGGERS_PER_REPOSITORY = 2;
const TRIGGERS_PER_NAMESPACE = 3;

const redisServer = useRedis();
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi(redisServer(), {
    repositoriesPerNamespace: REPOSITORIES,
    triggersPerRepository: TRIGGERS_PER_REPOSITORY,
    triggersPerNamespace: TRIGGERS_PER_NAMESPACE,
  });
});
afterAll(async () => {
  await api?.close();
});

type QuotaProblem = ReturnType<typeof expectProblemShape> & { quota?: string; limit?: number };

const admin = (method: string, path: string, body?: unknown) =>
  api.request(method, path, { token: api.adminToken, ...(body === undefined ? {} : { body }) });
const putRepository = (ns: string, repo: string) =>
  admin('PUT', `/v1/namespaces/${ns}/repositories/${repo}`, { repoType: 'PUBLIC' });
const postTrigger = (ns: string, repo: string, name = 'x') =>
  admin('POST', `/v1/namespaces/${ns}/repositories/${repo}/triggers`, {
    name,
    url: 'https://hooks.example.com/x',
    type: 'ALL',
  });
const repositoryNames = async (ns: string) =>
  ((await admin('GET', `/v1/namespaces/${ns}/repositories`)).body.repositories as Array<{ name: string }>)
    .map((r) => r.name)
    .sort();

async function queuedFor(namespace: string): Promise<PushEventJob[]> {
  const queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  return jobs.filter((job) => job?.data.namespace === namespace).map((job) => job.data);
}

async function refusedMetric(): Promise<number> {
  const text = (await api.request('GET', '/metrics')).text;
  return Number(/^push_events_total\{[^}]*outcome="refused"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('REPOSITORIES_PER_NAMESPACE', () => {
  it('a PUT that would create one more is 409 naming the quota; updates and other namespaces go on', async () => {
    const ns = uniqueName('repo-quota');
    for (const repo of ['a', 'b', 'c']) expect((await putRepository(ns, repo)).status).toBe(201);
    const refused = await putRepository(ns, 'd');
    const problem = expectProblemShape(refused, 409) as QuotaProblem;
    expect(problem).toMatchObject({ code: 'quota-exceeded', quota: 'REPOSITORIES_PER_NAMESPACE', limit: 3 });
    expect(problem.detail).toBe('a namespace holds at most 3 repositories (REPOSITORIES_PER_NAMESPACE)');
    expect((await admin('GET', `/v1/namespaces/${ns}/repositories/d`)).status).toBe(404);
    // An existing repository is still updated at the quota, and another namespace is not held.
    expect((await putRepository(ns, 'a')).status).toBe(200);
    expect((await putRepository(uniqueName('other'), 'd')).status).toBe(201);
    // Deleting one makes room.
    expect((await admin('DELETE', `/v1/namespaces/${ns}/repositories/b`)).status).toBe(204);
    expect((await putRepository(ns, 'd')).status).toBe(201);
    expect(await repositoryNames(ns)).toEqual(['a', 'c', 'd']);
  });

  it('a push that would create one more is refused in the 202, warned of once, counted, and not queued', async () => {
    const ns = uniqueName('push-quota');
    for (const repo of ['a', 'b']) expect((await putRepository(ns, repo)).status).toBe(201);
    const refusedBefore = await refusedMetric();
    const loggedBefore = api.logged.length;
    const push = (repositories: string[]) =>
      api.request('POST', '/v1/events/push', {
        token: api.ingestToken,
        body: repositories.map((repository, i) => ({
          namespace: ns,
          repository,
          tag: `v${i}`,
          digest: digestOf(i),
          eventId: `${ns}-${repository}-${i}`,
        })),
      });
    // a exists, x is the third (room for it), y and z would be the fourth and fifth.
    const answer = await push(['a', 'x', 'y', 'z', 'y']);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      accepted: 2,
      duplicates: 0,
      eventIds: ['a-0', 'x-1', 'y-2', 'z-3', 'y-4'].map((id) => `${ns}-${id}`),
      refused: 3,
      refusedRepositories: [
        { namespace: ns, repository: 'y', quota: 'REPOSITORIES_PER_NAMESPACE', limit: 3 },
        { namespace: ns, repository: 'z', quota: 'REPOSITORIES_PER_NAMESPACE', limit: 3 },
      ],
    });
    expect((await queuedFor(ns)).map((job) => job.repository).sort()).toEqual(['a', 'x']);
    expect(await repositoryNames(ns)).toEqual(['a', 'b', 'x']);
    expect(await refusedMetric()).toBe(refusedBefore + 3);
    const warned = api.logged.slice(loggedBefore).filter((line) => line.msg?.startsWith('pushes refused'));
    expect(warned).toEqual([
      expect.objectContaining({
        level: 40,
        refused: 3,
        quota: 'REPOSITORIES_PER_NAMESPACE',
        limit: 3,
        repositories: [`${ns}/y`, `${ns}/z`],
      }),
    ]);

    // A refused event was not marked seen: once there is room, the same event is taken.
    expect((await admin('DELETE', `/v1/namespaces/${ns}/repositories/b`)).status).toBe(204);
    const resent = await push(['a', 'x', 'y']);
    expect(resent.body).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(resent.body.refused).toBeUndefined();
    expect((await queuedFor(ns)).map((job) => job.repository).sort()).toEqual(['a', 'x', 'y']);
  });

  it('a distribution envelope reports its refused events beside accepted and ignored', async () => {
    const ns = uniqueName('env-quota');
    const target = (repository: string, i: number) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      repository: `${ns}/${repository}`,
      tag: 'v1',
      digest: digestOf(i),
    });
    const envelope = {
      events: ['a', 'b', 'c', 'd'].map((repo, i) => ({
        id: `${ns}-${i}`,
        action: 'push',
        target: target(repo, i),
      })),
    };
    const answer = await api.request('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: envelope,
      contentType: 'application/vnd.docker.distribution.events.v1+json',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 3, duplicates: 0, ignored: 0, refused: 1 });
    expect(answer.body.refusedRepositories).toEqual([
      { namespace: ns, repository: 'd', quota: 'REPOSITORIES_PER_NAMESPACE', limit: 3 },
    ]);
  });

  it('concurrent first pushes to ten new repositories create exactly the quota', async () => {
    const ns = uniqueName('race-quota');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.request('POST', '/v1/events/push', {
          token: api.ingestToken,
          body: { namespace: ns, repository: `r${i}`, tag: 'v1', digest: digestOf(i) },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(answers.reduce((sum, a) => sum + a.body.accepted, 0)).toBe(REPOSITORIES);
    expect(answers.reduce((sum, a) => sum + (a.body.refused ?? 0), 0)).toBe(10 - REPOSITORIES);
    expect(await repositoryNames(ns)).toHaveLength(REPOSITORIES);
    expect(await queuedFor(ns)).toHaveLength(REPOSITORIES);
  });
});

describe('TRIGGERS_PER_REPOSITORY and TRIGGERS_PER_NAMESPACE', () => {
  it('each is 409 naming its quota; deleting a trigger or a repository makes room', async () => {
    const ns = uniqueName('trigger-quota');
    for (const name of ['1', '2']) expect((await postTrigger(ns, 'a', name)).status).toBe(201);
    const perRepository = expectProblemShape(await postTrigger(ns, 'a', '3'), 409) as QuotaProblem;
    expect(perRepository).toMatchObject({
      code: 'trigger-limit',
      quota: 'TRIGGERS_PER_REPOSITORY',
      limit: 2,
    });

    expect((await postTrigger(ns, 'b', '1')).status).toBe(201);
    const perNamespace = expectProblemShape(await postTrigger(ns, 'b', '2'), 409) as QuotaProblem;
    expect(perNamespace).toMatchObject({ code: 'quota-exceeded', quota: 'TRIGGERS_PER_NAMESPACE', limit: 3 });
    expect(perNamespace.detail).toBe('a namespace holds at most 3 triggers (TRIGGERS_PER_NAMESPACE)');
    // Another namespace is not held.
    expect((await postTrigger(uniqueName('other'), 'b', '2')).status).toBe(201);

    const [first] = (await admin('GET', `/v1/namespaces/${ns}/repositories/a/triggers`)).body.triggers;
    expect((await admin('DELETE', `/v1/namespaces/${ns}/repositories/a/triggers/${first.id}`)).status).toBe(
      204,
    );
    expect((await postTrigger(ns, 'b', '2')).status).toBe(201);
    expect((await postTrigger(ns, 'c', '1')).status).toBe(409);

    // A repository deleted with its triggers gives their room back.
    expect((await putRepository(ns, 'a')).status).toBe(201);
    expect((await admin('DELETE', `/v1/namespaces/${ns}/repositories/a`)).status).toBe(204);
    expect((await postTrigger(ns, 'c', '1')).status).toBe(201);
  });

  it('concurrent creations in a namespace never overshoot its quota', async () => {
    const ns = uniqueName('trigger-race');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => postTrigger(ns, `r${i}`)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(TRIGGERS_PER_NAMESPACE);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(10 - TRIGGERS_PER_NAMESPACE);
    let stored = 0;
    for (let i = 0; i < 10; i++)
      stored += (await admin('GET', `/v1/namespaces/${ns}/repositories/r${i}/triggers`)).body.triggers.length;
    expect(stored).toBe(TRIGGERS_PER_NAMESPACE);
  });
});
