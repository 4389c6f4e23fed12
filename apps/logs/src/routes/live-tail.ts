/**
 * `GET /v1/namespaces/{ns}/records/stream`: Server-Sent Events, one per new record.
 *
 * Streams of a namespace share one reader (namespace-tails.ts). A stream that resumes
 * (Last-Event-ID) first catches up on its own with non-blocking reads from its position,
 * then takes the reader's batches, so a reconnect resumes exactly where it stopped, with
 * nothing lost or repeated. Slots are counted before the first await: per namespace (a
 * tenant cannot take every slot) and per process. A client that does not read is cut off
 * once what waits for it passes a bound; the others never wait for it.
 */
import { once } from 'node:events';
import type { AccessRecord } from '@registry-triggers/core';
import { namespaceNameSchema } from '@registry-triggers/core';
import {
  HttpError,
  parseOr400,
  principalOf,
  type RouteHandlers,
  requireNamespace,
  watchAccess,
} from '@registry-triggers/http-kit';
import {
  compareRecordIds,
  isRecordId,
  type RecordStore,
  type RedisConnection,
} from '@registry-triggers/store';
import type { Response } from 'express';
import { z } from 'zod';
import { NamespaceTails, type TailFollower } from '../namespace-tails.js';

const HEARTBEAT_MS = 15_000;
/** Records a catching-up stream keeps of the reader's batches; past it, it reads them itself. */
const MAX_HELD_RECORDS = 1000;
const RETRY_AFTER_SECONDS = '5';
const RETRY_AFTER_ERROR_MS = 1000;

export interface LiveTailDeps {
  records: RecordStore;
  blockingConnection: () => RedisConnection;
  /** Streams open at once in this process. */
  maxStreams: number;
  /** Streams of one namespace open at once (namespace tokens; the admin token is bounded by maxStreams only). */
  maxStreamsPerNamespace: number;
  /** Bytes that may wait for a client that does not read before its stream is cut off. */
  streamBufferBytes: number;
}

/** Stream slots, taken and given back synchronously: no two requests can both take the last one. */
class StreamSlots {
  private total = 0;
  private readonly perNamespace = new Map<string, number>();

  constructor(private readonly deps: LiveTailDeps) {}

  /** Takes a slot or throws the problem that says why not; answers the function that gives it back. */
  take(namespace: string, limitedByNamespace: boolean): () => void {
    if (this.total >= this.deps.maxStreams) {
      throw new HttpError(503, 'too-many-streams', 'too many live streams are open; retry later', undefined, {
        'Retry-After': RETRY_AFTER_SECONDS,
      });
    }
    const mine = this.perNamespace.get(namespace) ?? 0;
    if (limitedByNamespace && mine >= this.deps.maxStreamsPerNamespace) {
      throw new HttpError(
        429,
        'too-many-streams',
        `namespace ${namespace} has ${mine} live streams open, the most one namespace may have (LOGS_MAX_STREAMS_PER_NAMESPACE); close one or retry later`,
        undefined,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    this.total++;
    this.perNamespace.set(namespace, mine + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = (this.perNamespace.get(namespace) ?? 1) - 1;
      if (left === 0) this.perNamespace.delete(namespace);
      else this.perNamespace.set(namespace, left);
    };
  }

  open(): number {
    return this.total;
  }
}

// A reader hands the same record objects to every stream of its namespace: each is written
// out once, however many streams follow it.
const events = new WeakMap<AccessRecord, string>();

function eventOf(record: AccessRecord): string {
  let event = events.get(record);
  if (event === undefined) {
    // No `event:` field: a record is the default `message` event, which every client
    // hears (EventSource's onmessage included) without knowing a name of ours.
    event = `id: ${record.id}\ndata: ${JSON.stringify(record)}\n\n`;
    events.set(record, event);
  }
  return event;
}

/** One client's stream: writes records after its position, once each, and cuts off a client that does not read. */
class RecordStream implements TailFollower {
  private catchingUp = true;
  private held: AccessRecord[] = [];
  /** Set when held records were dropped: the catch-up must read once more before it may end. */
  private dropped = false;

  constructor(
    private readonly res: Response,
    private position: string,
    private readonly bufferBytes: number,
    private readonly cutOff: () => void,
  ) {}

  deliver(records: AccessRecord[]): void {
    if (!this.catchingUp) {
      this.write(records);
      return;
    }
    this.held.push(...records);
    if (this.held.length > MAX_HELD_RECORDS) {
      this.held = [];
      this.dropped = true;
    }
  }

  idle(): void {
    if (!this.catchingUp) this.send(': keep-alive\n\n');
  }

  /** Reads from its own position until none is left, then takes the reader's batches. */
  async catchUp(records: RecordStore, namespace: string, closed: () => boolean): Promise<void> {
    for (;;) {
      this.dropped = false;
      let batch: AccessRecord[];
      try {
        batch = await records.after(namespace, this.position);
      } catch {
        // Redis is away: keep the position and try again, as the reader does.
        if (closed()) return;
        this.dropped = true;
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
        continue;
      }
      if (closed()) return;
      if (batch.length === 0 && !this.dropped) break;
      // A client that reads slowly is waited for here (nothing else waits on this stream);
      // one that does not read at all passes the bound and is cut off.
      if (!this.write(batch) && !closed())
        await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
      if (closed()) return;
    }
    this.catchingUp = false;
    const held = this.held;
    this.held = [];
    this.write(held);
  }

  /** Writes what is newer than the position; false when the client is behind (the buffer is full). */
  private write(records: AccessRecord[]): boolean {
    let flowing = true;
    for (const record of records) {
      if (compareRecordIds(record.id, this.position) <= 0) continue;
      flowing = this.send(eventOf(record));
      this.position = record.id;
    }
    return flowing;
  }

  private send(text: string): boolean {
    if (this.res.destroyed) return false;
    const flowing = this.res.write(text);
    if (this.res.writableLength > this.bufferBytes) this.cutOff();
    return flowing;
  }
}

export function liveTailHandlers(deps: LiveTailDeps): {
  handlers: RouteHandlers;
  closeAll: () => void;
  clients: () => number;
} {
  const handlers: RouteHandlers = {};
  const open = new Set<() => void>();
  const slots = new StreamSlots(deps);
  const tails = new NamespaceTails(deps.blockingConnection, HEARTBEAT_MS);

  handlers.streamRecords = async (req, res) => {
    const { ns } = parseOr400(z.object({ ns: namespaceNameSchema }), req.params, 'path');
    requireNamespace(res, ns);
    const resumeFrom =
      req.get('last-event-id') ??
      (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    if (resumeFrom !== undefined && !isRecordId(resumeFrom)) {
      throw new HttpError(400, 'validation-failed', 'Last-Event-ID must be a record id', [
        { path: 'Last-Event-ID', message: 'must be a record id such as 1732665000000-0' },
      ]);
    }
    // Before the first await: two requests cannot both take the last slot.
    const giveBack = slots.take(ns, principalOf(res).kind !== 'admin');
    // A client that leaves while the position is read has already fired 'close': without
    // this, its stream would hold a slot for ever.
    let left = false;
    req.once('close', () => {
      left = true;
    });
    let newest: string;
    try {
      newest = await deps.records.lastId(ns);
    } catch (error) {
      giveBack();
      throw error;
    }
    if (left) {
      giveBack();
      return;
    }
    const position = resumeFrom ?? newest;

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n: following ${ns} from ${position}\n\n`);

    let closed = false;
    let unwatch = () => {};
    let unfollow = () => {};
    const stop = () => {
      if (closed) return;
      closed = true;
      unwatch();
      unfollow();
      open.delete(stop);
      giveBack();
      res.end();
    };
    // What waits for a client that does not read is dropped with its connection.
    const cutOff = () => {
      stop();
      res.destroy();
    };
    open.add(stop);
    req.on('close', stop);
    // A token revoked, rotated out or expired ends its streams too (auth.ts re-checks it).
    unwatch = watchAccess(res, stop);
    if (closed) return;

    const stream = new RecordStream(res, position, deps.streamBufferBytes, cutOff);
    // Follow first, then catch up: whatever the reader has passed is in the log for the catch-up.
    // A reader this starts begins at the newest record: a stream resuming far back must not
    // make every stream of the namespace wait while the shared reader replays the log.
    unfollow = tails.follow(ns, newest, stream);
    await stream.catchUp(deps.records, ns, () => closed);
  };

  return {
    handlers,
    clients: () => slots.open(),
    closeAll: () => {
      for (const stop of [...open]) stop();
    },
  };
}
