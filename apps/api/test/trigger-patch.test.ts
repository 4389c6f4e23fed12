// PATCH of a trigger (JSON Merge Patch), write-only header values, and the 409s of redeliver
// and cancel, over real HTTP against a real Redis. The cancel of a delivery in flight, with a
// real worker: e2e/cancel-delivery.test.ts.
import { TriggerStore } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

const redisServer = useRedis();
let api: ApiHarness;
let ns: string;
let repo: string;

beforeAll(async () => {
  api = await startApi(redisServer(), { testDeliveryWaitMs: 100 });
  ns = uniqueName('patch');
  repo = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
});
afterAll(async () => {
  await api?.close();
});

const MERGE_PATCH = 'application/merge-patch+json';

async function createTrigger(body: Record<string, unknown> = {}) {
  const response = await api.request('POST', `${repo}/triggers`, {
    token: api.adminToken,
    body: {
      name: 'redeploy',
      url: 'https://hooks.example.com/x',
      type: 'TAG_LIST',
      tags: ['v1'],
      secret: 'a-secret-value',
      headers: { Authorization: 'Bearer receiver-secret', 'X-Env': 'prod' },
      ...body,
    },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string };
}

const stored = (id: string) => new TriggerStore(api.redis).get(ns, 'team/app', id);
const patch = (id: string, body: unknown, contentType = MERGE_PATCH) =>
  api.request('PATCH', `${repo}/triggers/${id}`, { token: api.adminToken, body, contentType });

describe('PATCH a trigger with a JSON Merge Patch', () => {
  it('{"enabled": false} disables it and keeps every other field, secret and header values included', async () => {
    const { id } = await createTrigger();
    const before = await stored(id);
    const response = await patch(id, { enabled: false });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      id,
      enabled: false,
      name: 'redeploy',
      tags: ['v1'],
      secret: '***',
    });
    const after = await stored(id);
    expect(after).toEqual({ ...before, enabled: false, updatedAt: after!.updatedAt });
    expect(after!.updatedAt).toBeGreaterThanOrEqual(before!.updatedAt);
  });

  it('takes application/json as well, and refuses other media types and bodies that are not objects', async () => {
    const { id } = await createTrigger();
    expect((await patch(id, { name: 'renamed' }, 'application/json')).body.name).toBe('renamed');
    expectProblemShape(await patch(id, 'name=x', 'text/plain'), 415);
    const array = expectProblemShape(await patch(id, [{ name: 'x' }]), 400);
    expect(array.errors?.[0]).toEqual({ path: '(body)', message: expect.stringMatching(/JSON object/) });
    for (const body of ['"just a string"', '42', 'null']) expectProblemShape(await patch(id, body), 400);
  });

  it('null removes an optional field, or one header by name', async () => {
    const { id } = await createTrigger();
    const response = await patch(id, { secret: null, headers: { 'X-Env': null } });
    expect(response.status, response.text).toBe(200);
    expect(response.body.secret).toBeUndefined();
    expect(response.body.headers).toEqual({ Authorization: '***' });
    const after = await stored(id);
    expect(after!.secret).toBeUndefined();
    expect(after!.headers).toEqual({ Authorization: 'Bearer receiver-secret' });
  });

  it('checks the patched trigger with the rules of PUT and changes nothing when they fail', async () => {
    const { id } = await createTrigger();
    const before = await stored(id);
    // Another type without dropping tags: the PUT rule about which fields a type allows.
    const wrongFields = expectProblemShape(await patch(id, { type: 'ALL' }), 400);
    expect(wrongFields.errors).toContainEqual({
      path: 'tags',
      message: 'tags are only allowed when type is TAG_LIST',
    });
    const required = expectProblemShape(await patch(id, { name: null }), 400);
    expect(required.errors?.map((error) => error.path)).toEqual(['name']);
    const badUrl = expectProblemShape(await patch(id, { url: 'ftp://x' }), 400);
    expect(badUrl.errors?.[0]?.path).toBe('url');
    const unknown = expectProblemShape(await patch(id, { colour: 'red' }), 400);
    expect(unknown.detail).toMatch(/unknown field/);
    const moved = expectProblemShape(await patch(id, { id: 'another' }), 400);
    expect(moved.errors?.[0]?.path).toBe('id');
    expect(await stored(id)).toEqual(before);
    // Both changes at once make a valid trigger.
    expect((await patch(id, { type: 'ALL', tags: null })).status).toBe(200);
  });

  it('loses no update when many PATCHes of one trigger run at once', async () => {
    const { id } = await createTrigger({ headers: {} });
    const names = Array.from({ length: 8 }, (_, i) => `X-Patch-${i}`);
    const responses = await Promise.all(names.map((name) => patch(id, { headers: { [name]: name } })));
    expect(responses.map((response) => response.status)).toEqual(names.map(() => 200));
    const after = await stored(id);
    expect(after!.headers).toEqual(Object.fromEntries(names.map((name) => [name, name])));
  });

  it('answers 404 for an unknown trigger and for another namespace', async () => {
    expectProblemShape(await patch('nope', { enabled: false }), 404);
    const { id } = await createTrigger();
    const foreign = await api.issueToken(uniqueName('foreign'));
    const response = await api.request('PATCH', `${repo}/triggers/${id}`, {
      token: foreign,
      body: { enabled: false },
      contentType: MERGE_PATCH,
    });
    expectProblemShape(response, 404);
    expect((await stored(id))!.enabled).toBe(true);
  });
});

describe('custom header values are write-only', () => {
  it('every read shows the header names with "***"', async () => {
    const { id } = await createTrigger();
    const reads = [
      (await api.request('GET', `${repo}/triggers/${id}`, { token: api.adminToken })).body,
      (await api.request('GET', `${repo}/triggers`, { token: api.adminToken })).body.triggers.find(
        (t: { id: string }) => t.id === id,
      ),
      (await patch(id, { name: 'again' })).body,
    ];
    for (const read of reads) {
      expect(read.headers).toEqual({ Authorization: '***', 'X-Env': '***' });
      expect(JSON.stringify(read)).not.toContain('receiver-secret');
    }
  });

  it('a PUT of the trigger as read keeps the stored values; a new value replaces one', async () => {
    const { id } = await createTrigger();
    const read = (await api.request('GET', `${repo}/triggers/${id}`, { token: api.adminToken })).body;
    const put = await api.request('PUT', `${repo}/triggers/${id}`, {
      token: api.adminToken,
      body: { ...read, headers: { Authorization: '***', 'x-env': 'staging' } },
    });
    expect(put.status, put.text).toBe(200);
    // 'x-env' replaces the value; a masked name keeps its value whatever its case.
    expect((await stored(id))!.headers).toEqual({
      Authorization: 'Bearer receiver-secret',
      'x-env': 'staging',
    });
    expect((await stored(id))!.secret).toBe('a-secret-value');
    const renamedCase = await api.request('PUT', `${repo}/triggers/${id}`, {
      token: api.adminToken,
      body: { ...read, headers: { authorization: '***' } },
    });
    expect(renamedCase.status, renamedCase.text).toBe(200);
    expect((await stored(id))!.headers).toEqual({ authorization: 'Bearer receiver-secret' });
  });

  it('"***" for a header with no stored value is refused by name (POST, PUT and PATCH)', async () => {
    const posted = await api.request('POST', `${repo}/triggers`, {
      token: api.adminToken,
      body: { name: 'n', url: 'https://hooks.example.com/x', type: 'ALL', headers: { 'X-New': '***' } },
    });
    expect(expectProblemShape(posted, 400).errors).toEqual([
      { path: 'headers.X-New', message: expect.stringMatching(/no stored value/) },
    ]);
    const { id } = await createTrigger();
    const patched = expectProblemShape(await patch(id, { headers: { 'X-Other': '***' } }), 400);
    expect(patched.errors?.[0]?.path).toBe('headers.X-Other');
  });
});

describe('redeliver and cancel answer 409 for a record they cannot act on', () => {
  let triggerId: string;
  let otherId: string;
  const recordIds: Record<'untriggered' | 'succeeded' | 'otherTrigger', string> = {
    untriggered: '',
    succeeded: '',
    otherTrigger: '',
  };

  beforeAll(async () => {
    triggerId = (await createTrigger({ name: 'mine' })).id;
    otherId = (await createTrigger({ name: 'theirs' })).id;
    const base = {
      triggerName: 'mine',
      triggerUrl: 'https://hooks.example.com/x',
      triggerType: 'TAG_LIST' as const,
      triggerTag: 'v1',
      eventId: 'evt-1',
      namespace: ns,
      repository: 'team/app',
      digest: digestOf(1),
      requestTime: Date.now(),
      durationMs: 0,
      requestHeaders: {},
      requestBody: '',
      responseHeaders: {},
      responseBody: '',
    };
    recordIds.untriggered = await api.records.append({
      ...base,
      triggerId,
      deliveryId: null,
      tag: 'v2',
      status: 'untriggered',
      statusCode: 'untriggered',
      attempt: 0,
    });
    recordIds.succeeded = await api.records.append({
      ...base,
      triggerId,
      deliveryId: 'msg_done',
      tag: 'v1',
      status: 'succeeded',
      statusCode: '200',
      attempt: 1,
    });
    recordIds.otherTrigger = await api.records.append({
      ...base,
      triggerId: otherId,
      triggerName: 'theirs',
      deliveryId: 'msg_theirs',
      tag: 'v1',
      status: 'retrying',
      statusCode: '503',
      attempt: 1,
    });
  });

  const act = (action: 'redeliver' | 'cancel', recordId: string) =>
    api.request('POST', `${repo}/triggers/${triggerId}/records/${recordId}/${action}`, {
      token: api.adminToken,
    });

  it.each(['redeliver', 'cancel'] as const)(
    '%s of another trigger’s record names that trigger',
    async (action) => {
      const problem = expectProblemShape(await act(action, recordIds.otherTrigger), 409);
      expect(problem.code).toBe('record-of-another-trigger');
      expect(problem.detail).toContain(otherId);
      expect(problem.detail).toContain('"theirs"');
    },
  );

  it.each(['redeliver', 'cancel'] as const)(
    '%s of an untriggered record says the tag did not match',
    async (action) => {
      const problem = expectProblemShape(await act(action, recordIds.untriggered), 409);
      expect(problem.code).toBe('record-untriggered');
      expect(problem.detail).toMatch(/tag "v2" did not match the filter of trigger/);
    },
  );

  it('cancel of a finished delivery is a 409, and an unknown record a 404', async () => {
    const problem = expectProblemShape(await act('cancel', recordIds.succeeded), 409);
    expect(problem.code).toBe('delivery-finished');
    expect(problem.detail).toMatch(/no pending retries/);
    expectProblemShape(await act('cancel', '1-0'), 404);
    expect((await act('redeliver', recordIds.succeeded)).status).toBe(202);
  });
});
