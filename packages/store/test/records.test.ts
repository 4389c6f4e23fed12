// The access log against a real Redis: thousands of records paged newest-first while a
// writer keeps appending, filters checked against an in-memory model, retention by count
// and by age, index pages over trimmed records, tenant isolation and bounded memory.
import type { AccessRecord, RecordReason, RecordStatus } from '@registry-triggers/core';
import { type RedisHandle, startRedis, uniqueName, waitFor } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/keys.js';
import {
  defaultRetention,
  isRecordId,
  type NewAccessRecord,
  type RecordPage,
  type RecordQuery,
  RecordStore,
  type Retention,
} from '../src/records.js';

const STATUSES: readonly RecordStatus[] = ['succeeded', 'failed', 'retrying', 'untriggered'];
const UNTRIGGERED_REASONS: readonly RecordReason[] = ['filter', 'artifact-tag', 'same-digest'];
const TAGS = ['latest', 'v1.0.0', 'v2.0.0', 'release-7', 'nightly'] as const;

interface Target {
  repository: string;
  triggerId: string;
}
const TRIGGER_A: Target = { repository: 'app', triggerId: 'trg-a' };
const TRIGGER_B: Target = { repository: 'app', triggerId: 'trg-b' };
const TRIGGER_C: Target = { repository: 'team/web', triggerId: 'trg-c' };
const TARGETS = [TRIGGER_A, TRIGGER_B, TRIGGER_C] as const;

type Scope = RecordQuery['scope'];
type Filters = Pick<RecordQuery, 'status' | 'reason' | 'tag' | 'since' | 'until'>;

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function newRecord(
  namespace: string,
  target: Target,
  n: number,
  random: () => number,
  bodyBytes = 64,
): NewAccessRecord {
  const status = pick(random, STATUSES);
  // Untriggered records say why; one failed record in four ended unsent, its trigger disabled.
  // (From n, not `random`: the same random draws as before reasons, so the same records.)
  const reason: RecordReason | undefined =
    status === 'untriggered'
      ? UNTRIGGERED_REASONS[n % UNTRIGGERED_REASONS.length]
      : status === 'failed' && n % 4 === 0
        ? 'disabled'
        : undefined;
  return {
    triggerId: target.triggerId,
    triggerName: `redeploy-${target.triggerId}`,
    triggerUrl: 'https://hooks.example.com/x?token=***',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: `evt-${n}`,
    deliveryId: status === 'untriggered' ? null : `msg_${n}`,
    namespace,
    repository: target.repository,
    tag: pick(random, TAGS),
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    status,
    statusCode: status === 'untriggered' ? 'untriggered' : status === 'succeeded' ? '200' : '503',
    attempt: status === 'untriggered' ? 0 : 1 + (n % 3),
    requestTime: 1_700_000_000_000 + n,
    durationMs: n % 250,
    requestHeaders: { 'content-type': 'application/json', 'webhook-id': `msg_${n}` },
    requestBody: `{"n":${n}}`,
    responseHeaders: { 'content-length': '2' },
    responseBody: 'x'.repeat(bodyBytes),
    ...(reason ? { reason } : {}),
  };
}

/** Stream ids compared as (ms, seq) numbers; string order is wrong across digit counts. */
function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));
const newestFirst = (records: AccessRecord[]) => [...records].sort((a, b) => compareIds(b.id, a.id));

function inScope(record: AccessRecord, scope: Scope): boolean {
  if ('all' in scope) return true;
  if (record.repository !== scope.repository) return false;
  return scope.triggerId === undefined || record.triggerId === scope.triggerId;
}

function matches(record: AccessRecord, filters: Filters): boolean {
  if (filters.status !== undefined && record.status !== filters.status) return false;
  if (filters.reason !== undefined && record.reason !== filters.reason) return false;
  if (filters.tag !== undefined && record.tag !== filters.tag) return false;
  if (filters.since !== undefined && idTime(record.id) < filters.since) return false;
  if (filters.until !== undefined && idTime(record.id) > filters.until) return false;
  return true;
}

/** What the store should answer: the model's records of a scope and filters, newest first. */
const expected = (model: AccessRecord[], scope: Scope, filters: Filters = {}) =>
  newestFirst(model.filter((record) => inScope(record, scope) && matches(record, filters)));

/** Appends many records, `parallel` at a time on one connection, and returns them with their ids. */
async function appendMany(
  store: RecordStore,
  count: number,
  make: (n: number) => NewAccessRecord,
  parallel = 200,
): Promise<AccessRecord[]> {
  const out: AccessRecord[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) => make(start + i));
    const ids = await Promise.all(batch.map((record) => store.append(record)));
    batch.forEach((record, i) => {
      out.push({ id: ids[i]!, ...record });
    });
  }
  return out;
}

interface PagingResult {
  pages: RecordPage[];
  limits: number[];
  records: AccessRecord[];
}

/** Follows nextCursor to the end; `between` runs after every page that has a next one. */
async function pageThrough(
  store: RecordStore,
  query: Omit<RecordQuery, 'limit' | 'cursor'>,
  nextLimit: () => number,
  between?: () => Promise<unknown>,
): Promise<PagingResult> {
  const result: PagingResult = { pages: [], limits: [], records: [] };
  let cursor: string | undefined;
  for (;;) {
    const limit = nextLimit();
    const page = await store.list({ ...query, limit, cursor });
    result.pages.push(page);
    result.limits.push(limit);
    result.records.push(...page.records);
    expect(page.records.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor === null) return result;
    expect(isRecordId(page.nextCursor)).toBe(true);
    if (result.pages.length > 20_000) throw new Error('paging does not end');
    cursor = page.nextCursor;
    await between?.();
  }
}

function expectStrictlyDescending(records: AccessRecord[]) {
  for (let i = 1; i < records.length; i++) {
    if (compareIds(records[i - 1]!.id, records[i]!.id) <= 0) {
      throw new Error(`ids out of order or repeated at ${i}: ${records[i - 1]!.id} then ${records[i]!.id}`);
    }
  }
}

let server: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

describe('paging a namespace of 3000 records while new ones arrive', () => {
  const namespace = uniqueName('rec');
  const random = prng(0x5eed);
  let store: RecordStore;
  /** Every record written, in the order the appends resolved. */
  const model: AccessRecord[] = [];
  let serial = 0;

  const appendOne = async (target: Target) => {
    const record = newRecord(namespace, target, serial++, random);
    const id = await store.append(record);
    model.push({ id, ...record });
  };

  /** A writer that appends as fast as Redis answers until stopped (at most 400 records). */
  function startWriter() {
    let stopped = false;
    let written = 0;
    const done = (async () => {
      while (!stopped && written < 400) {
        await appendOne(pick(random, TARGETS));
        written++;
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await done;
        return written;
      },
    };
  }

  beforeAll(async () => {
    store = new RecordStore(redis);
    const written = await appendMany(store, 3000, (n) => newRecord(namespace, TARGETS[n % 3]!, n, random));
    model.push(...written);
    serial = 3000;
  });

  const scopes: Array<[string, Scope, Target]> = [
    ['one trigger', { repository: TRIGGER_A.repository, triggerId: TRIGGER_A.triggerId }, TRIGGER_A],
    ['a repository of two triggers', { repository: 'app' }, TRIGGER_B],
    ['a nested repository', { repository: 'team/web' }, TRIGGER_C],
    ['the whole namespace', { all: true }, TRIGGER_C],
  ];

  it.each(scopes)(
    'pages %s with limits 1..200: every record once, newest first',
    async (label, scope, target) => {
      const limits = prng(label.length);
      const sizes = [1, 2, 200, 199, 3];
      let pageNo = 0;
      const nextLimit = () => sizes[pageNo++] ?? 1 + Math.floor(limits() * 200);

      const snapshot = expected(model, scope);
      const newestAtStart = snapshot[0]!.id;
      const writer = startWriter();
      // Besides the free-running writer, one record of this very scope lands between any two pages.
      const result = await pageThrough(store, { namespace, scope }, nextLimit, () => appendOne(target));
      const writtenMeanwhile = await writer.stop();

      expect(result.pages.length).toBeGreaterThan(5);
      expect(writtenMeanwhile).toBeGreaterThan(0);
      expect(result.limits.slice(0, 3)).toEqual([1, 2, 200]);
      expectStrictlyDescending(result.records);
      // Unfiltered pages are full until the last one.
      result.pages.slice(0, -1).forEach((page, i) => {
        expect(page.records.length).toBe(result.limits[i]);
      });
      expect(result.pages.at(-1)!.nextCursor).toBeNull();

      // Every record that existed when paging began appears, exactly as written...
      const byId = new Map(result.records.map((record) => [record.id, record]));
      for (const record of snapshot) expect(byId.get(record.id)).toEqual(record);
      // ...and the only others are ones that arrived before the first page was read.
      const extras = result.records.filter((record) => compareIds(record.id, newestAtStart) > 0);
      expect(result.records.length).toBe(snapshot.length + extras.length);
      // (Not necessarily on the first page: several may land between the snapshot and the first
      // read, and a first page of 1 holds one of them. A record written after the first read is
      // newer than it, and a cursor only goes back in time.)
      const modelById = new Map(model.map((record) => [record.id, record]));
      for (const record of result.records) {
        expect(inScope(record, scope)).toBe(true);
        expect(record).toEqual(modelById.get(record.id));
      }
      // Records of this scope did arrive while paging, and none of them shifted a page.
      const arrivedLater = expected(model, scope).filter((r) => compareIds(r.id, result.records[0]!.id) > 0);
      expect(arrivedLater.length).toBeGreaterThanOrEqual(result.pages.length - 1);
    },
  );

  it('filters by status, tag and since/until return exactly the matching records', async () => {
    const sorted = [...model].sort((a, b) => compareIds(a.id, b.id));
    const since = idTime(sorted[Math.floor(sorted.length * 0.25)]!.id);
    const until = idTime(sorted[Math.floor(sorted.length * 0.7)]!.id);
    const filterSets: Filters[] = [
      { status: 'failed' },
      { reason: 'artifact-tag' },
      { reason: 'disabled', status: 'failed' },
      { reason: 'same-digest', tag: 'latest' },
      { reason: 'filter', status: 'succeeded' },
      { tag: 'v1.0.0' },
      { status: 'succeeded', tag: 'latest' },
      { since },
      { until },
      { since, until },
      { since, until, status: 'retrying', tag: 'nightly' },
      { since: until, until: since },
      { tag: 'no-such-tag' },
      { status: 'untriggered', since: idTime(sorted.at(-1)!.id) + 1 },
    ];
    for (const [, scope] of scopes) {
      for (const filters of filterSets) {
        const want = expected(model, scope, filters);
        // A small limit too where filters skip most entries, so pages end short of the scan.
        const limits =
          filters.status !== undefined || filters.reason !== undefined || filters.tag !== undefined
            ? [29, 200]
            : [200];
        for (const limit of limits) {
          const got = await pageThrough(store, { namespace, scope, ...filters }, () => limit);
          const label = JSON.stringify({ scope, filters, limit });
          expect(
            got.records.map((r) => r.id),
            label,
          ).toEqual(want.map((r) => r.id));
          expect(got.records, label).toEqual(want);
        }
      }
    }
    // since and until are inclusive at the millisecond of a record.
    const edge = sorted[1000]!;
    const sameMs = model.filter((r) => idTime(r.id) === idTime(edge.id));
    const at = await store.list({
      namespace,
      scope: { all: true },
      since: idTime(edge.id),
      until: idTime(edge.id),
      limit: 200,
    });
    expect(at.records).toEqual(newestFirst(sameMs));
  });

  it('a cursor combined with filters keeps its place', async () => {
    const scope: Scope = { repository: 'app' };
    const filters = { status: 'failed', tag: 'latest' } as const;
    const want = expected(model, scope, filters);
    const first = await store.list({ namespace, scope, ...filters, limit: 10 });
    expect(first.records).toEqual(want.slice(0, 10));
    await appendMany(store, 50, (n) => ({
      ...newRecord(namespace, TRIGGER_A, 90_000 + n, random),
      ...filters,
    }));
    const second = await store.list({ namespace, scope, ...filters, limit: 10, cursor: first.nextCursor! });
    expect(second.records).toEqual(want.slice(10, 20));
  });

  it('get returns one record of its own namespace only', async () => {
    const record = model[1234]!;
    expect(await store.get(namespace, record.id)).toEqual(record);
    expect(await store.get(uniqueName('other'), record.id)).toBeUndefined();
    expect(await store.get(namespace, '1-0')).toBeUndefined();
    expect(await store.get(namespace, 'not-an-id')).toBeUndefined();
    // Well-formed but beyond the 64-bit range of a stream id: not found, not a Redis error.
    expect(await store.get(namespace, '99999999999999999999-0')).toBeUndefined();
    expect(await store.get(namespace, '1-99999999999999999999')).toBeUndefined();
  });

  it('another namespace sees nothing, and every key carries the namespace hash tag', async () => {
    const other = uniqueName('other');
    const otherStore = new RecordStore(redis);
    const theirs = await appendMany(otherStore, 20, (n) => newRecord(other, TARGETS[n % 3]!, n, random));

    for (const [, scope] of scopes) {
      const page = await store.list({ namespace: other, scope, limit: 200 });
      expect(page.records).toEqual(expected(theirs, scope));
      expect(page.nextCursor).toBeNull();
      const none = await store.list({ namespace: uniqueName('empty'), scope, limit: 200 });
      expect(none).toEqual({ records: [], nextCursor: null });
    }
    const ours = await store.list({ namespace, scope: { all: true }, limit: 200 });
    expect(ours.records.every((record) => record.namespace === namespace)).toBe(true);
    expect(await store.get(other, model[0]!.id)).toBeUndefined();
    expect(await store.get(namespace, theirs[0]!.id)).toBeUndefined();

    for (const ns of [namespace, other]) {
      const found = await redis.keys(`*${ns}*`);
      // Fewer writes than the cap: one generation of write markers (a retry is not added twice).
      expect(found.sort()).toEqual(
        [
          keys.recordLog(ns),
          keys.recordWrites(ns, 'current'),
          ...TARGETS.map((t) => keys.triggerRecordIndex(ns, t.repository, t.triggerId)),
          keys.repositoryRecordIndex(ns, 'app'),
          keys.repositoryRecordIndex(ns, 'team/web'),
        ].sort(),
      );
      for (const key of found) expect(key.startsWith(`rt:{ns:${ns}}:`)).toBe(true);
    }
  });
});

describe('a rare filter over more records than one page may scan', () => {
  it('pages to the end and finds every match', async () => {
    const namespace = uniqueName('scan');
    const store = new RecordStore(redis);
    const random = prng(7);
    const rare = new Set([10, 5500, 6990]);
    const model = await appendMany(store, 7000, (n) => ({
      ...newRecord(namespace, TRIGGER_A, n, random, 8),
      tag: rare.has(n) ? 'rare' : 'common',
    }));
    for (const scope of [{ all: true }, { repository: 'app', triggerId: 'trg-a' }] satisfies Scope[]) {
      const got = await pageThrough(store, { namespace, scope, tag: 'rare' }, () => 50);
      expect(got.records).toEqual(expected(model, scope, { tag: 'rare' }));
      expect(got.records).toHaveLength(3);
    }
  });
});

describe('retention', () => {
  it('by count: the oldest records go, the log stays near the cap, index pages stay whole', async () => {
    const namespace = uniqueName('cap');
    const retention: Retention = { maxAgeMs: defaultRetention.maxAgeMs, maxRecordsPerNamespace: 100 };
    const store = new RecordStore(redis, retention);
    const random = prng(11);
    const model = await appendMany(store, 3000, (n) => newRecord(namespace, TARGETS[n % 3]!, n, random, 600));

    const logLength = await redis.xlen(keys.recordLog(namespace));
    expect(logLength).toBeGreaterThanOrEqual(100);
    expect(logLength).toBeLessThanOrEqual(200);
    // What remains is exactly the newest records: the trim took the oldest.
    const kept = (await redis.xrange(keys.recordLog(namespace), '-', '+')).map(([id]) => id);
    expect(kept).toEqual(model.slice(-logLength).map((r) => r.id));
    expect(await store.get(namespace, model[0]!.id)).toBeUndefined();
    expect(await store.get(namespace, model.at(-1)!.id)).toEqual(model.at(-1));

    // Index streams do not outgrow the log they point into.
    for (const t of TARGETS) {
      expect(await redis.xlen(keys.triggerRecordIndex(namespace, t.repository, t.triggerId))).toBeLessThan(
        400,
      );
    }
    expect(await redis.xlen(keys.repositoryRecordIndex(namespace, 'app'))).toBeLessThan(400);

    const retained = model.slice(-logLength);
    for (const scope of [
      { repository: 'app', triggerId: 'trg-a' },
      { repository: 'app' },
      { all: true },
    ] satisfies Scope[]) {
      const got = await pageThrough(store, { namespace, scope }, () => 10);
      expect(got.records).toEqual(expected(retained, scope));
      // No empty pages behind the retained records: the last page ends the listing.
      for (const page of got.pages.slice(0, -1)) expect(page.records).toHaveLength(10);
    }
  });

  it('by age: records older than maxAgeMs are trimmed once newer ones arrive', async () => {
    const namespace = uniqueName('age');
    const retention: Retention = { maxAgeMs: 60_000, maxRecordsPerNamespace: 100_000 };
    const store = new RecordStore(redis, retention);
    const random = prng(13);
    const old = await appendMany(store, 600, (n) => newRecord(namespace, TARGETS[n % 3]!, n, random, 400));
    const oldNewest = idTime(old.at(-1)!.id);
    await waitFor(() => Date.now() > oldNewest + 2, { timeoutMs: 1000, message: 'the clock to move on' });

    // Newer records arrive when the clock says the old ones have just passed maxAgeMs.
    const clock = oldNewest + 1 + retention.maxAgeMs;
    const fresh: AccessRecord[] = [];
    for (let n = 0; n < 60; n++) {
      const record = newRecord(namespace, TARGETS[n % 3]!, 1000 + n, random, 400);
      fresh.push({ id: await store.append(record, clock), ...record });
    }

    const kept = (await redis.xrange(keys.recordLog(namespace), '-', '+')).map(([id]) => id);
    const keptOld = kept.filter((id) => idTime(id) <= oldNewest);
    // Trimming is approximate (whole stream nodes): a few of the newest old ones may linger.
    expect(keptOld.length).toBeLessThan(100);
    expect(keptOld).toEqual(old.slice(old.length - keptOld.length).map((r) => r.id));
    expect(kept.slice(keptOld.length)).toEqual(fresh.map((r) => r.id));
    for (const t of TARGETS) {
      const index = await redis.xrange(
        keys.triggerRecordIndex(namespace, t.repository, t.triggerId),
        '-',
        '+',
      );
      expect(index.filter(([id]) => idTime(id) <= oldNewest).length).toBeLessThan(100);
    }

    const retained = [...old, ...fresh].filter((r) => kept.includes(r.id));
    for (const scope of [{ repository: 'team/web', triggerId: 'trg-c' }, { all: true }] satisfies Scope[]) {
      const got = await pageThrough(store, { namespace, scope }, () => 25);
      expect(got.records).toEqual(expected(retained, scope));
    }
  });

  it('by age: a namespace that stops writing does not keep its records forever', async () => {
    const namespace = uniqueName('idle');
    const store = new RecordStore(redis, { maxAgeMs: 300, maxRecordsPerNamespace: 100 });
    const random = prng(17);
    await appendMany(store, 30, (n) => newRecord(namespace, TARGETS[n % 3]!, n, random));
    const written = await redis.keys(`*${namespace}*`);
    // 6 streams and the markers of the writes, which expire with the records.
    expect(written).toHaveLength(7);
    expect(written).toContain(keys.recordWrites(namespace, 'current'));
    await waitFor(async () => (await redis.exists(...written)) === 0, {
      timeoutMs: 5000,
      message: 'records older than maxAgeMs to be dropped',
    });
    expect(await store.list({ namespace, scope: { all: true }, limit: 50 })).toEqual({
      records: [],
      nextCursor: null,
    });
  });

  it('pages over index streams skip records missing from the log', async () => {
    const namespace = uniqueName('holes');
    const store = new RecordStore(redis);
    const random = prng(19);
    const model = await appendMany(store, 300, (n) => newRecord(namespace, TARGETS[n % 3]!, n, random));
    // Something else shortened the log behind the indexes' back, and left a hole inside it.
    await redis.xtrim(keys.recordLog(namespace), 'MAXLEN', 120);
    const hole = model.at(-40)!;
    await redis.xdel(keys.recordLog(namespace), hole.id);
    const present = model.slice(-120).filter((r) => r.id !== hole.id);

    for (const scope of [
      { repository: 'app', triggerId: 'trg-b' },
      { repository: 'app' },
    ] satisfies Scope[]) {
      const got = await pageThrough(store, { namespace, scope }, () => 9);
      expect(got.records).toEqual(expected(present, scope));
      for (const record of got.records) expect(record).toBeDefined();
      // Only the hole may shorten a page; the records before the log's start cost no empty pages.
      expect(got.pages.filter((page) => page.records.length === 0)).toHaveLength(0);
    }
  });

  // 50,000 appends take a few seconds on an idle machine; the margin is for a loaded CI runner.
  it('memory stays bounded: 50,000 records under a 1,000 record cap', { timeout: 120_000 }, async () => {
    const namespace = uniqueName('mem');
    const store = new RecordStore(redis, {
      maxAgeMs: defaultRetention.maxAgeMs,
      maxRecordsPerNamespace: 1000,
    });
    const random = prng(23);
    const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const before = await memory();
    const model = await appendMany(
      store,
      50_000,
      (n) => newRecord(namespace, TARGETS[n % 3]!, n, random, 1000),
      500,
    );
    const grown = (await memory()) - before;
    // Kept whole, 50,000 records of ~1.5 KB would take over 75 MB.
    expect(grown).toBeLessThan(12 * 1024 * 1024);
    const logLength = await redis.xlen(keys.recordLog(namespace));
    expect(logLength).toBeGreaterThanOrEqual(1000);
    expect(logLength).toBeLessThanOrEqual(1100);
    for (const t of TARGETS) {
      expect(await redis.xlen(keys.triggerRecordIndex(namespace, t.repository, t.triggerId))).toBeLessThan(
        1000,
      );
    }
    const newest = await store.list({ namespace, scope: { repository: 'app' }, limit: 5 });
    expect(newest.records).toEqual(expected(model.slice(-10), { repository: 'app' }).slice(0, 5));
  });
});
