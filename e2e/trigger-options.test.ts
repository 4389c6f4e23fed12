/**
 * The per-trigger delivery options through HTTP, against real receivers: artifact tags,
 * record reasons, digest moves, CloudEvents output and private CAs.
 */
import { randomBytes } from 'node:crypto';
import { verifyWebhook } from '@registry-triggers/core';
import { createPrivateCa, type Receiver } from '@registry-triggers/testing';
import { type CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, INGEST_TOKEN, type Json, type Stack } from './support/stack.js';
import {
  digestFor,
  type LoopbackServer,
  receiverPool,
  startLoopbackServer,
  startObservedStack,
  triggerRecords,
  waitForIdleQueues,
} from './support/worker-kit.js';

const NS = 'options';

// What `cosign sign`, `cosign attest` and `cosign attach sbom` leave beside an image, and the
// OCI referrers fallback tag, for the image whose manifest digest is SUBJECT.
const SUBJECT = 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';
const ARTIFACT_TAGS = [
  `sha256-${SUBJECT}.sig`,
  `sha256-${SUBJECT}.att`,
  `sha256-${SUBJECT}.sbom`,
  `sha256-${SUBJECT}`,
];

describe('trigger options', () => {
  let stack: Stack;
  let metricsUrl: string;
  const receivers = receiverPool();
  let seq = 0;
  const push = async (repository: string, tag: string, digest = digestFor(++seq)) => {
    const eventId = `evt-options-${repository}-${++seq}`;
    const pushed = await stack.push({ namespace: NS, repository, tag, digest, eventId });
    expect(pushed.status).toBe(202);
    return eventId;
  };
  const tagsOf = (rx: Receiver) => rx.requests.map((r) => JSON.parse(r.body).push_data.tag as string);

  beforeAll(async () => {
    ({ stack, metricsUrl } = await startObservedStack(2000));
  }, 90_000);

  afterAll(async () => {
    await receivers.closeAll();
    await stack?.stop();
  });

  describe('skipArtifactTags', () => {
    it('a cosign-style tag list fires only for the image tag by default; false fires for every tag', async () => {
      const [skipping, plain] = [await receivers.start(), await receivers.start()];
      const byDefault = await stack.createTrigger(NS, 'signed', {
        name: 'default',
        url: skipping.url,
        type: 'ALL',
      });
      const acr = await stack.createTrigger(NS, 'signed', {
        name: 'plain acr',
        url: plain.url,
        type: 'ALL',
        skipArtifactTags: false,
      });
      expect(acr).toMatchObject({ skipArtifactTags: false });
      for (const tag of ['v1.2.3', ...ARTIFACT_TAGS]) await push('signed', tag);

      await plain.waitForRequests(5);
      await waitForIdleQueues(metricsUrl);
      expect(tagsOf(skipping)).toEqual(['v1.2.3']);
      expect(tagsOf(plain).sort()).toEqual(['v1.2.3', ...ARTIFACT_TAGS].sort());

      const records: Json[] = await stack.records(NS, 'signed', byDefault.id, 5);
      const untriggered = records.filter((r) => r.status === 'untriggered');
      expect(untriggered.map((r) => r.tag).sort()).toEqual([...ARTIFACT_TAGS].sort());
      for (const record of untriggered) {
        expect(record).toMatchObject({ statusCode: 'untriggered', reason: 'artifact-tag', deliveryId: null });
      }
      expect(records.find((r) => r.tag === 'v1.2.3')).toMatchObject({ status: 'succeeded' });
      expect(records.find((r) => r.tag === 'v1.2.3').reason).toBeUndefined();
      const plainRecords = await triggerRecords(stack, NS, 'signed', acr.id);
      expect(plainRecords.map((r: Json) => r.status)).toEqual(Array(5).fill('succeeded'));
    });

    it('a filter that does not match is reason `filter`, also for an artifact tag', async () => {
      const rx = await receivers.start();
      const trigger = await stack.createTrigger(NS, 'listed', {
        name: 'latest only',
        url: rx.url,
        type: 'TAG_LIST',
        tags: ['latest'],
      });
      await push('listed', 'v2');
      await push('listed', ARTIFACT_TAGS[0]!);
      const records: Json[] = await stack.records(NS, 'listed', trigger.id, 2);
      expect(records.map((r) => [r.tag, r.status, r.reason])).toEqual([
        [ARTIFACT_TAGS[0], 'untriggered', 'filter'],
        ['v2', 'untriggered', 'filter'],
      ]);
    });
  });

  it.each([
    ['skipArtifactTags', 'yes', 'skipArtifactTags must be true or false'],
    ['onlyOnDigestChange', 1, 'onlyOnDigestChange must be true or false'],
    ['format', 'xml', 'format must be one of acr, cloudevents, cloudevents-structured'],
  ])('a bad %s is a 400 naming the field and the rule', async (field, value, message) => {
    const answer = await stack.call('POST', `/v1/namespaces/${NS}/repositories/bad/triggers`, {
      name: 'bad',
      url: 'http://127.0.0.1:1025/x',
      type: 'ALL',
      [field]: value,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: field, message }]);
  });

  describe('record reasons', () => {
    const recordsOf = async (repository: string, query: string) => {
      const page = await stack.logsCall(
        `/v1/namespaces/${NS}/repositories/${encodeURIComponent(repository)}/records?limit=200&${query}`,
      );
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      return page.body.records as Json[];
    };

    it('a delivery whose trigger was disabled while it waited to retry ends failed with reason `disabled`', async () => {
      const rx = await receivers.start();
      rx.respondWith(() => ({ status: 503, body: 'down' }));
      const body = { name: 'flaky', url: rx.url, type: 'ALL' };
      const trigger = await stack.createTrigger(NS, 'paused', body);
      await push('paused', 'v1');
      await stack.records(NS, 'paused', trigger.id, 1, 'retrying');
      const put = await stack.call('PUT', `/v1/namespaces/${NS}/repositories/paused/triggers/${trigger.id}`, {
        ...body,
        enabled: false,
      });
      expect(put.status).toBe(200);

      const [failed] = await stack.records(NS, 'paused', trigger.id, 1, 'failed');
      expect(failed).toMatchObject({ statusCode: 'TRIGGER_DISABLED', reason: 'disabled', attempt: 2 });
      expect(await recordsOf('paused', 'reason=disabled')).toEqual([failed]);
      expect(await recordsOf('paused', 'reason=filter')).toEqual([]);
    });

    it('?reason= filters trigger, repository and namespace records; an unknown reason is a 400', async () => {
      const rx = await receivers.start();
      const trigger = await stack.createTrigger(NS, 'reasons', { name: 'all', url: rx.url, type: 'ALL' });
      for (const tag of ['v1', ...ARTIFACT_TAGS.slice(0, 2)]) await push('reasons', tag);
      await stack.records(NS, 'reasons', trigger.id, 3);
      const skipped = await recordsOf('reasons', 'reason=artifact-tag');
      expect(skipped.map((r) => r.tag).sort()).toEqual(ARTIFACT_TAGS.slice(0, 2).sort());
      const ofTrigger = await stack.logsCall(
        `/v1/namespaces/${NS}/repositories/reasons/triggers/${trigger.id}/records?reason=artifact-tag&status=untriggered`,
      );
      expect(ofTrigger.body.records).toEqual(skipped);
      const ofNamespace = await stack.logsCall(`/v1/namespaces/${NS}/records?reason=artifact-tag&limit=200`);
      expect(ofNamespace.body.records.filter((r: Json) => r.repository === 'reasons')).toEqual(skipped);
      expect(ofNamespace.body.records.every((r: Json) => r.reason === 'artifact-tag')).toBe(true);

      const bad = await stack.logsCall(`/v1/namespaces/${NS}/records?reason=bogus`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        {
          path: 'query.reason',
          message:
            'reason must be one of filter, artifact-tag, same-digest, disabled, trigger-deleted, worker-lost, superseded, rate-limited, ordered, cancelled',
        },
      ]);
    });
  });

  describe('onlyOnDigestChange', () => {
    it('a re-push of the same digest does not fire; a moved tag carries X-Registry-Previous-Digest', async () => {
      const [watcher, plain] = [await receivers.start(), await receivers.start()];
      const watching = await stack.createTrigger(NS, 'moves', {
        name: 'on change',
        url: watcher.url,
        type: 'ALL',
        onlyOnDigestChange: true,
      });
      await stack.createTrigger(NS, 'moves', { name: 'every push', url: plain.url, type: 'ALL' });
      const [d1, d2] = [digestFor(9001), digestFor(9002)];
      await push('moves', 'latest', d1);
      await watcher.waitForRequests(1);
      await push('moves', 'latest', d1);
      await plain.waitForRequests(2);
      await push('moves', 'latest', d2);
      await watcher.waitForRequests(2);
      await plain.waitForRequests(3);
      await waitForIdleQueues(metricsUrl);

      const digests = (rx: Receiver) => rx.requests.map((r) => JSON.parse(r.body).push_data.digest);
      expect(digests(watcher)).toEqual([d1, d2]);
      expect(watcher.requests.map((r) => r.headers['x-registry-previous-digest'])).toEqual([undefined, d1]);
      expect(digests(plain)).toEqual([d1, d1, d2]);
      // The header belongs to the option: a trigger without it gets today's headers.
      expect(plain.requests.every((r) => r.headers['x-registry-previous-digest'] === undefined)).toBe(true);

      const records: Json[] = await stack.records(NS, 'moves', watching.id, 3);
      expect(records.map((r) => [r.status, r.digest, r.reason])).toEqual([
        ['succeeded', d2, undefined],
        ['untriggered', d1, 'same-digest'],
        ['succeeded', d1, undefined],
      ]);
      expect(records[0].requestHeaders['x-registry-previous-digest']).toBe(d1);
    });

    it('racing pushes of one tag to one digest fire once per tag', async () => {
      const rx = await receivers.start();
      const watching = await stack.createTrigger(NS, 'racing', {
        name: 'on change',
        url: rx.url,
        type: 'ALL',
        onlyOnDigestChange: true,
      });
      const tags = ['a', 'b', 'c', 'd', 'e'];
      // One request, so the worker evaluates the pairs at once (EVALUATION_CONCURRENCY 16).
      const events = tags.flatMap((tag, i) =>
        [1, 2].map((copy) => ({
          namespace: NS,
          repository: 'racing',
          tag,
          digest: digestFor(9100 + i),
          eventId: `evt-race-${tag}-${copy}`,
        })),
      );
      const pushed = await stack.push(events);
      expect(pushed.body).toMatchObject({ accepted: 10 });
      await stack.records(NS, 'racing', watching.id, 10);
      await waitForIdleQueues(metricsUrl);
      expect(rx.requests.map((r) => JSON.parse(r.body).push_data.tag).sort()).toEqual(tags);
      expect(rx.requests.every((r) => r.headers['x-registry-previous-digest'] === undefined)).toBe(true);
      const records = await triggerRecords(stack, NS, 'racing', watching.id);
      expect(
        records
          .filter((r: Json) => r.reason === 'same-digest')
          .map((r: Json) => r.tag)
          .sort(),
      ).toEqual(tags);
    });
  });

  describe('format', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const signedOk = (request: Receiver['requests'][number]) =>
      verifyWebhook(
        secret,
        request.headers['webhook-id']!,
        Number(request.headers['webhook-timestamp']),
        request.body,
        request.headers['webhook-signature']!,
      );
    /** What a CloudEvents receiver makes of the request, with the SDK's own spec validation. */
    const parse = (request: Receiver['requests'][number]) => {
      const event = HTTP.toEvent({ headers: request.headers, body: request.body }) as CloudEvent<unknown>;
      expect(event.validate()).toBe(true);
      return event;
    };

    it('cloudevents (binary) and cloudevents-structured carry the ACR JSON, signed over the bytes sent', async () => {
      const [acr, binary, structured] = [
        await receivers.start(),
        await receivers.start(),
        await receivers.start(),
      ];
      const triggers = {
        acr: await stack.createTrigger(NS, 'ce', { name: 'acr', url: acr.url, type: 'ALL', secret }),
        binary: await stack.createTrigger(NS, 'ce', {
          name: 'binary',
          url: binary.url,
          type: 'ALL',
          secret,
          format: 'cloudevents',
          headers: { 'Ce-Type': 'mine', 'X-Env': 'prod' },
        }),
        structured: await stack.createTrigger(NS, 'ce', {
          name: 'structured',
          url: structured.url,
          type: 'ALL',
          secret,
          format: 'cloudevents-structured',
        }),
      };
      expect(triggers.binary).toMatchObject({ format: 'cloudevents' });
      const pushedAt = '2026-12-03T10:11:12Z';
      const digest = digestFor(9200);
      const pushed = await stack.push({
        namespace: NS,
        repository: 'ce',
        tag: 'v7',
        digest,
        pushedAt,
        eventId: 'evt-ce-1',
      });
      expect(pushed.status).toBe(202);
      const [plain, bin, struct] = await Promise.all(
        [acr, binary, structured].map(async (rx) => (await rx.waitForRequests(1))[0]),
      );

      // ACR stays today's bytes: no CloudEvents header.
      expect(plain!.headers['content-type']).toBe('application/json');
      expect(Object.keys(plain!.headers).filter((name) => name.startsWith('ce-'))).toEqual([]);
      const acrJson = JSON.parse(plain!.body);
      expect(acrJson.push_data).toMatchObject({ tag: 'v7', digest, pushed_at: '2026-12-03 10:11:12' });

      for (const [request, mode] of [
        [bin!, 'binary'],
        [struct!, 'structured'],
      ] as const) {
        expect(signedOk(request), mode).toBe(true);
        const event = parse(request);
        expect(event, mode).toMatchObject({
          specversion: '1.0',
          id: request.headers['webhook-id'],
          source: `/registry-triggers/local/${NS}`,
          type: 'dev.registry-triggers.push',
          subject: 'ce:v7',
          time: '2026-12-03T10:11:12.000Z',
          datacontenttype: 'application/json',
        });
        expect(event.data, mode).toEqual(acrJson);
      }
      expect(signedOk(plain!)).toBe(true);
      // Binary mode sends the ACR bytes themselves; structured wraps them unchanged.
      expect(bin!.body).toBe(plain!.body);
      expect(bin!.headers['content-type']).toBe('application/json');
      // The format owns its ce- headers: a trigger header of the same name is not sent beside them.
      expect(bin!.headers['x-env']).toBe('prod');
      expect(bin!.rawHeaders.filter((name) => name.toLowerCase() === 'ce-type')).toHaveLength(1);
      expect(struct!.headers['content-type']).toBe('application/cloudevents+json');
      expect(struct!.body.endsWith(`"data":${plain!.body}}`)).toBe(true);

      // The record shows what was sent.
      const [record] = await stack.records(NS, 'ce', triggers.structured.id, 1, 'succeeded');
      expect(record.requestBody).toBe(struct!.body);
      expect(record.requestHeaders['content-type']).toBe('application/cloudevents+json');
    });

    it('what a cloudevents trigger delivered, posted to another stack`s /v1/events/cloudevents, is taken as that push', async () => {
      const [binary, structured, relayed] = [
        await receivers.start(),
        await receivers.start(),
        await receivers.start(),
      ];
      for (const [rx, format] of [
        [binary, 'cloudevents'],
        [structured, 'cloudevents-structured'],
      ] as const) {
        await stack.createTrigger(NS, 'relay', { name: format, url: rx.url, type: 'ALL', format });
      }
      // Placed by ?namespace=, the relayed push keeps the sender's full name as its repository.
      const downstream = await stack.createTrigger('relayed', `${NS}/relay`, {
        name: 'downstream',
        url: relayed.url,
        type: 'ALL',
      });
      const digest = digestFor(9300);
      await push('relay', 'v8', digest);
      for (const rx of [binary, structured]) {
        const [delivered] = await rx.waitForRequests(1);
        const headers = Object.fromEntries(
          Object.entries(delivered!.headers).filter(
            ([name]) => name === 'content-type' || name.startsWith('ce-'),
          ),
        );
        const answer = await fetch(`${stack.apiUrl}/v1/events/cloudevents?namespace=relayed`, {
          method: 'POST',
          headers: { ...headers, authorization: `Bearer ${INGEST_TOKEN}` },
          body: delivered!.body,
        });
        expect(await answer.json(), JSON.stringify(delivered!.headers)).toEqual({
          accepted: 1,
          duplicates: 0,
          eventIds: [delivered!.headers['webhook-id']],
          ignored: 0,
        });
      }
      const received = await relayed.waitForRequests(2);
      for (const request of received) {
        expect(JSON.parse(request.body).push_data).toMatchObject({ tag: 'v8', digest });
      }
      const records: Json[] = await stack.records('relayed', `${NS}/relay`, downstream.id, 2, 'succeeded');
      expect(records.map((r) => [r.repository, r.tag, r.digest])).toEqual([
        [`${NS}/relay`, 'v8', digest],
        [`${NS}/relay`, 'v8', digest],
      ]);
    });
  });

  describe('private CA bundle', () => {
    const bundlePath = `/v1/namespaces/${NS}/ca-bundle`;
    const send = async (
      method: string,
      body?: string,
      contentType = 'application/x-pem-file',
      token = ADMIN_TOKEN,
    ) => {
      const response = await fetch(`${stack.apiUrl}${bundlePath}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      return { status: response.status, type: response.headers.get('content-type') ?? '', text };
    };

    it('HTTPS to a receiver of a private CA: fails verification without the bundle, succeeds with it, fails after DELETE', async (context) => {
      // A loopback address of its own, so no other test's port 443 is in the way.
      const ip = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
      const ca = await createPrivateCa();
      const tls = await ca.issue(ip);
      let server: LoopbackServer;
      try {
        // https trigger URLs must use port 443 (verification on, no other port), so the receiver takes it.
        server = await startLoopbackServer({ host: ip, port: 443, tls });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EACCES') {
          context.skip('binding port 443 needs root or CAP_NET_BIND_SERVICE');
        }
        throw error;
      }
      try {
        const url = `https://${ip}/hook`;
        const trigger = await stack.createTrigger(NS, 'private-ca', { name: 'internal', url, type: 'ALL' });
        const failedRecords = (count: number) => stack.records(NS, 'private-ca', trigger.id, count, 'failed');

        await push('private-ca', 'v1');
        const [untrusted] = await failedRecords(1);
        expect(untrusted.statusCode).toMatch(/UNABLE_TO_VERIFY|CERT/);
        expect(server.requests).toHaveLength(0);

        const put = await send('PUT', ca.cert);
        expect(put.status, put.text).toBe(200);
        expect(JSON.parse(put.text)).toMatchObject({
          namespace: NS,
          certificates: 1,
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        const read = await send('GET');
        expect(read).toMatchObject({ status: 200, text: ca.cert });
        expect(read.type).toMatch(/^application\/x-pem-file/);

        await push('private-ca', 'v2');
        const [delivered] = await stack.records(NS, 'private-ca', trigger.id, 1, 'succeeded');
        expect(delivered).toMatchObject({ statusCode: '200', tag: 'v2' });
        expect(server.requests.map((r) => JSON.parse(r.body).push_data.tag)).toEqual(['v2']);

        expect((await send('DELETE')).status).toBe(204);
        expect((await send('GET')).status).toBe(404);
        await push('private-ca', 'v3');
        const failed = await failedRecords(2);
        expect(failed[0]).toMatchObject({ tag: 'v3' });
        expect(failed[0].statusCode).toMatch(/UNABLE_TO_VERIFY|CERT/);
        await waitForIdleQueues(metricsUrl);
        expect(server.requests).toHaveLength(1);
      } finally {
        await server.close();
      }
    });

    it('a bundle that does not parse is a 400 naming the problem; too large 413; not PEM 415', async () => {
      const ca = await createPrivateCa();
      const garbled = ca.cert.replace(/^(-----BEGIN CERTIFICATE-----\n)(.{8})/, '$1AAAAAAAA');
      const cases: Array<[string, string, RegExp]> = [
        ['', 'text/plain', /no PEM CERTIFICATE block/],
        ['hello', 'text/plain', /text outside PEM blocks/],
        [garbled, 'application/x-pem-file', /certificate 1 does not parse as X\.509/],
        [
          `${ca.cert}-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n`,
          'application/x-pem-file',
          /block 2 is a PRIVATE KEY, not a CERTIFICATE/,
        ],
      ];
      for (const [body, type, problem] of cases) {
        const answer = await send('PUT', body, type);
        expect(answer.status, body.slice(0, 40)).toBe(400);
        expect(answer.type).toMatch(/problem\+json/);
        expect(JSON.parse(answer.text).errors).toEqual([
          { path: 'body', message: expect.stringMatching(problem) },
        ]);
      }
      expect((await send('PUT', ca.cert.repeat(Math.ceil((65 * 1024) / ca.cert.length)))).status).toBe(413);
      expect((await send('PUT', JSON.stringify({ pem: ca.cert }), 'application/json')).status).toBe(415);
      expect((await send('GET')).status).toBe(404);
    });

    it('a read token may GET the bundle but not write it', async () => {
      const issued = await stack.call('POST', `/v1/namespaces/${NS}/tokens`, {
        name: 'reader',
        scope: 'read',
      });
      expect(issued.status).toBe(201);
      const reader = issued.body.token as string;
      const ca = await createPrivateCa();
      expect((await send('PUT', ca.cert, 'text/plain', reader)).status).toBe(403);
      expect((await send('PUT', ca.cert)).status).toBe(200);
      expect(await send('GET', undefined, undefined, reader)).toMatchObject({ status: 200, text: ca.cert });
      expect((await send('DELETE', undefined, undefined, reader)).status).toBe(403);
      expect((await send('DELETE')).status).toBe(204);
    });
  });
});
