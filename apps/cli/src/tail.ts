/**
 * `records tail`: follows the logs app's Server-Sent Events of a namespace. A dropped stream
 * (the logs app restarted, a proxy timed out) is opened again after the server's `retry`
 * with Last-Event-ID, so no record written meanwhile is missed; an answer that says the
 * token or the request is wrong (4xx) ends the tail with that problem.
 */
import { createParser } from 'eventsource-parser';
import { type RegistryClient, unwrap } from './client.js';
import { ApiError } from './errors.js';
import type { components } from './generated/openapi.js';

export type AccessRecord = components['schemas']['AccessRecord'];

export interface TailOptions {
  namespace: string;
  /** Resume after this record id. */
  after?: string | undefined;
  /** Stop after this many records. */
  count?: number | undefined;
  onRecord: (record: AccessRecord) => void;
  /** Told each time the stream is opened again, with the id it resumes after. */
  onReconnect?: (lastEventId: string | undefined) => void;
  /** Told once the server follows the log for this client (its opening comment arrived). */
  onOpen?: () => void;
  signal?: AbortSignal;
}

const DEFAULT_RETRY_MS = 2000;

/** Resolves once `count` records were seen or the signal aborts; rejects with an ApiError on a 4xx. */
export async function tailRecords(logs: RegistryClient, options: TailOptions): Promise<void> {
  let lastEventId = options.after;
  let retryMs = DEFAULT_RETRY_MS;
  let seen = 0;
  const done = () => options.signal?.aborted || (options.count !== undefined && seen >= options.count);

  for (let connection = 0; !done(); connection++) {
    if (connection > 0) {
      await pause(retryMs, options.signal);
      if (done()) break;
      options.onReconnect?.(lastEventId);
    }
    const reader = new AbortController();
    const stopReading = () => reader.abort();
    options.signal?.addEventListener('abort', stopReading, { once: true });
    try {
      const stream = await unwrap(
        logs.GET('/v1/namespaces/{ns}/records/stream', {
          params: {
            path: { ns: options.namespace },
            ...(lastEventId === undefined ? {} : { header: { 'Last-Event-ID': lastEventId } }),
          },
          parseAs: 'stream',
          signal: reader.signal,
        }),
      );
      if (!stream) continue;
      const parser = createParser({
        onComment: (comment) => {
          if (comment.trim().startsWith('following')) options.onOpen?.();
        },
        onRetry: (ms) => {
          retryMs = ms;
        },
        onEvent: (event) => {
          if (done()) return;
          if (event.id) lastEventId = event.id;
          seen++;
          options.onRecord(JSON.parse(event.data) as AccessRecord);
          if (done()) reader.abort();
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
    } catch (error) {
      // A refusal is final; a server that is away (5xx, no answer) or a cut stream is retried.
      if (error instanceof ApiError && error.status !== undefined && error.status < 500) throw error;
      if (reader.signal.aborted) continue;
    } finally {
      options.signal?.removeEventListener('abort', stopReading);
      reader.abort();
    }
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
