// @ts-check
/**
 * Follows a Server-Sent Events stream. EventSource cannot send an Authorization header, so
 * the stream is read with fetch and parsed by eventsource-parser (served from the app's
 * node_modules), resuming with Last-Event-ID after every break, with backoff.
 */

import { problemOf } from './api.js';
import { createParser } from './eventsource-parser.js';

/** The server sends a keep-alive every 15 s; silence this long means a dead connection. */
const STREAM_SILENCE_MS = 45_000;

/**
 * @typedef {'connecting' | 'live' | 'reconnecting'} StreamState
 * @typedef {object} FollowOptions
 * @property {string} path
 * @property {() => string} token
 * @property {string | null} lastEventId where to resume from
 * @property {AbortSignal} signal ends the stream
 * @property {(data: string) => void} onMessage
 * @property {(state: StreamState) => void} onState
 * @property {(error: import('./api.js').ApiError) => void} onRefused a refusal retrying will not fix (401, 403, 404)
 */

/** Resolves after `ms`, or at once when `signal` aborts. @param {number} ms @param {AbortSignal} signal */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** @param {FollowOptions} options */
export async function follow(options) {
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let retryMs = 2000;
  let failures = 0;
  while (!signal.aborted) {
    options.onState(failures === 0 ? 'connecting' : 'reconnecting');
    const connection = new AbortController();
    const abortConnection = () => connection.abort();
    signal.addEventListener('abort', abortConnection, { once: true });
    let watchdog = 0;
    const feedWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = window.setTimeout(abortConnection, STREAM_SILENCE_MS);
    };
    let waitMs = 0;
    try {
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${options.token()}`, Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      feedWatchdog();
      const response = await fetch(options.path, { headers, cache: 'no-store', signal: connection.signal });
      if (!response.ok) {
        const problem = await problemOf(response);
        if (response.status === 429 || response.status >= 500) {
          const retryAfter = Number(response.headers.get('retry-after'));
          waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0;
          throw problem;
        }
        if (!signal.aborted) options.onRefused(problem);
        return;
      }
      if (!response.body) throw new Error('the stream has no body');
      failures = 0;
      options.onState('live');
      const parser = createParser({
        onEvent: (event) => {
          if (event.id !== undefined) lastEventId = event.id;
          // Records are the default `message` event; anything named is not ours to read.
          if (event.event === undefined || event.event === 'message') options.onMessage(event.data);
        },
        onRetry: (ms) => {
          retryMs = ms;
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feedWatchdog();
        parser.feed(value);
      }
    } catch {
      // network error, server restart or a silent connection: reconnect below
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', abortConnection);
      connection.abort();
    }
    if (signal.aborted) return;
    // A stream the server ended (a revoked token's, say) is tried again: the answer says why.
    failures++;
    options.onState('reconnecting');
    const backoff = Math.min(30_000, retryMs * 2 ** Math.min(failures - 1, 4));
    await sleep(Math.max(waitMs, backoff * (0.75 + Math.random() * 0.5)), signal);
  }
}
