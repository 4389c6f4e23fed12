// A body built to be expensive to refuse (megabytes of invalid entries) is refused at the
// first limit it breaks, with a small answer that lists a few errors and counts the rest, so
// one tenant cannot stall the api for everyone. And keys JavaScript reads specially
// (`__proto__`, `constructor`, `prototype`) are refused by name wherever they are.
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

const MAX_BODY_BYTES = 5 * 1024 * 1024;
/**
 * Loose bounds for a busy two-core machine; before the fix these bodies cost 4.5 s of CPU and
 * 52 MB answers. The CPU is this process's, client (building and sending 4.5 MB) and api
 * together, and it grows with the machine's load (2.1 s measured at a load average of 10).
 */
const MAX_CPU_MS = 3000;
const MAX_ANSWER_BYTES = 16 * 1024;

const redisServer = useRedis();
let api: ApiHarness;
let ns: string;
let token: string;

beforeAll(async () => {
  api = await startApi(redisServer(), { maxBodyBytes: MAX_BODY_BYTES });
  ns = uniqueName();
  token = await api.issueToken(ns);
});
afterAll(async () => {
  await api?.close();
});

const triggersPath = () => `/v1/namespaces/${ns}/repositories/app/triggers`;

/** Fills an object with `prefix<i>` keys up to about `bytes` of JSON. */
function manyKeys(prefix: string, value: unknown, bytes: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const entry = JSON.stringify(value).length + prefix.length + 10;
  for (let i = 0; i < bytes / entry; i++) object[`${prefix}${i}`] = value;
  return object;
}

/** Sends a body and measures the CPU this process (the api runs in it) spent on the answer. */
async function timedPost(path: string, body: unknown) {
  const text = JSON.stringify(body);
  expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
  expect(text.length).toBeLessThan(MAX_BODY_BYTES);
  const before = process.cpuUsage();
  const response = await api.request('POST', path, {
    token: path.includes('/events/') ? api.ingestToken : token,
    body: text,
  });
  const used = process.cpuUsage(before);
  return { response, cpuMs: (used.user + used.system) / 1000 };
}

describe('a body of megabytes of invalid entries', () => {
  it.each([
    ['230,000 invalid header names', () => ({ headers: manyKeys('b@d', 'v', 4.5e6) })],
    ['hundreds of thousands of non-string header values', () => ({ headers: manyKeys('h', 1, 4.5e6) })],
    ['hundreds of thousands of unknown fields', () => manyKeys('f', 1, 4.5e6)],
    [
      'a TAG_LIST of a million invalid tags',
      () => ({ type: 'TAG_LIST', tags: Array.from({ length: 700_000 }, () => '!!') }),
    ],
  ])('%s: answered 400 fast, with a small body that counts what it does not list', async (_label, extra) => {
    const body = { name: 'x', url: 'https://hooks.example.com/x', type: 'ALL', ...extra() };
    const { response, cpuMs } = await timedPost(triggersPath(), body);
    const problem = expectProblemShape(response, 400);
    expect(response.text.length).toBeLessThan(MAX_ANSWER_BYTES);
    expect(cpuMs).toBeLessThan(MAX_CPU_MS);
    expect(problem.errors!.length).toBeGreaterThan(0);
    expect(problem.errors!.length).toBeLessThanOrEqual(20);
  });

  it('more than 20 headers is that one rule, not one error per name', async () => {
    const { response } = await timedPost(triggersPath(), {
      name: 'x',
      url: 'https://hooks.example.com/x',
      type: 'ALL',
      headers: manyKeys('b@d', 'v', 4.5e6),
    });
    const problem = expectProblemShape(response, 400);
    expect(problem.errors).toEqual([{ path: 'headers', message: 'headers may hold at most 20 entries' }]);
  });

  it('a batch of push events with errors everywhere lists 20 and counts the rest', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      namespace: 'Bad!',
      repository: 'Bad!',
      tag: '!',
      digest: 'x'.repeat(3500 + (i % 3)),
    }));
    const { response, cpuMs } = await timedPost('/v1/events/push', events);
    const problem = expectProblemShape(response, 400) as ReturnType<typeof expectProblemShape> & {
      errorsOmitted?: number;
    };
    expect(response.text.length).toBeLessThan(MAX_ANSWER_BYTES);
    expect(cpuMs).toBeLessThan(MAX_CPU_MS);
    expect(problem.errors).toHaveLength(20);
    expect(problem.errorsOmitted).toBeGreaterThanOrEqual(4000 - 20);
  });

  it('quotes at most a short piece of a long input', async () => {
    const name = `${'x'.repeat(100_000)} y`;
    const response = await api.request('POST', triggersPath(), {
      token,
      body: { name: 'x', url: 'https://hooks.example.com/x', type: 'ALL', headers: { [name]: 'v' } },
    });
    const problem = expectProblemShape(response, 400);
    expect(response.text.length).toBeLessThan(2048);
    expect(problem.errors![0]!.message).toMatch(/^header name "x{64}…" \(100002 characters\) is not a valid/);
  });

  it('the api still answers /healthz promptly after them', async () => {
    const response = await api.request('GET', '/healthz');
    expect(response.status).toBe(200);
  });
});

describe('__proto__, constructor and prototype keys', () => {
  const rule = '__proto__, constructor and prototype are not allowed as field names';

  it.each([
    [
      'a trigger header',
      '{"name":"x","url":"https://hooks.example.com/x","type":"ALL","headers":{"__proto__":"v"}}',
      'headers.__proto__',
    ],
    [
      'a trigger header named constructor',
      '{"name":"x","url":"https://hooks.example.com/x","type":"ALL","headers":{"constructor":"v"}}',
      'headers.constructor',
    ],
    [
      'a trigger field',
      '{"name":"x","url":"https://hooks.example.com/x","type":"ALL","__proto__":{"enabled":false}}',
      '__proto__',
    ],
  ])('in %s: 400 naming the field, not dropped', async (_label, text, path) => {
    const response = await api.request('POST', triggersPath(), { token, body: text });
    const problem = expectProblemShape(response, 400);
    expect(problem.errors).toEqual([{ path, message: rule }]);
    const list = await api.request('GET', triggersPath(), { token });
    expect(list.body.triggers).toEqual([]);
  });

  it('in a push event of a batch and in a repository body', async () => {
    const event = `{"namespace":"${ns}","repository":"app","tag":"v1","digest":"${digestOf(1)}"}`;
    const push = await api.request('POST', '/v1/events/push', {
      token: api.ingestToken,
      body: `[${event},{"prototype":1}]`,
    });
    expect(expectProblemShape(push, 400).errors).toEqual([{ path: '1.prototype', message: rule }]);
    const repository = await api.request('PUT', `/v1/namespaces/${ns}/repositories/app`, {
      token,
      body: '{"repoType":"PUBLIC","__proto__":{"repoType":"PRIVATE"}}',
    });
    expect(expectProblemShape(repository, 400).errors).toEqual([{ path: '__proto__', message: rule }]);
  });
});
