/**
 * Each registry's own webhook, posted as that registry posts it (its content type, its way
 * of passing the token), through the real api, worker and logs processes: the push reaches a
 * real receiver as the Alibaba payload and leaves a succeeded record in the access log.
 */
import { readFile } from 'node:fs/promises';
import { buildAcrPayload, buildPushCloudEvent } from '@registry-triggers/core';
import { type Receiver, startReceiver, uniqueName } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_TOKEN, type Json, type Stack, startStack } from './support/stack.js';

const samples = new URL('../apps/api/test/fixtures/sources/samples/', import.meta.url);
const sample = async (name: string): Promise<Json> =>
  JSON.parse(await readFile(new URL(name, samples), 'utf8'));
const digest = (seed: string) => `sha256:${Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)}`;

interface SourceCase {
  /** What the registry posts, for a push of `tag` to `namespace/repository`. */
  request(
    namespace: string,
    repository: string,
    tag: string,
    digest: string,
  ): Promise<{
    path: string;
    body: unknown;
    contentType: string;
    headers?: Record<string, string>;
    /** Registries that cannot set a header pass the token in the URL. */
    tokenInUrl?: boolean;
  }>;
  /** The digest the source reports (Docker Hub and Quay send none). */
  sendsDigest: boolean;
}

const CASES: Record<string, SourceCase> = {
  'harbor (Default)': {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = await sample('harbor-default-push.json');
      body.event_data.resources = [
        { digest: dig, tag, resource_url: `harbor.example.com/${ns}/${repo}:${tag}` },
      ];
      body.event_data.repository = {
        name: repo,
        namespace: ns,
        repo_full_name: `${ns}/${repo}`,
        repo_type: 'private',
      };
      return { path: '/v1/events/harbor', body, contentType: 'application/json' };
    },
  },
  'harbor (CloudEvents)': {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = await sample('harbor-cloudevents-push.json');
      body.id = uniqueName();
      body.data.resources = [{ digest: dig, tag, resource_url: `harbor.example.com/${ns}/${repo}:${tag}` }];
      body.data.repository = {
        name: repo,
        namespace: ns,
        repo_full_name: `${ns}/${repo}`,
        repo_type: 'private',
      };
      return { path: '/v1/events/harbor', body, contentType: 'application/cloudevents+json' };
    },
  },
  dockerhub: {
    sendsDigest: false,
    async request(ns, repo, tag) {
      const body = await sample('dockerhub-push.json');
      body.push_data = { ...body.push_data, tag, pushed_at: Math.floor(Date.now() / 1000) };
      body.repository = { ...body.repository, namespace: ns, name: repo, repo_name: `${ns}/${repo}` };
      return { path: '/v1/events/dockerhub', body, contentType: 'application/json', tokenInUrl: true };
    },
  },
  quay: {
    sendsDigest: false,
    async request(ns, repo, tag) {
      const body = {
        ...(await sample('quay-repo-push.json')),
        repository: `${ns}/${repo}`,
        namespace: ns,
        name: repo,
        updated_tags: [tag],
      };
      return { path: '/v1/events/quay', body, contentType: 'application/json', tokenInUrl: true };
    },
  },
  azure: {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = { ...(await sample('azure-acr-push.json')), id: uniqueName() };
      body.target = { ...body.target, repository: repo, tag, digest: dig };
      return { path: `/v1/events/azure?namespace=${ns}`, body, contentType: 'application/json' };
    },
  },
  ecr: {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = {
        ...(await sample('ecr-eventbridge-push.json')),
        id: uniqueName(),
        time: new Date().toISOString(),
      };
      body.detail = { ...body.detail, 'repository-name': repo, 'image-tag': tag, 'image-digest': dig };
      return { path: `/v1/events/ecr?namespace=${ns}`, body, contentType: 'application/json; charset=utf-8' };
    },
  },
  gar: {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = await sample('gar-pubsub-push.json');
      const image = `us-west1-docker.pkg.dev/${ns}/${repo}`;
      const data = { action: 'INSERT', digest: `${image}@${dig}`, tag: `${image}:${tag}` };
      body.message = {
        ...body.message,
        data: Buffer.from(JSON.stringify(data)).toString('base64'),
        messageId: uniqueName(),
        publishTime: new Date().toISOString(),
      };
      return { path: '/v1/events/gar', body, contentType: 'application/json', tokenInUrl: true };
    },
  },
  'cloudevents (zot, binary mode)': {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const body = {
        ...(await sample('zot-events.json')),
        name: `${ns}/${repo}`,
        reference: tag,
        digest: dig,
      };
      const headers = {
        'ce-specversion': '1.0',
        'ce-id': uniqueName(),
        'ce-source': 'zotregistry.dev',
        'ce-type': 'zotregistry.image.updated',
        'ce-time': new Date().toISOString(),
      };
      return { path: '/v1/events/cloudevents', body, contentType: 'application/json', headers };
    },
  },
  'cloudevents (our own push)': {
    sendsDigest: true,
    async request(ns, repo, tag, dig) {
      const pushedAt = Date.now();
      const repository = {
        namespace: ns,
        name: repo,
        region: 'upstream',
        createdAt: pushedAt,
        repoType: 'PUBLIC' as const,
        authenticationType: 'NO_CERTIFIED',
        originType: 'NO_CERTIFIED',
      };
      const payload = buildAcrPayload({ digest: dig, pushedAt, tag }, repository, 'UTC');
      const body = JSON.parse(
        buildPushCloudEvent({ id: uniqueName(), region: 'upstream', namespace: ns, pushedAt, payload }),
      );
      return { path: '/v1/events/cloudevents', body, contentType: 'application/cloudevents+json' };
    },
  },
};

describe('registry webhooks → worker → receiver → access log', () => {
  let stack: Stack;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await startStack({ env: { REGION: 'cn-hangzhou' } });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  it.each(Object.keys(CASES))('%s', async (name) => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const source = CASES[name]!;
    const ns = uniqueName();
    const repository = 'team-app';
    const tag = 'v1.2';
    const sent = digest(name);
    const trigger = await stack.createTrigger(ns, repository, {
      name: 'deploy',
      url: receiver.url,
      type: 'TAG_LIST',
      tags: [tag],
    });
    const request = await source.request(ns, repository, tag, sent);
    const url = new URL(`${stack.apiUrl}${request.path}`);
    if (request.tokenInUrl) url.searchParams.set('access_token', INGEST_TOKEN);
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': request.contentType,
        ...request.headers,
        ...(request.tokenInUrl ? {} : { authorization: `Bearer ${INGEST_TOKEN}` }),
      },
      body: JSON.stringify(request.body),
    });
    expect(answer.status, await answer.clone().text()).toBe(202);
    expect(await answer.json()).toMatchObject({ accepted: 1, duplicates: 0, ignored: 0 });

    const expectedDigest = source.sendsDigest ? sent : '';
    const [received] = await receiver.waitForRequests(1, 20_000);
    const payload = JSON.parse(received!.body);
    expect(Object.keys(payload)).toEqual(['push_data', 'repository']);
    expect(payload.push_data).toEqual({ digest: expectedDigest, pushed_at: expect.any(String), tag });
    expect(payload.repository).toMatchObject({
      name: repository,
      namespace: ns,
      region: 'cn-hangzhou',
      repo_full_name: `${ns}/${repository}`,
    });
    const [record] = await stack.records(ns, repository, trigger.id, 1, 'succeeded');
    expect(record).toMatchObject({
      namespace: ns,
      repository,
      tag,
      digest: expectedDigest,
      status: 'succeeded',
      statusCode: '200',
      requestBody: received!.body,
    });
  });
});
