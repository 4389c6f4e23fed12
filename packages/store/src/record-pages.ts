/** Pages of the access log, newest first, by namespace, repository or trigger, with filters. */
import type { AccessRecord, RecordReason, RecordStatus } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import {
  compareRecordIds,
  decodeRecord,
  fieldsToObject,
  idBefore,
  idTime,
  MAX_ID_PART,
} from './record-ids.js';

export interface RecordQuery {
  namespace: string;
  scope: { repository: string; triggerId?: string | undefined } | { all: true };
  limit: number;
  cursor?: string | undefined;
  status?: RecordStatus | undefined;
  reason?: RecordReason | undefined;
  tag?: string | undefined;
  /** Epoch ms bounds on the time a record was written, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
}

export interface RecordPage {
  records: AccessRecord[];
  nextCursor: string | null;
}

/** How many index entries one page may scan when filters skip most of them. */
const MAX_SCAN = 5000;

/** Newest first. The cursor is the last id returned, so new records never shift a page. */
export async function listRecords(redis: RedisConnection, query: RecordQuery): Promise<RecordPage> {
  const { namespace } = query;
  const stream =
    'all' in query.scope
      ? keys.recordLog(namespace)
      : query.scope.triggerId !== undefined
        ? keys.triggerRecordIndex(namespace, query.scope.repository, query.scope.triggerId)
        : keys.repositoryRecordIndex(namespace, query.scope.repository);
  const fullRecords = 'all' in query.scope;

  const belowCursor = query.cursor === undefined ? undefined : idBefore(query.cursor);
  // Nothing is older than the cursor 0-0.
  if (query.cursor !== undefined && belowCursor === undefined) return { records: [], nextCursor: null };
  let upper = belowCursor ?? (query.until !== undefined ? `${query.until}-${MAX_ID_PART}` : '+');
  let lower = query.since !== undefined ? `${query.since}-0` : '-';
  if (!fullRecords) {
    // Index entries older than the log's first record point at trimmed records: a page
    // must not spend its scan on them, nor offer a cursor into them.
    const first = await firstId(redis, namespace);
    if (first === undefined) return { records: [], nextCursor: null };
    if (lower === '-' || compareRecordIds(first, lower) > 0) lower = first;
  }
  const matchedIds: string[] = [];
  const matchedRecords: AccessRecord[] = [];
  let scanned = 0;
  let exhausted = false;
  let lastScanned: string | undefined;
  const batch = Math.min(Math.max(query.limit * 2, 50), 1000);

  while (matchedIds.length < query.limit && scanned < MAX_SCAN) {
    const entries = (await redis.xrevrange(stream, upper, lower, 'COUNT', batch)) as Array<
      [string, string[]]
    >;
    for (const [id, fields] of entries) {
      scanned++;
      lastScanned = id;
      if (query.until !== undefined && idTime(id) > query.until) continue;
      const f = fieldsToObject(fields);
      if (fullRecords) {
        const record = decodeRecord(id, fields);
        if (!record) continue;
        if (query.status && record.status !== query.status) continue;
        if (query.reason && record.reason !== query.reason) continue;
        if (query.tag !== undefined && record.tag !== query.tag) continue;
        matchedRecords.push(record);
        matchedIds.push(id);
      } else {
        if (query.status && f.s !== query.status) continue;
        if (query.reason && f.r !== query.reason) continue;
        if (query.tag !== undefined && f.g !== query.tag) continue;
        matchedIds.push(id);
      }
      if (matchedIds.length === query.limit) break;
    }
    if (entries.length < batch && matchedIds.length < query.limit) {
      exhausted = true;
      break;
    }
    const next = lastScanned && idBefore(lastScanned);
    if (!next) break;
    upper = next;
  }

  const records = fullRecords ? matchedRecords : await fetchRecords(redis, namespace, matchedIds);
  const last = matchedIds.length === query.limit ? matchedIds.at(-1) : lastScanned;
  const nextCursor = exhausted || !last || !(await hasOlder(redis, stream, last, lower)) ? null : last;
  return { records, nextCursor };
}

async function firstId(redis: RedisConnection, namespace: string): Promise<string | undefined> {
  const first = (await redis.xrange(keys.recordLog(namespace), '-', '+', 'COUNT', 1)) as Array<
    [string, string[]]
  >;
  return first[0]?.[0];
}

async function hasOlder(redis: RedisConnection, stream: string, id: string, lower: string): Promise<boolean> {
  const before = idBefore(id);
  if (before === undefined) return false;
  const older = await redis.xrevrange(stream, before, lower, 'COUNT', 1);
  return older.length > 0;
}

/** Whole records for index ids; ids whose record was trimmed from the log are skipped. */
async function fetchRecords(
  redis: RedisConnection,
  namespace: string,
  ids: string[],
): Promise<AccessRecord[]> {
  if (ids.length === 0) return [];
  const log = keys.recordLog(namespace);
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xrange(log, id, id);
  const results = (await pipeline.exec()) ?? [];
  const records: AccessRecord[] = [];
  for (const [error, value] of results) {
    if (error) throw error;
    const entry = (value as Array<[string, string[]]>)[0];
    const record = entry && decodeRecord(entry[0], entry[1]);
    if (record) records.push(record);
  }
  return records;
}
