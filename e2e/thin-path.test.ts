/**
 * The thinnest complete path, as a user sees it: a trigger created through the api, a
 * push event posted, the exact Alibaba payload at a real receiver, and the record of
 * that delivery in the access log served by the logs app.
 */
import { type Receiver, startReceiver } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';

describe('push event → worker → receiver → access log', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startStack({ env: { REGION: 'cn-hangzhou', PAYLOAD_TIMEZONE: 'Asia/Shanghai' } });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('delivers the exact Alibaba payload and logs the attempt', async () => {
    const repo = await stack.call('PUT', '/v1/namespaces/namespace/repositories/repo-test', {
      repoType: 'PUBLIC',
    });
    expect(repo.status).toBe(201);
    const createdAt = repo.body.createdAt as number;
    const trigger = await stack.createTrigger('namespace', 'repo-test', {
      name: 'redeploy',
      url: `${receiver.url}?secret=s3cr3t`,
      type: 'ALL',
      headers: { 'X-Env': 'prod', 'User-Agent': 'deploy-bot/2' },
    });

    // 2016-11-29 12:25:46 in Asia/Shanghai (UTC+8), as in the Alibaba example.
    const pushed = await stack.push({
      namespace: 'namespace',
      repository: 'repo-test',
      tag: 'latest',
      digest: DIGEST,
      pushedAt: '2016-11-29T04:25:46Z',
      eventId: 'evt-thin-path-1',
    });
    expect(pushed.status).toBe(202);
    expect(pushed.body).toEqual({ accepted: 1, duplicates: 0, eventIds: ['evt-thin-path-1'] });

    const [received] = await receiver.waitForRequests(1, 20_000);
    const dateCreated = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Asia/Shanghai',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(createdAt));
    expect(received!.method).toBe('POST');
    expect(received!.url).toBe('/hook?secret=s3cr3t');
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.body).toBe(
      `{"push_data":{"digest":"${DIGEST}","pushed_at":"2016-11-29 12:25:46","tag":"latest"},` +
        `"repository":{"date_created":"${dateCreated}","name":"repo-test","namespace":"namespace",` +
        `"region":"cn-hangzhou","repo_authentication_type":"NO_CERTIFIED","repo_full_name":"namespace/repo-test",` +
        `"repo_origin_type":"NO_CERTIFIED","repo_type":"PUBLIC"}}`,
    );
    // The trigger's headers as configured; its User-Agent replaces the product's, sent once.
    expect(received!.headers['x-env']).toBe('prod');
    const userAgents = received!.rawHeaders.filter(
      (_, i, raw) => i % 2 === 1 && /^user-agent$/i.test(raw[i - 1]!),
    );
    expect(userAgents).toEqual(['deploy-bot/2']);
    expect(received!.headers['webhook-id']).toMatch(/^msg_/);
    expect(Number(received!.headers['webhook-timestamp'])).toBeGreaterThan(1_700_000_000);

    const [record] = await stack.records('namespace', 'repo-test', trigger.id, 1);
    expect(record).toMatchObject({
      triggerId: trigger.id,
      triggerName: 'redeploy',
      triggerUrl: `${receiver.url}?secret=***`,
      triggerType: 'ALL',
      eventId: 'evt-thin-path-1',
      deliveryId: received!.headers['webhook-id'],
      namespace: 'namespace',
      repository: 'repo-test',
      tag: 'latest',
      digest: DIGEST,
      status: 'succeeded',
      statusCode: '200',
      attempt: 1,
      requestBody: received!.body,
      responseBody: 'ok',
    });
    expect(record.requestHeaders['webhook-id']).toBe(received!.headers['webhook-id']);
    expect(record.requestHeaders).toMatchObject({ 'X-Env': 'prod', 'User-Agent': 'deploy-bot/2' });
    expect(Object.keys(record.requestHeaders).filter((name) => /^user-agent$/i.test(name))).toHaveLength(1);
    const one = await stack.logsCall(`/v1/namespaces/namespace/records/${record.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(record);
  });

  it('creates a repository on its first push, readable as soon as the push is accepted', async () => {
    const before = Date.now();
    const pushed = await stack.push({
      namespace: 'namespace',
      repository: 'team/fresh',
      tag: 'v1',
      digest: DIGEST,
    });
    expect(pushed.status).toBe(202);
    const repo = await stack.call(
      'GET',
      `/v1/namespaces/namespace/repositories/${encodeURIComponent('team/fresh')}`,
    );
    expect(repo.status).toBe(200);
    expect(repo.body).toMatchObject({ namespace: 'namespace', name: 'team/fresh', repoType: 'PRIVATE' });
    expect(repo.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('answers a repeated event id as a duplicate and delivers it once', async () => {
    const before = receiver.requests.length;
    const event = {
      namespace: 'namespace',
      repository: 'repo-test',
      tag: 'v2',
      digest: DIGEST,
      eventId: 'evt-dup',
    };
    const first = await stack.push(event);
    const again = await stack.push([event, event]);
    expect(first.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2 });
    await receiver.waitForRequests(before + 1, 20_000);
    // A later, different event must arrive after the single delivery of the duplicate one.
    await stack.push({ ...event, eventId: 'evt-after-dup', tag: 'v3' });
    const all = await receiver.waitForRequests(before + 2, 20_000);
    const tags = all.slice(before).map((r) => JSON.parse(r.body).push_data.tag);
    expect(tags.sort()).toEqual(['v2', 'v3']);
  });

  it('sends a test delivery and answers with its record; redelivers a record with a new webhook-id', async () => {
    const trigger = await stack.createTrigger('namespace', 'manual', {
      name: 'manual',
      url: receiver.url,
      type: 'ALL',
    });
    const base = `/v1/namespaces/namespace/repositories/manual/triggers/${trigger.id}`;
    const before = receiver.requests.length;

    const tested = await stack.call('POST', `${base}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({
      triggerId: trigger.id,
      tag: 'test',
      status: 'succeeded',
      statusCode: '200',
    });
    const [testRequest] = (await receiver.waitForRequests(before + 1, 20_000)).slice(before);
    expect(JSON.parse(testRequest!.body).push_data.tag).toBe('test');
    expect(testRequest!.headers['webhook-id']).toBe(tested.body.deliveryId);

    const redelivered = await stack.call('POST', `${base}/records/${tested.body.id}/redeliver`);
    expect(redelivered.status).toBe(202);
    const [again] = (await receiver.waitForRequests(before + 2, 20_000)).slice(before + 1);
    expect(again!.body).toBe(testRequest!.body);
    expect(again!.headers['webhook-id']).toBe(redelivered.body.deliveryId);
    expect(again!.headers['webhook-id']).not.toBe(testRequest!.headers['webhook-id']);
    const records = await stack.records('namespace', 'manual', trigger.id, 2);
    expect(records[0]).toMatchObject({ deliveryId: redelivered.body.deliveryId, status: 'succeeded' });

    const unknown = await stack.call('POST', `${base}/records/1-0/redeliver`);
    expect(unknown.status).toBe(404);
  });
});
