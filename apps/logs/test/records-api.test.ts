import type { AccessRecord, RecordStatus } from '@registry-triggers/core';
import {
  issueNamespaceToken,
  type NewAccessRecord,
  RecordStore,
  type RedisConnection,
} from '@registry-triggers/store';
import { type RedisHandle, startRedis, uniqueName } from '@registry-triggers/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogsUnderTest, startLogsApp } from './support/logs-app.js';

const ADMIN = 'admin-token-for-the-records-api-test';
const INGEST = 'ingest-token-for-the-records-api-test';
const STATUSES: readonly RecordStatus[] = ['succeeded', 'failed', 'retrying', 'untriggered'];
const TAGS = ['latest', 'v1', 'v2'] as const;
const TARGETS = [
  { repository: 'app', triggerId: 'trg-a' },
  { repository: 'app', triggerId: 'trg-b' },
  { repository: 'team/web', triggerId: 'trg-c' },
] as const;

function newRecord(namespace: string, n: number): NewAccessRecord {
  const target = TARGETS[n % 3]!;
  const status = STATUSES[Math.floor(n / 3) % 4]!;
  return {
    triggerId: target.triggerId,
    triggerName: `hook-${target.triggerId}`,
    triggerUrl: 'https://hooks.example.com/x',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: `evt-${n}`,
    deliveryId: status === 'untriggered' ? null : `msg_${n}`,
    namespace,
    repository: target.repository,
    tag: TAGS[Math.floor(n / 12) % 3]!,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    status,
    statusCode: status === 'untriggered' ? 'untriggered' : '200',
    attempt: status === 'untriggered' ? 0 : 1,
    requestTime: 1_700_000_000_000 + n,
    durationMs: 3,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: `{"n":${n}}`,
    responseHeaders: {},
    responseBody: 'ok',
  };
}

const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));
const newestFirst = (records: AccessRecord[]) =>
  [...records].sort((a, b) => {
    const [aMs, aSeq] = a.id.split('-').map(BigInt) as [bigint, bigint];
    const [bMs, bSeq] = b.id.split('-').map(BigInt) as [bigint, bigint];
    return aMs !== bMs ? (bMs > aMs ? 1 : -1) : bSeq === aSeq ? 0 : bSeq > aSeq ? 1 : -1;
  });

interface Answer {
  status: number;
  contentType: string;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body whose shape each test asserts
  body: any;
}

interface ListBody {
  records: AccessRecord[];
  nextCursor: string | null;
}

let server: RedisHandle;
let redis: RedisConnection;
let logs: LogsUnderTest;
let baseUrl: string;
let store: RecordStore;

const ns = uniqueName('logs');
const otherNs = uniqueName('else');
let model: AccessRecord[] = [];
let otherModel: AccessRecord[] = [];
let nsToken: string;
let otherToken: string;

/** GET with the admin token, another token, or none (null). */
async function get(path: string, token: string | null = ADMIN): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Follows nextCursor over HTTP and returns every record and every page size. */
async function pageAll(path: string, limit: number, token = ADMIN) {
  const records: AccessRecord[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const separator = path.includes('?') ? '&' : '?';
    const answer = await get(
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const page = answer.body as ListBody;
    records.push(...page.records);
    sizes.push(page.records.length);
    cursor = page.nextCursor;
    if (cursor === null) return { records, sizes };
  }
  throw new Error('paging does not end');
}

function expectProblem(answer: Answer, status: number, path?: string) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof answer.body.detail).toBe('string');
  if (path !== undefined) {
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path);
  }
}

const triggerPath = (namespace: string, repo: string, trigger: string) =>
  `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repo)}/triggers/${trigger}/records`;
const repoPath = (namespace: string, repo: string) =>
  `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repo)}/records`;
const nsPath = (namespace: string) => `/v1/namespaces/${namespace}/records`;

async function appendAll(namespace: string, from: number, count: number): Promise<AccessRecord[]> {
  const out: AccessRecord[] = [];
  for (let n = from; n < from + count; n++) {
    const record = newRecord(namespace, n);
    out.push({ id: await store.append(record), ...record });
  }
  return out;
}

beforeAll(async () => {
  server = await startRedis();
  logs = await startLogsApp({ redisUrl: server.url, adminToken: ADMIN, ingestToken: INGEST });
  ({ redis, url: baseUrl } = logs);
  store = new RecordStore(redis);
  model = await appendAll(ns, 0, 240);
  otherModel = await appendAll(otherNs, 0, 12);
  nsToken = await issueNamespaceToken(redis, ns);
  otherToken = await issueNamespaceToken(redis, otherNs);
});
afterAll(async () => {
  await logs?.close();
  await server?.stop();
});

describe('listing records', () => {
  const inTrigger = (r: AccessRecord) => r.repository === 'app' && r.triggerId === 'trg-a';

  it('a trigger, a repository (also a nested one) and the namespace, newest first across pages', async () => {
    const cases: Array<[string, (r: AccessRecord) => boolean]> = [
      [triggerPath(ns, 'app', 'trg-a'), inTrigger],
      [repoPath(ns, 'app'), (r) => r.repository === 'app'],
      [repoPath(ns, 'team/web'), (r) => r.repository === 'team/web'],
      [nsPath(ns), () => true],
    ];
    for (const [path, filter] of cases) {
      const want = newestFirst(model.filter(filter));
      const { records, sizes } = await pageAll(path, 17);
      expect(records, path).toEqual(want);
      expect(
        sizes.slice(0, -1).every((size) => size === 17),
        path,
      ).toBe(true);
    }
  });

  it('answers 50 records by default, and limit 1 and 200 are accepted', async () => {
    const page = (await get(nsPath(ns))).body as ListBody;
    expect(page.records).toEqual(newestFirst(model).slice(0, 50));
    expect(page.nextCursor).toBe(page.records[49]!.id);
    expect(((await get(`${nsPath(ns)}?limit=1`)).body as ListBody).records).toHaveLength(1);
    const all = (await get(`${nsPath(ns)}?limit=200`)).body as ListBody;
    expect(all.records).toEqual(newestFirst(model).slice(0, 200));
  });

  it('takes a parameter given empty as absent: its default applies', async () => {
    const first = (await get(`${nsPath(ns)}?status=&tag=&since=&until=&limit=&cursor=`)).body as ListBody;
    expect(first.records).toEqual(newestFirst(model).slice(0, 50));
    const second = (await get(`${nsPath(ns)}?limit=&cursor=${first.nextCursor}&status=`)).body as ListBody;
    expect(second.records).toEqual(newestFirst(model).slice(50, 100));
  });

  it('a cursor keeps its place while new records arrive', async () => {
    const path = repoPath(ns, 'team/web');
    const want = newestFirst(model.filter((r) => r.repository === 'team/web'));
    const first = (await get(`${path}?limit=10`)).body as ListBody;
    expect(first.records).toEqual(want.slice(0, 10));
    // Fresh records of the same repository land between the two pages.
    const arrived = await appendAll(ns, 10_000, 9);
    model.push(...arrived);
    const second = (await get(`${path}?limit=10&cursor=${first.nextCursor}`)).body as ListBody;
    expect(second.records).toEqual(want.slice(10, 20));
  });

  it('filters by status, tag and since/until (epoch ms or ISO-8601)', async () => {
    const sorted = newestFirst(model).reverse();
    const since = idTime(sorted[60]!.id);
    const until = idTime(sorted[180]!.id);
    const cases: Array<[string, (r: AccessRecord) => boolean]> = [
      ['status=failed', (r) => r.status === 'failed'],
      ['tag=v2', (r) => r.tag === 'v2'],
      ['status=untriggered&tag=latest', (r) => r.status === 'untriggered' && r.tag === 'latest'],
      [`since=${since}&until=${until}`, (r) => idTime(r.id) >= since && idTime(r.id) <= until],
      [
        `since=${encodeURIComponent(new Date(since).toISOString())}&status=retrying`,
        (r) => idTime(r.id) >= since && r.status === 'retrying',
      ],
      [`until=${until}&tag=v1`, (r) => idTime(r.id) <= until && r.tag === 'v1'],
      ['tag=no-such-tag', () => false],
    ];
    for (const [query, filter] of cases) {
      expect((await pageAll(`${nsPath(ns)}?${query}`, 13)).records, query).toEqual(
        newestFirst(model.filter(filter)),
      );
      expect((await pageAll(`${triggerPath(ns, 'app', 'trg-a')}?${query}`, 200)).records, query).toEqual(
        newestFirst(model.filter((r) => inTrigger(r) && filter(r))),
      );
      expect((await pageAll(`${repoPath(ns, 'team/web')}?${query}`, 7)).records, query).toEqual(
        newestFirst(model.filter((r) => r.repository === 'team/web' && filter(r))),
      );
    }
  });

  it('an unknown trigger or repository has no records', async () => {
    expect((await get(triggerPath(ns, 'app', 'nope'))).body).toEqual({ records: [], nextCursor: null });
    expect((await get(repoPath(ns, 'ghost'))).body).toEqual({ records: [], nextCursor: null });
  });
});

describe('bad queries are 400 problems naming the parameter', () => {
  const routes = () => [triggerPath(ns, 'app', 'trg-a'), repoPath(ns, 'app'), nsPath(ns)];

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=201', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['limit=2.5', 'query.limit'],
    ['limit=1&limit=2', 'query.limit'],
    ['cursor=abc', 'query.cursor'],
    ['cursor=1-2-3', 'query.cursor'],
    ['cursor=99999999999999999999-0', 'query.cursor'],
    ['status=pending', 'query.status'],
    ['since=yesterday', 'query.since'],
    ['since=1969-07-20T20:17:40Z', 'query.since'],
    ['until=1e300', 'query.until'],
  ])('%s', async (query, path) => {
    for (const route of routes()) expectProblem(await get(`${route}?${query}`), 400, path);
  });

  it('an unknown query key', async () => {
    for (const route of routes()) {
      const answer = await get(`${route}?limit=5&sort=asc`);
      expectProblem(answer, 400);
      expect(JSON.stringify(answer.body.errors)).toContain('sort');
    }
  });
});

describe('every cursor and time bound either works or is a 400 naming it', () => {
  const MAX_PART = 18446744073709551615n;
  const part = fc.oneof(
    fc.constantFrom(0n, 1n, MAX_PART, MAX_PART + 1n),
    fc.bigInt({ min: 0n, max: MAX_PART }),
    fc.bigInt({ min: 1_700_000_000_000n, max: 1_800_000_000_000n }),
  );
  const digits = (n: bigint) => fc.constantFrom('', '0', '00').map((zeros) => `${zeros}${n}`);
  const streamId = fc
    .tuple(part, part)
    .chain(([ms, seq]) => fc.tuple(digits(ms), digits(seq)).map(([a, b]) => `${a}-${b}`));
  const anyText = fc.oneof(
    streamId,
    fc.string({ maxLength: 30 }),
    fc.constantFrom('0-0', '00-00', '-', '+', '(1-0'),
  );
  const compare = (a: string, b: string) => {
    const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
    const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
    return aMs !== bMs ? (aMs < bMs ? -1 : 1) : aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
  };
  const cases = (): Array<[string, (r: AccessRecord) => boolean]> => [
    [triggerPath(ns, 'app', 'trg-a'), (r) => r.repository === 'app' && r.triggerId === 'trg-a'],
    [repoPath(ns, 'app'), (r) => r.repository === 'app'],
    [nsPath(ns), () => true],
  ];

  it('a cursor answers the records older than it, or 400 naming query.cursor', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (cursor) => {
        for (const [path, filter] of cases()) {
          const answer = await get(`${path}?limit=5&cursor=${encodeURIComponent(cursor)}`);
          if (answer.status === 400) {
            expectProblem(answer, 400, 'query.cursor');
            continue;
          }
          expect(answer.status, `${path} cursor=${cursor}: ${JSON.stringify(answer.body)}`).toBe(200);
          // An empty parameter is an absent one: the first page.
          const older = (r: AccessRecord) => cursor === '' || compare(r.id, cursor) < 0;
          const want = newestFirst(model.filter((r) => filter(r) && older(r))).slice(0, 5);
          expect((answer.body as ListBody).records.map((r) => r.id)).toEqual(want.map((r) => r.id));
        }
      }),
      { numRuns: 60, examples: [['0-0'], ['00-00'], ['0-1'], [`${MAX_PART}-${MAX_PART}`], ['0-00']] },
    );
  });

  it('since and until answer 200 or 400 naming the parameter', async () => {
    const bound = fc.oneof(
      anyText,
      fc.bigInt({ min: -10n, max: MAX_PART * 2n }).map(String),
      fc.double().map(String),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('since', 'until'),
        bound,
        fc.option(streamId),
        async (name, value, cursor) => {
          const query = `${name}=${encodeURIComponent(value)}${cursor === null ? '' : `&cursor=${cursor}`}`;
          for (const [path] of cases()) {
            const answer = await get(`${path}?${query}`);
            if (answer.status === 400) {
              expect(answer.body.errors.map((error: { path: string }) => error.path)).toSatisfy(
                (paths: string[]) => paths.includes(`query.${name}`) || paths.includes('query.cursor'),
              );
              continue;
            }
            expect(answer.status, `${path}?${query}: ${JSON.stringify(answer.body)}`).toBe(200);
          }
        },
      ),
      {
        numRuns: 60,
        examples: [
          ['since', '0', '0-0'],
          ['until', '0', null],
          ['until', '9007199254740991', null],
        ],
      },
    );
  });
});

describe('one record', () => {
  it('answers the record by id', async () => {
    const record = model[77]!;
    const answer = await get(`${nsPath(ns)}/${record.id}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(record);
  });

  it('answers 405 with Allow for a method a route does not take, 404 for a path it does not serve', async () => {
    const wrongMethod = await fetch(`${baseUrl}${nsPath(ns)}/${model[0]!.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expect(wrongMethod.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await wrongMethod.json()) as { code: string }).code).toBe('method-not-allowed');
    const unknown = await get(`/v1/namespaces/${ns}/nothing-here`);
    expectProblem(unknown, 404);
    expect(unknown.body.code).toBe('route-not-found');
  });

  it('answers a 404 problem for an unknown, malformed or foreign id', async () => {
    // Ids are only unique within a namespace: pick one of the other namespace that ours lacks.
    const ours = new Set(model.map((r) => r.id));
    const foreign = otherModel.find((r) => !ours.has(r.id))!.id;
    for (const id of ['1-0', 'abc', '99999999999999999999-0', foreign]) {
      const answer = await get(`${nsPath(ns)}/${id}`);
      expectProblem(answer, 404);
      expect(answer.body.code).toBe('not-found');
    }
  });
});

describe('who may read', () => {
  const recordRoutes = (namespace: string, recordId: string) => [
    triggerPath(namespace, 'app', 'trg-a'),
    repoPath(namespace, 'app'),
    nsPath(namespace),
    `${nsPath(namespace)}/${recordId}`,
  ];

  it('401 without a token or with an unknown one', async () => {
    for (const token of [null, 'nope', `rtn.${Buffer.from(ns).toString('base64url')}.forged`]) {
      for (const path of recordRoutes(ns, model[0]!.id)) {
        const answer = await get(path, token);
        expectProblem(answer, 401);
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('403 for the ingest token: it is known, but may only post push events', async () => {
    for (const path of [...recordRoutes(ns, model[0]!.id), `${nsPath(ns)}/stream`]) {
      const answer = await get(path, INGEST);
      expectProblem(answer, 403);
      expect(answer.body.detail, path).toMatch(/ingest token/);
    }
  });

  it("a namespace token reads its own namespace and gets 404 for another's", async () => {
    for (const path of recordRoutes(ns, model[0]!.id)) {
      expect((await get(path, nsToken)).status, path).toBe(200);
    }
    expect((await get(nsPath(ns), nsToken)).body.records.length).toBe(50);
    for (const path of recordRoutes(otherNs, otherModel[0]!.id)) {
      const answer = await get(path, nsToken);
      expectProblem(answer, 404);
      expect(JSON.stringify(answer.body)).not.toContain(otherModel[0]!.eventId);
    }
    for (const path of recordRoutes(ns, model[0]!.id)) expectProblem(await get(path, otherToken), 404);
    expect((await get(nsPath(otherNs), otherToken)).body.records).toEqual(newestFirst(otherModel));
  });

  it('the admin token reads every namespace', async () => {
    expect((await get(nsPath(otherNs))).body.records).toEqual(newestFirst(otherModel));
    expect((await get(`${nsPath(otherNs)}/${otherModel[3]!.id}`)).body).toEqual(otherModel[3]);
    expect((await get(`${nsPath(ns)}/${model[3]!.id}`)).body).toEqual(model[3]);
  });
});
