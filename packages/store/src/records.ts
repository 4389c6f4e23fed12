/**
 * The access log in Redis streams. Each namespace has one stream holding whole records
 * (a record's id is its entry id); each trigger and each repository has an index stream
 * with the same entry ids and just the fields that queries filter on. All three live
 * under the namespace hash tag, so one script writes them atomically (record-writes.ts).
 * This file is the store's face; the facts live in one module each: retention
 * (record-retention.ts), ids and entries (record-ids.ts), the write script and write markers
 * (record-writes.ts), pages (record-pages.ts).
 */
import type { AccessRecord } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { decodeRecord, isRecordId, type NewAccessRecord } from './record-ids.js';
import { listRecords, type RecordPage, type RecordQuery } from './record-pages.js';
import { defaultRetention, type Retention } from './record-retention.js';
import { type RecordDurability, writeRecord, writtenRecordId } from './record-writes.js';

export { compareRecordIds, isRecordId, type NewAccessRecord } from './record-ids.js';
export type { RecordPage, RecordQuery } from './record-pages.js';
export {
  defaultRetention,
  type Retention,
  retentionEnvSchema,
  retentionFromEnv,
} from './record-retention.js';
export type { RecordDurability } from './record-writes.js';

export class RecordStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly retention: Retention = defaultRetention,
    private readonly durability?: RecordDurability,
  ) {}

  /**
   * Appends a record; answers its id. Retries of one call never add it twice; give
   * `writeId` to make separate calls one write (the untriggered record of an event and a
   * trigger, however often the event is evaluated). Once the record has left the log
   * (retention), a write under its id adds it again.
   */
  async append(record: NewAccessRecord, now = Date.now(), writeId?: string): Promise<string> {
    const [id] = await this.write(record, now, false, writeId);
    return id;
  }

  /**
   * Appends the record of a delivery attempt and answers, besides its id, since when
   * (epoch ms) the trigger has failed without a success in between (undefined after a success).
   */
  async appendAttempt(
    record: NewAccessRecord,
    now = Date.now(),
    writeId?: string,
  ): Promise<{ id: string; failingSince?: number }> {
    const [id, since] = await this.write(record, now, true, writeId);
    return since === undefined ? { id } : { id, failingSince: Number(since) };
  }

  /**
   * The record a write under `writeId` added, while the log still holds it (its write marker
   * lasts at least as long); undefined when there was no such write.

  /**
   * The record a write under `writeId` added, while the log still holds it (its write marker
   * lasts at least as long); undefined when there was no such write.
   */
  async findWritten(namespace: string, writeId: string): Promise<AccessRecord | undefined> {
    const id = await writtenRecordId(this.redis, namespace, writeId);
    return id === undefined ? undefined : this.get(namespace, id);
  }

  private write(record: NewAccessRecord, now: number, trackHealth: boolean, writeId?: string) {
    return writeRecord(this.redis, this.retention, this.durability, record, now, trackHealth, writeId);
  }

  async get(namespace: string, id: string): Promise<AccessRecord | undefined> {
    if (!isRecordId(id)) return undefined;
    const entries = (await this.redis.xrange(keys.recordLog(namespace), id, id)) as Array<[string, string[]]>;
    const entry = entries[0];
    return entry ? decodeRecord(entry[0], entry[1]) : undefined;
  }

  /** Newest first. The cursor is the last id returned, so new records never shift a page. */
  list(query: RecordQuery): Promise<RecordPage> {
    return listRecords(this.redis, query);
  }

  /** Up to `count` records newer than `afterId`, oldest first, without waiting for any. */
  after(namespace: string, afterId: string, count = 100): Promise<AccessRecord[]> {
    return RecordStore.read(this.redis, namespace, afterId, count);
  }

  /** Records newer than `afterId`, oldest first, waiting up to `blockMs` for one (use a dedicated connection). */
  static readAfter(
    blocking: RedisConnection,
    namespace: string,
    afterId: string,
    blockMs: number,
    count = 100,
  ): Promise<AccessRecord[]> {
    return RecordStore.read(blocking, namespace, afterId, count, blockMs);
  }

  // XREAD's id is exclusive for every id, the greatest one included (an XRANGE '(' is not).
  private static async read(
    connection: RedisConnection,
    namespace: string,
    afterId: string,
    count: number,
    blockMs?: number,
  ): Promise<AccessRecord[]> {
    const log = keys.recordLog(namespace);
    const result = (
      blockMs === undefined
        ? await connection.xread('COUNT', count, 'STREAMS', log, afterId)
        : await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', log, afterId)
    ) as Array<[string, Array<[string, string[]]>]> | null;
    const entries = result?.[0]?.[1] ?? [];
    return entries.flatMap(([id, fields]) => {
      const record = decodeRecord(id, fields);
      return record ? [record] : [];
    });
  }

  /** The id of the newest record of a namespace, or '0-0'. */
  async lastId(namespace: string): Promise<string> {
    const newest = (await this.redis.xrevrange(keys.recordLog(namespace), '+', '-', 'COUNT', 1)) as Array<
      [string, string[]]
    >;
    return newest[0]?.[0] ?? '0-0';
  }
}
