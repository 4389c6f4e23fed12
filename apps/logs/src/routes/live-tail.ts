/**
 * `GET /v1/namespaces/{ns}/records/stream`: Server-Sent Events, one per new record.
 * Each client reads the namespace log from its own position on its own connection, so a
 * reconnect with Last-Event-ID resumes exactly where it stopped, with nothing lost.
 */
import { namespaceNameSchema } from '@registry-triggers/core';
import { HttpError, parseOr400, requireNamespace, watchAccess } from '@registry-triggers/http-kit';
import { isRecordId, RecordStore, type RedisConnection } from '@registry-triggers/store';
import { Router } from 'express';
import { z } from 'zod';

const HEARTBEAT_MS = 15_000;

export interface LiveTailDeps {
  records: RecordStore;
  blockingConnection: () => RedisConnection;
  maxStreams: number;
}

export function liveTailRoutes(deps: LiveTailDeps): Router & { closeAll: () => void; clients: () => number } {
  const router = Router();
  const open = new Set<() => void>();

  router.get('/v1/namespaces/:ns/records/stream', async (req, res) => {
    const { ns } = parseOr400(z.object({ ns: namespaceNameSchema }), req.params, 'path');
    requireNamespace(res, ns);
    if (open.size >= deps.maxStreams) {
      throw new HttpError(503, 'too-many-streams', 'too many live streams are open; retry later', undefined, {
        'Retry-After': '5',
      });
    }
    const resumeFrom =
      req.get('last-event-id') ??
      (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    if (resumeFrom !== undefined && !isRecordId(resumeFrom)) {
      throw new HttpError(400, 'validation-failed', 'Last-Event-ID must be a record id', [
        { path: 'Last-Event-ID', message: 'must be a record id such as 1732665000000-0' },
      ]);
    }
    // A client that leaves while the position is read has already fired 'close': without
    // this, its loop would hold a Redis connection and a stream slot for ever.
    let left = false;
    req.once('close', () => {
      left = true;
    });
    let position = resumeFrom ?? (await deps.records.lastId(ns));
    if (left) return;

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n: following ${ns} from ${position}\n\n`);

    const connection = deps.blockingConnection();
    let closed = false;
    let unwatch = () => {};
    const stop = () => {
      if (closed) return;
      closed = true;
      unwatch();
      open.delete(stop);
      connection.disconnect();
      res.end();
    };
    open.add(stop);
    req.on('close', stop);
    // A token revoked, rotated out or expired ends its streams too (auth.ts re-checks it).
    unwatch = watchAccess(res, stop);

    while (!closed) {
      try {
        const batch = await RecordStore.readAfter(connection, ns, position, HEARTBEAT_MS);
        if (closed) break;
        if (batch.length === 0) res.write(': keep-alive\n\n');
        for (const record of batch) {
          // No `event:` field: a record is the default `message` event, which every client
          // hears (EventSource's onmessage included) without knowing a name of ours.
          res.write(`id: ${record.id}\ndata: ${JSON.stringify(record)}\n\n`);
          position = record.id;
        }
      } catch {
        if (!closed) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  });

  return Object.assign(router, {
    clients: () => open.size,
    closeAll: () => {
      for (const stop of [...open]) stop();
    },
  });
}
