// The registry routes over real HTTP: every committed sample of what a registry posts
// (fixtures/sources/samples, from the vendors' docs and sources), variants of them, and
// malformed bodies; what the api answers and what lands in the push-event queue.
import { readFile } from 'node:fs/promises';
import { buildAcrPayload, buildPushCloudEvent, PUSH_CLOUDEVENT_TYPE } from '@registry-triggers/core';
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';
import { splitContentType } from './support/sent-headers.js';

const samples = new URL('./fixtures/sources/samples/', import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: samples are vendor JSON, edited per test
const sample = async (name: string): Promise<any> =>
  JSON.parse(await readFile(new URL(name, samples), 'utf8'));
/** A `.headers.txt` sample as headers, without the ones fetch sets itself or the test's own token. */
async function sampleHeaders(name: string): Promise<Record<string, string>> {
  const text = await readFile(new URL(name, samples), 'utf8');
  const skipped = new Set(['authorization', 'content-length', 'accept-encoding']);
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()])
      .filter(([name]) => !skipped.has(name!.toLowerCase())),
  );
}

const DIGEST = `sha256:${'954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4'}`;
const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

const redisServer = useRedis();
let api: ApiHarness;
let queue: Queue<PushEventJob>;

beforeAll(async () => {
  api = await startApi(redisServer(), { maxBodyBytes: 1024 * 1024 });
  queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
});
afterAll(async () => {
  await api?.close();
});

interface Post {
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string | null;
  token?: string;
}

/** A Content-Type among `headers` (as a sample lists it) is sent as the request's content type. */
const post = (path: string, { body, headers = {}, contentType, token }: Post = {}) => {
  const sent = splitContentType(headers);
  const type = contentType !== undefined ? contentType : (sent.contentType ?? undefined);
  return api.request('POST', path, {
    token: token ?? api.ingestToken,
    body,
    headers: sent.others,
    ...(type !== undefined ? { contentType: type } : {}),
  });
};

/** Jobs of one namespace waiting in the push-event queue, oldest first, as pushes. */
async function queuedFor(namespace: string) {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  return jobs
    .filter((job) => job?.data.namespace === namespace)
    .map(({ data }) => ({
      namespace: data.namespace,
      repository: data.repository,
      tag: data.tag,
      digest: data.digest,
      pushedAt: data.pushedAt,
      eventId: data.eventId,
    }));
}

const accepted = (n: number, ignored = 0) => ({
  accepted: n,
  duplicates: 0,
  eventIds: expect.any(Array),
  ignored,
});

/** A Harbor "Default" push of the given tags of alpine in project `project`. */
async function harborPush(project: string, tags: string[]) {
  const hook = await sample('harbor-default-push.json');
  hook.event_data.repository = {
    ...hook.event_data.repository,
    namespace: project,
    repo_full_name: `${project}/alpine`,
  };
  hook.event_data.resources = tags.map((tag) => ({
    digest: DIGEST,
    tag,
    resource_url: `localhost/${project}/alpine:${tag}`,
  }));
  return hook;
}

describe('POST /v1/events/harbor', () => {
  it('the samples: an untagged push and a delete are ignored, in both payload formats', async () => {
    for (const [file, headers] of [
      ['harbor-default-push.json', undefined],
      ['harbor-default-delete.json', undefined],
      ['harbor-cloudevents-push.json', await sampleHeaders('harbor-cloudevents-push.headers.txt')],
    ] as const) {
      const response = await post('/v1/events/harbor', {
        body: await sample(file),
        ...(headers ? { headers, contentType: headers['Content-Type']! } : {}),
      });
      expect(response.status, file).toBe(202);
      expect(response.body, file).toEqual({ accepted: 0, duplicates: 0, eventIds: [], ignored: 1 });
    }
    expect(await queuedFor('harbor')).toEqual([]);
  });

  it('a tagged push: one push per resource, dated occur_at; a resend is a duplicate', async () => {
    const project = uniqueName();
    const hook = await harborPush(project, ['3.8', 'latest']);
    hook.event_data.resources.push({ digest: DIGEST, tag: DIGEST, resource_url: 'x' });
    const first = await post('/v1/events/harbor', { body: hook });
    expect(first.status).toBe(202);
    expect(first.body).toEqual(accepted(2, 1));
    const pushes = await queuedFor(project);
    expect(pushes).toEqual([
      expect.objectContaining({ repository: 'alpine', tag: '3.8', digest: DIGEST, pushedAt: 1680501893000 }),
      expect.objectContaining({
        repository: 'alpine',
        tag: 'latest',
        digest: DIGEST,
        pushedAt: 1680501893000,
      }),
    ]);
    expect(pushes[0]!.eventId).toMatch(/^harbor-[0-9a-f]{40}$/);
    const again = await post('/v1/events/harbor', { body: hook });
    expect(again.body).toEqual({ accepted: 0, duplicates: 2, eventIds: first.body.eventIds, ignored: 1 });
  });

  it('the CloudEvents format (Harbor 2.8+): the event id is the CloudEvent id, per tag when several', async () => {
    const project = uniqueName();
    const event = await sample('harbor-cloudevents-push.json');
    event.data = (await harborPush(project, ['v1'])).event_data;
    const headers = await sampleHeaders('harbor-cloudevents-push.headers.txt');
    const one = await post('/v1/events/harbor', {
      body: event,
      headers,
      contentType: headers['Content-Type']!,
    });
    expect(one.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [event.id], ignored: 0 });
    const two = { ...event, id: `${event.id}-2`, data: (await harborPush(project, ['v2', 'v3'])).event_data };
    const several = await post('/v1/events/harbor', {
      body: two,
      headers,
      contentType: headers['Content-Type']!,
    });
    expect(several.body.eventIds).toEqual([`${two.id}:v2`, `${two.id}:v3`]);
    expect((await queuedFor(project)).map((push) => [push.tag, push.pushedAt])).toEqual([
      ['v1', Date.parse('2023-04-03T06:04:46Z')],
      ['v2', Date.parse('2023-04-03T06:04:46Z')],
      ['v3', Date.parse('2023-04-03T06:04:46Z')],
    ]);
  });

  it('a CloudEvent sent as plain application/json is still read as one, not ignored', async () => {
    const project = uniqueName();
    const event = { ...(await sample('harbor-cloudevents-push.json')), id: `${project}-json` };
    event.data = (await harborPush(project, ['v1'])).event_data;
    for (const path of ['/v1/events/harbor', '/v1/events/cloudevents'])
      expect((await post(path, { body: event, contentType: 'application/json' })).body, path).toMatchObject({
        eventIds: [event.id],
        ignored: 0,
      });
    expect((await queuedFor(project)).map((push) => push.tag)).toEqual(['v1']);
  });

  it('other event types are ignored, whatever their data', async () => {
    for (const type of [
      'PULL_ARTIFACT',
      'SCANNING_COMPLETED',
      'REPLICATION',
      'QUOTA_EXCEED',
      'TAG_RETENTION',
    ]) {
      const response = await post('/v1/events/harbor', {
        body: { type, occur_at: 1680501893, event_data: { replication: { id: 1 } } },
      });
      expect(response.body, type).toEqual({ accepted: 0, duplicates: 0, eventIds: [], ignored: 1 });
    }
  });

  it('1000 resources in one event are 1000 pushes; 1001 is 400 and queues nothing', async () => {
    const project = uniqueName();
    const tags = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const response = await post('/v1/events/harbor', { body: await harborPush(project, tags) });
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(1000);
    expect(await queuedFor(project)).toHaveLength(1000);
    const other = uniqueName();
    const problem = expectProblemShape(
      await post('/v1/events/harbor', { body: await harborPush(other, [...tags, 'v1000']) }),
      400,
    );
    expect(problem.errors).toEqual([
      { path: 'event_data.resources', message: 'an event holds at most 1000 resources' },
    ]);
    expect(await queuedFor(other)).toEqual([]);
  });

  it('a repository name or tag outside our rules is 400 naming the field and the value', async () => {
    const hook = await harborPush('Team', ['v1']);
    const problem = expectProblemShape(await post('/v1/events/harbor', { body: hook }), 400);
    expect(problem.errors).toEqual([
      {
        path: 'event_data.repository.repo_full_name',
        message: expect.stringMatching(/^namespace must be lowercase.*\(got "Team\/alpine"\)$/),
      },
    ]);
    const badTag = await harborPush(uniqueName(), ['-v1']);
    expect(expectProblemShape(await post('/v1/events/harbor', { body: badTag }), 400).errors).toEqual([
      { path: 'event_data.resources.0.tag', message: expect.stringMatching(/^tag must be .*\(got "-v1"\)$/) },
    ]);
  });

  it('malformed: missing fields are 400 naming them; another media type is 415', async () => {
    const missing = expectProblemShape(
      await post('/v1/events/harbor', { body: { type: 'PUSH_ARTIFACT', event_data: { resources: [] } } }),
      400,
    );
    expect(missing.errors).toEqual([
      { path: 'event_data.repository', message: 'repository must be an object' },
    ]);
    expectProblemShape(await post('/v1/events/harbor', { body: { occur_at: 1 } }), 400);
    expectProblemShape(
      await post('/v1/events/harbor', { body: 'type=PUSH_ARTIFACT', contentType: 'text/plain' }),
      415,
    );
    expectProblemShape(
      await post('/v1/events/harbor', { body: '{"type": ', contentType: 'application/json' }),
      400,
    );
  });
});

describe('POST /v1/events/dockerhub', () => {
  it('the sample: one push without a digest, dated pushed_at, an id hashed from it', async () => {
    const response = await post('/v1/events/dockerhub', { body: await sample('dockerhub-push.json') });
    expect(response.status).toBe(202);
    expect(response.body).toEqual(accepted(1));
    expect(await queuedFor('svendowideit')).toEqual([
      {
        namespace: 'svendowideit',
        repository: 'testhook',
        tag: 'latest',
        digest: '',
        pushedAt: 1417566161000,
        eventId: expect.stringMatching(/^dockerhub-[0-9a-f]{40}$/),
      },
    ]);
    const again = await post('/v1/events/dockerhub', { body: await sample('dockerhub-push.json') });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('the same tag pushed again later is a new push; no tag is ignored', async () => {
    const ns = uniqueName();
    const hook = await sample('dockerhub-push.json');
    hook.repository = { ...hook.repository, namespace: ns, repo_name: `${ns}/app` };
    for (const pushed_at of [1417566161, 1417566999]) {
      hook.push_data.pushed_at = pushed_at;
      expect((await post('/v1/events/dockerhub', { body: hook })).body).toEqual(accepted(1));
    }
    hook.push_data.tag = undefined;
    expect((await post('/v1/events/dockerhub', { body: hook })).body).toEqual(accepted(0, 1));
    expect(await queuedFor(ns)).toHaveLength(2);
  });

  it('malformed: no repository is 400 naming it', async () => {
    const problem = expectProblemShape(await post('/v1/events/dockerhub', { body: { push_data: {} } }), 400);
    expect(problem.errors).toEqual([{ path: 'repository', message: 'repository must be an object' }]);
  });
});

describe('POST /v1/events/quay', () => {
  it('the sample: one push per updated tag, without a digest', async () => {
    const response = await post('/v1/events/quay', { body: await sample('quay-repo-push.json') });
    expect(response.body).toEqual(accepted(1));
    expect(await queuedFor('dgangaia')).toEqual([
      expect.objectContaining({ repository: 'test', tag: 'latest', digest: '' }),
    ]);
  });

  it('several tags are several pushes; a resend within minutes is a duplicate; other events are ignored', async () => {
    const ns = uniqueName();
    const body = {
      ...(await sample('quay-repo-push.json')),
      repository: `${ns}/app`,
      updated_tags: ['v1', 'v2'],
    };
    expect((await post('/v1/events/quay', { body })).body).toEqual(accepted(2));
    expect((await post('/v1/events/quay', { body })).body).toMatchObject({ accepted: 0, duplicates: 2 });
    const build = {
      repository: `${ns}/app`,
      namespace: ns,
      name: 'app',
      build_id: 'b1',
      docker_tags: ['v3'],
    };
    expect((await post('/v1/events/quay', { body: build })).body).toEqual(accepted(0, 1));
    expect((await queuedFor(ns)).map((push) => push.tag)).toEqual(['v1', 'v2']);
  });
});

describe('POST /v1/events/azure', () => {
  it('the sample needs a namespace: 400 naming target.repository, then ?namespace= or a namespace token', async () => {
    const hook = await sample('azure-acr-push.json');
    const problem = expectProblemShape(await post('/v1/events/azure', { body: hook }), 400);
    expect(problem.errors).toEqual([
      { path: 'target.repository', message: expect.stringMatching(/\?namespace=.*\(got "hello-world"\)$/) },
    ]);
    const ns = uniqueName();
    const named = await post(`/v1/events/azure?namespace=${ns}`, { body: hook });
    expect(named.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [hook.id], ignored: 0 });
    const other = uniqueName();
    const token = await api.issueToken(other);
    expect((await post('/v1/events/azure', { body: hook, token })).body).toMatchObject({ accepted: 1 });
    for (const namespace of [ns, other])
      expect(await queuedFor(namespace)).toEqual([
        {
          namespace,
          repository: 'hello-world',
          tag: 'v1',
          digest: hook.target.digest,
          pushedAt: Date.parse('2017-11-17T16:52:01.343Z'),
          eventId: hook.id,
        },
      ]);
    // A namespace token cannot name another namespace.
    expectProblemShape(
      await post(`/v1/events/azure?namespace=${ns}`, { body: { ...hook, id: 'x' }, token }),
      403,
    );
  });

  it('a delete, a chart push and an untagged push are ignored; a ping is 200', async () => {
    const ns = uniqueName();
    const path = `/v1/events/azure?namespace=${ns}`;
    expect((await post(path, { body: await sample('azure-acr-delete.json') })).body).toEqual(accepted(0, 1));
    const chart = {
      id: 'c1',
      action: 'chart_push',
      target: { repository: 'charts', name: 'c', version: '1.0' },
    };
    expect((await post(path, { body: chart })).body).toEqual(accepted(0, 1));
    const push = await sample('azure-acr-push.json');
    push.target.tag = undefined;
    expect((await post(path, { body: push })).body).toEqual(accepted(0, 1));
    const ping = await post(path, { body: { id: 'p1', action: 'ping', timestamp: '2024-01-01T00:00:00Z' } });
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ accepted: 0, duplicates: 0, eventIds: [], ignored: 0 });
    expect((await post(path, { contentType: null })).status).toBe(200);
    expect(await queuedFor(ns)).toEqual([]);
  });

  it('a repository with a path keeps its first segment as namespace unless ?namespace= says otherwise', async () => {
    const ns = uniqueName();
    const hook = { ...(await sample('azure-acr-push.json')), id: `${ns}-1` };
    hook.target.repository = `${ns}/team/app`;
    expect((await post('/v1/events/azure', { body: hook })).body).toMatchObject({ accepted: 1 });
    const other = uniqueName();
    expect((await post(`/v1/events/azure?namespace=${other}`, { body: hook })).body).toMatchObject({
      accepted: 1,
    });
    expect((await queuedFor(ns)).map((push) => push.repository)).toEqual(['team/app']);
    expect((await queuedFor(other)).map((push) => push.repository)).toEqual([`${ns}/team/app`]);
    const bad = expectProblemShape(await post('/v1/events/azure?namespace=Bad', { body: hook }), 400);
    expect(bad.errors).toEqual([{ path: 'query.namespace', message: expect.stringMatching(/lowercase/) }]);
  });
});

describe('POST /v1/events/ecr', () => {
  it('the sample\'s 60-hex digest is delivered as "" (not a digest); a real one as sent', async () => {
    const asDocumented = uniqueName();
    const event = await sample('ecr-eventbridge-push.json');
    const first = await post(`/v1/events/ecr?namespace=${asDocumented}`, { body: event });
    expect(first.body).toEqual(accepted(1));
    expect((await queuedFor(asDocumented)).map((push) => [push.tag, push.digest])).toEqual([['latest', '']]);
    const ns = uniqueName();
    event.id = `${ns}-whole-digest`;
    event.detail['image-digest'] = digestOf('ecr');
    const response = await post(`/v1/events/ecr?namespace=${ns}`, {
      body: event,
      contentType: 'application/json; charset=utf-8',
    });
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [event.id], ignored: 0 });
    expect(await queuedFor(ns)).toEqual([
      {
        namespace: ns,
        repository: 'my-repository-name',
        tag: 'latest',
        digest: digestOf('ecr'),
        pushedAt: Date.parse('2019-11-16T01:54:34Z'),
        eventId: event.id,
      },
    ]);
  });

  it('deletes, failed pushes, untagged pushes and other detail types are ignored', async () => {
    const ns = uniqueName();
    const event = await sample('ecr-eventbridge-push.json');
    const variants = [
      { ...event, detail: { ...event.detail, 'action-type': 'DELETE' } },
      { ...event, detail: { ...event.detail, result: 'FAILURE' } },
      { ...event, detail: { ...event.detail, 'image-tag': undefined } },
      { ...event, 'detail-type': 'ECR Image Scan', detail: { 'scan-status': 'COMPLETE' } },
      { ...event, 'detail-type': 'ECR Replication Action', detail: { result: 'SUCCESS' } },
    ];
    for (const body of variants)
      expect((await post(`/v1/events/ecr?namespace=${ns}`, { body })).body).toEqual(accepted(0, 1));
  });
});

describe('POST /v1/events/gar', () => {
  const garData = (tag: string | undefined, digest: string | undefined, action = 'INSERT') => ({
    action,
    ...(digest ? { digest: `us-west1-docker.pkg.dev/my-project/my-repo/hello-world@${digest}` } : {}),
    ...(tag ? { tag: `us-west1-docker.pkg.dev/my-project/my-repo/hello-world:${tag}` } : {}),
  });
  const envelope = async (data: unknown, messageId: string) => {
    const body = await sample('gar-pubsub-push.json');
    body.message.data = typeof data === 'string' ? data : base64(data);
    body.message.messageId = messageId;
    body.message.message_id = messageId;
    return body;
  };

  it('the sample\'s truncated digest is delivered as "" (not a digest); a whole one as sent', async () => {
    const ns = uniqueName();
    const body = await sample('gar-pubsub-push.json');
    expect(JSON.parse(Buffer.from(body.message.data, 'base64').toString())).toEqual(
      await sample('gar-pubsub-push.data.json'),
    );
    expect((await post(`/v1/events/gar?namespace=${ns}`, { body })).body).toEqual(accepted(1));
    expect((await queuedFor(ns)).map((push) => [push.repository, push.tag, push.digest])).toEqual([
      ['my-project/my-repo/hello-world', '1.1', ''],
    ]);
    const fixed = await envelope(garData('1.1', digestOf('gar')), 'm-1');
    expect((await post('/v1/events/gar', { body: fixed })).body).toEqual({
      accepted: 1,
      duplicates: 0,
      eventIds: ['m-1'],
      ignored: 0,
    });
    expect(await queuedFor('my-project')).toEqual([
      {
        namespace: 'my-project',
        repository: 'my-repo/hello-world',
        tag: '1.1',
        digest: digestOf('gar'),
        pushedAt: Date.parse('2021-02-26T19:13:55.749Z'),
        eventId: 'm-1',
      },
    ]);
  });

  it('a push without a digest has "", one without a tag and a delete are ignored', async () => {
    const ns = uniqueName();
    const path = `/v1/events/gar?namespace=${ns}`;
    expect((await post(path, { body: await envelope(garData('v2', undefined), 'm-2') })).body).toEqual(
      accepted(1),
    );
    expect((await post(path, { body: await envelope(garData(undefined, digestOf(1)), 'm-3') })).body).toEqual(
      accepted(0, 1),
    );
    expect(
      (await post(path, { body: await envelope(garData('v2', undefined, 'DELETE'), 'm-4') })).body,
    ).toEqual(accepted(0, 1));
    expect(await queuedFor(ns)).toEqual([
      expect.objectContaining({ repository: 'my-project/my-repo/hello-world', tag: 'v2', digest: '' }),
    ]);
  });

  it('an unwrapped payload (no Pub/Sub envelope) takes its message id from the header', async () => {
    const ns = uniqueName();
    const response = await post(`/v1/events/gar?namespace=${ns}`, {
      body: garData('v3', digestOf(3)),
      headers: { 'x-goog-pubsub-message-id': 'm-5' },
    });
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: ['m-5'], ignored: 0 });
  });

  it('base64 that is not JSON, or not base64, or no data, is 400 naming message.data', async () => {
    for (const data of [Buffer.from('not json').toString('base64'), '***', base64([1, 2])]) {
      const problem = expectProblemShape(
        await post('/v1/events/gar', { body: await envelope(data, 'x') }),
        400,
      );
      expect(problem.errors?.[0]?.path).toMatch(/^message\.data/);
    }
    const none = expectProblemShape(await post('/v1/events/gar', { body: { message: {} } }), 400);
    expect(none.errors).toEqual([{ path: 'message.data', message: 'message.data is required' }]);
  });
});

describe('POST /v1/events/cloudevents', () => {
  it("zot's binary-mode sample: a push of the reference, the event id Ce-Id", async () => {
    const ns = uniqueName();
    const headers = await sampleHeaders('zot-events.headers.txt');
    const body = await sample('zot-events.json');
    const response = await post(`/v1/events/cloudevents?namespace=${ns}`, { body, headers });
    expect(response.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [headers['Ce-Id']], ignored: 0 });
    expect(await queuedFor(ns)).toEqual([
      {
        namespace: ns,
        repository: 'golang',
        tag: 'latest',
        digest: body.digest,
        pushedAt: Date.parse('2026-08-21T10:38:00.123Z'),
        eventId: headers['Ce-Id'],
      },
    ]);
    // Without a namespace its one-segment name cannot be placed.
    const problem = expectProblemShape(await post('/v1/events/cloudevents', { body, headers }), 400);
    expect(problem.errors?.[0]?.path).toBe('name');
  });

  it('zot: a push by digest and its other types are ignored', async () => {
    const headers = await sampleHeaders('zot-events.headers.txt');
    const body = await sample('zot-events.json');
    const path = `/v1/events/cloudevents?namespace=${uniqueName()}`;
    expect((await post(path, { body: { ...body, reference: body.digest }, headers })).body).toEqual(
      accepted(0, 1),
    );
    for (const type of [
      'zotregistry.image.deleted',
      'zotregistry.image.lint_failed',
      'zotregistry.repository.created',
    ])
      expect((await post(path, { body, headers: { ...headers, 'Ce-Type': type } })).body).toEqual(
        accepted(0, 1),
      );
  });

  it("this product's own push event, as the CloudEvents delivery emits it, is read back", async () => {
    const ns = uniqueName();
    const payload = buildAcrPayload(
      { digest: digestOf(9), pushedAt: Date.parse('2026-01-02T03:04:05Z'), tag: 'v9' },
      {
        namespace: 'upstream',
        name: 'team/app',
        region: 'eu',
        createdAt: 0,
        repoType: 'PUBLIC',
        authenticationType: 'NO_CERTIFIED',
        originType: 'NO_CERTIFIED',
      },
      'Asia/Shanghai',
    );
    const event = JSON.parse(
      buildPushCloudEvent({
        id: 'evt-9',
        region: 'eu',
        namespace: 'upstream',
        pushedAt: Date.parse('2026-01-02T03:04:05Z'),
        payload,
      }),
    );
    expect(event.type).toBe(PUSH_CLOUDEVENT_TYPE);
    const structured = await post(`/v1/events/cloudevents?namespace=${ns}`, {
      body: event,
      contentType: 'application/cloudevents+json',
    });
    expect(structured.body).toEqual({ accepted: 1, duplicates: 0, eventIds: ['evt-9'], ignored: 0 });
    // The same in binary mode, and without ?namespace= (upstream/team/app → upstream + team/app).
    const { data, ...attributes } = event;
    const headers = Object.fromEntries(
      Object.entries(attributes)
        .filter(([name]) => name !== 'datacontenttype')
        .map(([name, value]) => [`ce-${name}`, String(value)]),
    );
    expect((await post('/v1/events/cloudevents', { body: data, headers })).body).toMatchObject({
      accepted: 1,
    });
    expect(await queuedFor(ns)).toEqual([
      {
        namespace: ns,
        repository: 'upstream/team/app',
        tag: 'v9',
        digest: digestOf(9),
        pushedAt: Date.parse('2026-01-02T03:04:05Z'),
        eventId: 'evt-9',
      },
    ]);
    expect(await queuedFor('upstream')).toEqual([
      expect.objectContaining({ repository: 'team/app', tag: 'v9' }),
    ]);
  });

  it('a batch, data_base64, and a type nobody reads (counted, not refused)', async () => {
    const ns = uniqueName();
    const harbor = await sample('harbor-cloudevents-push.json');
    harbor.data = (await harborPush(ns, ['v1'])).event_data;
    const encoded = {
      ...harbor,
      id: 'b64',
      data: undefined,
      data_base64: base64((await harborPush(ns, ['v2'])).event_data),
    };
    const unknown = { specversion: '1.0', id: 'u1', source: '/x', type: 'com.example.other', data: 'hello' };
    const response = await post('/v1/events/cloudevents', {
      body: [harbor, encoded, unknown],
      contentType: 'application/cloudevents-batch+json',
    });
    expect(response.body).toEqual({ accepted: 2, duplicates: 0, eventIds: [harbor.id, 'b64'], ignored: 1 });
    expect((await queuedFor(ns)).map((push) => push.tag)).toEqual(['v1', 'v2']);
  });

  it('malformed: no ce- headers, a missing attribute, specversion 0.3, data_base64 not JSON', async () => {
    const headers = await sampleHeaders('zot-events.headers.txt');
    const body = await sample('zot-events.json');
    const plain = expectProblemShape(await post('/v1/events/cloudevents', { body }), 400);
    expect(plain.errors?.[0]?.path).toBe('(headers)');
    const { 'Ce-Id': _id, ...noId } = headers;
    expect(
      expectProblemShape(await post('/v1/events/cloudevents', { body, headers: noId }), 400).errors,
    ).toEqual([{ path: 'ce-id', message: 'header ce-id is required in binary mode' }]);
    const old = { specversion: '0.3', id: 'o', source: '/x', type: PUSH_CLOUDEVENT_TYPE, data: {} };
    const structured = { contentType: 'application/cloudevents+json' };
    expect(
      expectProblemShape(await post('/v1/events/cloudevents', { body: old, ...structured }), 400).errors,
    ).toEqual([{ path: 'specversion', message: 'specversion must be "1.0"' }]);
    const garbled = {
      ...old,
      specversion: '1.0',
      data: undefined,
      data_base64: Buffer.from('{').toString('base64'),
    };
    expect(
      expectProblemShape(await post('/v1/events/cloudevents', { body: garbled, ...structured }), 400)
        .errors?.[0]?.path,
    ).toBe('data_base64');
    expectProblemShape(await post('/v1/events/cloudevents', { body: 'x', contentType: 'text/plain' }), 415);
  });
});

describe('?access_token= for registries that cannot set a header', () => {
  it('is taken on POST /v1/events/*, with the same rights as the header', async () => {
    const ns = uniqueName();
    const body = { ...(await sample('quay-repo-push.json')), repository: `${ns}/app` };
    const queryOnly = (path: string, token: string) =>
      api.request(
        'POST',
        `${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`,
        {
          body,
        },
      );
    expect((await queryOnly('/v1/events/quay', api.ingestToken)).body).toEqual(accepted(1));
    const scoped = await api.request('POST', `/v1/namespaces/${ns}/tokens`, {
      token: api.adminToken,
      body: { scope: 'ingest' },
    });
    expect((await queryOnly(`/v1/events/quay?namespace=${ns}`, scoped.body.token)).body).toMatchObject({
      duplicates: 0,
      accepted: 1,
    });
    const other = await api.issueToken(uniqueName());
    expectProblemShape(await queryOnly('/v1/events/quay', other), 403);
    expectProblemShape(await queryOnly('/v1/events/quay', 'not-a-token'), 401);
    expectProblemShape(await queryOnly('/v1/events/quay', ''), 401);
    // The older routes take it too.
    const push = { namespace: ns, repository: 'cli', tag: 'v1', digest: digestOf(1) };
    const plain = await api.request('POST', `/v1/events/push?access_token=${api.ingestToken}`, {
      body: push,
    });
    expect(plain.status).toBe(202);
  });

  it('is refused elsewhere, and together with a header, with a clear 400', async () => {
    const elsewhere = expectProblemShape(
      await api.request('GET', `/v1/namespaces?access_token=${api.adminToken}`),
      400,
    );
    expect(elsewhere.code).toBe('access-token-not-allowed');
    expect(elsewhere.detail).toMatch(/only on POST \/v1\/events\/\*/);
    const both = await api.request('POST', `/v1/events/quay?access_token=${api.ingestToken}`, {
      token: api.ingestToken,
      body: await sample('quay-repo-push.json'),
    });
    expect(expectProblemShape(both, 400).code).toBe('ambiguous-token');
    const twice = `/v1/events/quay?access_token=${api.ingestToken}&access_token=${api.ingestToken}`;
    expect(expectProblemShape(await api.request('POST', twice, { body: {} }), 400).code).toBe(
      'ambiguous-token',
    );
  });

  it('never reaches a log line or a metric label', async () => {
    const secret = api.ingestToken;
    await api.request('POST', `/v1/events/quay?access_token=${secret}`, {
      body: { repository: 'Bad/x', updated_tags: ['v1'] },
    });
    await api.request('POST', `/v1/events/nowhere?access_token=${secret}`, { body: {} });
    await api.request('GET', `/v1/namespaces?access_token=${secret}`);
    const metrics = (await api.request('GET', '/metrics')).text;
    expect(metrics).toContain('push_events_total{source="quay"');
    expect(metrics).not.toContain(secret);
    expect(JSON.stringify(api.logged)).not.toContain(secret);
  });
});
