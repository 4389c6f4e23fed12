// The live tail (`GET /v1/namespaces/{ns}/records/stream`) over real HTTP against a real
// Redis: records arrive as Server-Sent Events in order, a reconnect with Last-Event-ID
// resumes with nothing lost or repeated, and closing the app ends every stream.
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AccessRecord } from '@registry-triggers/core';
import {
  createRedis,
  createToken,
  issueNamespaceToken,
  type NewAccessRecord,
  RecordStore,
  type RedisConnection,
  revokeToken,
} from '@registry-triggers/store';
import { type RedisHandle, startRedis, uniqueName, waitFor, withTimeout } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogsOptions, type LogsUnderTest, startLogsApp } from './support/logs-app.js';

const ADMIN = 'admin-token-for-the-live-tail-test';

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** One open event stream: what it has received so far, parsed as the EventSource spec says. */
interface SseStream {
  status: number;
  contentType: string;
  events: SseEvent[];
  comments: string[];
  ended: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the problem body of a refused stream
  problem: any;
  headers: Headers;
  close(): void;
}

function parseBlock(block: string, stream: SseStream) {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '') continue;
    if (line.startsWith(':')) {
      stream.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length > 0) stream.events.push({ id, event, data: data.join('\n') });
}

async function openStream(
  logs: LogsUnderTest,
  namespace: string,
  options: { token?: string | null; lastEventId?: string } = {},
): Promise<SseStream> {
  const token = options.token === undefined ? ADMIN : options.token;
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = options.lastEventId;
  const controller = new AbortController();
  const response = await fetch(`${logs.url}/v1/namespaces/${namespace}/records/stream`, {
    headers,
    signal: controller.signal,
  });
  const stream: SseStream = {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    headers: response.headers,
    events: [],
    comments: [],
    ended: false,
    problem: undefined,
    close: () => controller.abort(),
  };
  if (response.status !== 200) {
    stream.problem = await response.json();
    stream.ended = true;
    return stream;
  }
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
        buffer = blocks.pop()!;
        for (const block of blocks) parseBlock(block, stream);
      }
    } catch {
      // aborted by close()
    } finally {
      stream.ended = true;
    }
  })();
  // The first comment says the server has fixed its position: later records are ours.
  await waitFor(() => stream.comments.some((c) => c.startsWith('following')) || stream.ended, {
    message: 'the stream to start',
  });
  return stream;
}

const recordsOf = (stream: SseStream) =>
  stream.events.map((event) => {
    // The default event type: EventSource's onmessage hears it.
    expect(event.event).toBeUndefined();
    const record = JSON.parse(event.data) as AccessRecord;
    expect(event.id).toBe(record.id);
    return record;
  });

function newRecord(namespace: string, n: number): NewAccessRecord {
  return {
    triggerId: `trg-${n % 2}`,
    triggerName: 'hook',
    triggerUrl: 'https://hooks.example.com/x',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: `evt-${n}`,
    deliveryId: `msg_${n}`,
    namespace,
    repository: n % 3 === 0 ? 'team/web' : 'app',
    tag: `v${n}`,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    status: n % 5 === 0 ? 'failed' : 'succeeded',
    statusCode: n % 5 === 0 ? '500' : '200',
    attempt: 1,
    requestTime: 1_700_000_000_000 + n,
    durationMs: 4,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: `{"n":${n}}`,
    responseHeaders: {},
    // A multi-line body must still arrive as one event.
    responseBody: `line one\nline two of ${n}`,
  };
}

let server: RedisHandle;
let redis: RedisConnection;
let store: RecordStore;
let logs: LogsUnderTest;
let serial = 0;

async function append(namespace: string, count: number): Promise<AccessRecord[]> {
  const out: AccessRecord[] = [];
  for (let i = 0; i < count; i++) {
    const record = newRecord(namespace, serial++);
    out.push({ id: await store.append(record), ...record });
  }
  return out;
}

const ended = (connection: RedisConnection) => connection.status === 'end';

beforeAll(async () => {
  server = await startRedis();
  redis = createRedis({ REDIS_URL: server.url }, { role: 'worker', name: 'writer' });
  store = new RecordStore(redis);
  logs = await startLogsApp({ redisUrl: server.url, adminToken: ADMIN, maxStreams: 20 });
});
afterAll(async () => {
  await logs?.close();
  await redis?.quit();
  await server?.stop();
});

describe('the live tail', () => {
  it('sends records appended after connecting as id/event/data events, in order', async () => {
    const ns = uniqueName('tail');
    const before = await append(ns, 3);
    const stream = await openStream(logs, ns);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);

    const written = await append(ns, 25);
    await append(uniqueName('elsewhere'), 5);
    await waitFor(() => stream.events.length >= 25, { message: '25 events' });
    const received = recordsOf(stream);
    expect(received).toEqual(written);
    expect(received.some((r) => before.some((b) => b.id === r.id))).toBe(false);
    stream.close();
  });

  it('resumes after a reconnect with Last-Event-ID: every missed record once, in order, then live ones', async () => {
    const ns = uniqueName('resume');
    const all: AccessRecord[] = [];
    const first = await openStream(logs, ns);
    const firstTail = logs.tails.at(-1)!;

    // A writer keeps appending while the client drops in the middle of the flow.
    let writing = true;
    const writer = (async () => {
      while (writing) all.push(...(await append(ns, 1)));
    })();
    await waitFor(() => first.events.length >= 20, { message: '20 events before the drop' });
    first.close();
    const seen = recordsOf(first);
    const lastSeen = seen.at(-1)!.id;
    // The server has noticed the drop: from here on, nobody reads for this client.
    await waitFor(() => ended(firstTail), { message: 'the server to end the first stream' });
    writing = false;
    await writer;
    // More records while nobody listens.
    all.push(...(await append(ns, 30)));

    const second = await openStream(logs, ns, { lastEventId: lastSeen });
    expect(second.status).toBe(200);
    await waitFor(() => second.events.at(-1)?.id === all.at(-1)!.id, { message: 'the missed records' });
    const live = await append(ns, 10);
    all.push(...live);
    await waitFor(() => second.events.at(-1)?.id === live.at(-1)!.id, { message: 'the live records' });

    const resumed = recordsOf(second);
    expect(seen).toEqual(all.slice(0, seen.length));
    expect(resumed).toEqual(all.slice(seen.length));
    expect(new Set([...seen, ...resumed].map((r) => r.id)).size).toBe(all.length);
    second.close();
  });

  it('the lastEventId query parameter resumes the same way (for clients that cannot set headers)', async () => {
    const ns = uniqueName('query');
    const written = await append(ns, 6);
    const controller = new AbortController();
    const response = await fetch(
      `${logs.url}/v1/namespaces/${ns}/records/stream?lastEventId=${written[1]!.id}`,
      { headers: { Authorization: `Bearer ${ADMIN}` }, signal: controller.signal },
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await waitFor(
      async () => {
        text += decoder.decode((await reader.read()).value, { stream: true });
        return text.includes(`id: ${written[5]!.id}\n`);
      },
      { message: 'the records after the given id' },
    );
    const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(written.slice(2).map((r) => r.id));
    controller.abort();
  });

  it('a client that goes away releases its Redis connection', async () => {
    const ns = uniqueName('gone');
    const stream = await openStream(logs, ns);
    const connection = logs.tails.at(-1)!;
    expect(ended(connection)).toBe(false);
    stream.close();
    await waitFor(() => ended(connection), { message: 'the stream connection to close' });
  });

  it('a client that leaves before its stream starts leaves nothing running', async () => {
    const ns = uniqueName('early');
    const tailsBefore = logs.tails.length;
    const arrived = new Promise<IncomingMessage>((resolve) => logs.http.once('request', resolve));
    // Hold every Redis command for a moment, so the client leaves while the server reads its position.
    await redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const controller = new AbortController();
    const leaving = fetch(`${logs.url}/v1/namespaces/${ns}/records/stream`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
      signal: controller.signal,
    }).catch(() => undefined);
    const request = await arrived;
    controller.abort();
    await leaving;
    await waitFor(() => request.socket.destroyed, { message: 'the server to see the client leave' });

    // A second client reads its position over the same app connection after the first did:
    // once its stream has started, the first request is past that point too.
    const second = await openStream(logs, ns);
    expect(second.status).toBe(200);
    expect(logs.tails.length - tailsBefore).toBe(1);
    second.close();
    await waitFor(() => logs.tails.slice(tailsBefore).every(ended), { message: 'no stream connection left' });
  });

  it.each([
    ['not an id', 'abc'],
    ['three parts', '1-2-3'],
    ['beyond 64 bits', '99999999999999999999-0'],
  ])('a bad Last-Event-ID (%s) is a 400 problem', async (_, lastEventId) => {
    const stream = await openStream(logs, uniqueName('bad'), { lastEventId });
    expect(stream.status).toBe(400);
    expect(stream.contentType).toMatch(/^application\/problem\+json/);
    expect(stream.problem).toMatchObject({ status: 400, code: 'validation-failed' });
    expect(stream.problem.errors[0].path).toBe('Last-Event-ID');
  });

  it("401 without a token; a namespace token follows its namespace and gets 404 for another's", async () => {
    const ns = uniqueName('own');
    const other = uniqueName('foreign');
    const token = await issueNamespaceToken(redis, ns);

    const anonymous = await openStream(logs, ns, { token: null });
    expect(anonymous.status).toBe(401);
    const foreign = await openStream(logs, other, { token });
    expect(foreign.status).toBe(404);
    expect(foreign.contentType).toMatch(/^application\/problem\+json/);
    expect(foreign.problem).toMatchObject({ status: 404, code: 'not-found' });

    const own = await openStream(logs, ns, { token });
    expect(own.status).toBe(200);
    await append(other, 2);
    const mine = await append(ns, 2);
    await waitFor(() => own.events.length >= 2, { message: 'own records' });
    expect(recordsOf(own)).toEqual(mine);
    own.close();
  });
});

describe('a token that stops working ends its streams', () => {
  it('revoking the token closes its open stream within a second; a new one is 401', async () => {
    const ns = uniqueName('revoked');
    const issued = await createToken(redis, ns, { scope: 'read' });
    const [first, second] = [
      await openStream(logs, ns, { token: issued.token }),
      await openStream(logs, ns, { token: issued.token }),
    ];
    expect([first.status, second.status]).toEqual([200, 200]);
    const revokedAt = performance.now();
    expect(await revokeToken(redis, ns, issued.id)).toBe(true);
    await waitFor(() => first.ended && second.ended, { timeoutMs: 5000, message: 'the streams to end' });
    const tookMs = performance.now() - revokedAt;
    expect(tookMs).toBeLessThan(1000);
    expect((await openStream(logs, ns, { token: issued.token })).status).toBe(401);
  });

  it('an expiring token closes its stream when it expires', async () => {
    const ns = uniqueName('expiring');
    const issued = await createToken(redis, ns, { expiresAt: Date.now() + 600 });
    const stream = await openStream(logs, ns, { token: issued.token });
    expect(stream.status).toBe(200);
    await waitFor(() => stream.ended, { timeoutMs: 5000, message: 'the stream to end at expiry' });
    expect(Date.now()).toBeGreaterThanOrEqual(issued.expiresAt!);
    expect((await openStream(logs, ns, { token: issued.token })).status).toBe(401);
  });
});

describe('closing the app', () => {
  it('closeStreams() ends every open stream and frees its connection, so the server can close', async () => {
    const local = await startLogsApp({ redisUrl: server.url, adminToken: ADMIN, maxStreams: 2 });
    try {
      const ns = uniqueName('close');
      const streams = [await openStream(local, ns), await openStream(local, ns)];
      // The stream cap answers 503 with Retry-After rather than opening a third connection.
      const refused = await openStream(local, ns);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');

      const written = await append(ns, 3);
      await waitFor(() => streams.every((s) => s.events.length === 3), {
        message: 'records on both streams',
      });
      for (const s of streams) expect(recordsOf(s)).toEqual(written);

      local.app.closeStreams();
      await waitFor(() => streams.every((s) => s.ended), { message: 'the streams to end' });
      await waitFor(() => local.tails.every(ended), { message: 'every stream connection to close' });
      // Both streams follow one namespace: one reader, one connection.
      expect(local.tails).toHaveLength(1);
      await withTimeout(local.close(), 5000, 'the server to close once its streams ended');
    } finally {
      // After a failure above, do not wait for streams that never ended.
      local.http.closeAllConnections();
      await local.close();
    }
  });
});

describe('sharing the live tail fairly', () => {
  const metric = async (app: LogsUnderTest, name: string) => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };

  /** Runs `body` on an app of its own; its streams and the app are closed whatever happens. */
  async function withOwnApp(
    options: Omit<LogsOptions, 'redisUrl' | 'adminToken'>,
    body: (local: LogsUnderTest, streams: SseStream[]) => Promise<void>,
  ) {
    const local = await startLogsApp({ redisUrl: server.url, adminToken: ADMIN, ...options });
    const streams: SseStream[] = [];
    try {
      await body(local, streams);
    } finally {
      for (const stream of streams) stream.close();
      local.http.closeAllConnections();
      await local.close();
    }
  }

  it('a namespace token gets LOGS_MAX_STREAMS_PER_NAMESPACE streams even when asking all at once; others still get theirs', () =>
    withOwnApp({ maxStreams: 20, maxStreamsPerNamespace: 3 }, async (local, streams) => {
      const greedy = uniqueName('greedy');
      const modest = uniqueName('modest');
      const [greedyToken, modestToken] = [
        await issueNamespaceToken(redis, greedy),
        await issueNamespaceToken(redis, modest),
      ];
      streams.push(
        ...(await Promise.all(
          Array.from({ length: 8 }, () => openStream(local, greedy, { token: greedyToken })),
        )),
      );
      const statuses = streams.map((stream) => stream.status).sort();
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
      const refused = streams.find((stream) => stream.status === 429)!;
      expect(refused.contentType).toMatch(/^application\/problem\+json/);
      expect(refused.problem).toMatchObject({ status: 429, code: 'too-many-streams' });
      expect(refused.problem.detail).toMatch(/has 3 live streams open, the most one namespace may have/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another tenant is not held back by the first one's streams.
      const other = await openStream(local, modest, { token: modestToken });
      streams.push(other);
      expect(other.status).toBe(200);
      // A stream that ends gives its slot back.
      streams.find((stream) => stream.status === 200)!.close();
      await waitFor(async () => (await metric(local, 'live_tail_clients')) === 3, {
        message: 'the slot back',
      });
      const again = await openStream(local, greedy, { token: greedyToken });
      streams.push(again);
      expect(again.status).toBe(200);
    }));

  it('the process-wide cap holds exactly under concurrent requests (no overshoot past an await)', () =>
    withOwnApp({ maxStreams: 3 }, async (local, streams) => {
      // Redis holds every command for a moment, so all nine requests are inside the route at once.
      await redis.call('CLIENT', 'PAUSE', '300', 'ALL');
      streams.push(
        ...(await Promise.all(Array.from({ length: 9 }, () => openStream(local, uniqueName('cap'))))),
      );
      expect(streams.map((stream) => stream.status).sort()).toEqual([
        200, 200, 200, 503, 503, 503, 503, 503, 503,
      ]);
      expect(await metric(local, 'live_tail_clients')).toBe(3);
    }));

  it('many streams of one namespace share one Redis reader, and each gets every record once', () =>
    withOwnApp({ maxStreams: 20 }, async (local, streams) => {
      const ns = uniqueName('shared');
      for (let i = 0; i < 6; i++) streams.push(await openStream(local, ns));
      const written = await append(ns, 20);
      await waitFor(() => streams.every((stream) => stream.events.length >= 20), {
        message: '20 events on every stream',
      });
      for (const stream of streams) expect(recordsOf(stream)).toEqual(written);
      expect(local.tails).toHaveLength(1);
      for (const stream of streams) stream.close();
      await waitFor(() => local.tails.every(ended), { message: 'the reader to stop with its last stream' });
    }));

  it('a client that never reads is cut off once its buffer passes the bound; a reading client keeps up', () =>
    withOwnApp({ streamBufferBytes: 64 * 1024 }, async (local, streams) => {
      const ns = uniqueName('stalled');
      const reader = await openStream(local, ns);
      streams.push(reader);
      // Sends its request, then never reads a byte: what the server writes piles up.
      const stalled = connect({ host: '127.0.0.1', port: Number(new URL(local.url).port) });
      try {
        await new Promise((resolve) => stalled.once('connect', resolve));
        stalled.write(
          `GET /v1/namespaces/${ns}/records/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
        );
        stalled.pause();
        await waitFor(async () => (await metric(local, 'live_tail_clients')) === 2, {
          message: 'both streams open',
        });

        // Large records until the socket buffers are full and the server's own buffer passes the bound.
        const big = (n: number): NewAccessRecord => ({ ...newRecord(ns, n), responseBody: 'x'.repeat(4000) });
        const written: string[] = [];
        for (let n = 0; (await metric(local, 'live_tail_clients')) === 2; n++) {
          if (n > 200) throw new Error('the stalled client was never cut off');
          for (let i = 0; i < 100; i++) written.push(await store.append(big(n * 100 + i)));
        }
        // The reader got every record, in order, while the stalled client was cut off.
        await waitFor(() => reader.events.length >= written.length, {
          timeoutMs: 20_000,
          message: 'every record on the reading stream',
        });
        expect(reader.events.map((event) => event.id)).toEqual(written);
        expect(reader.ended).toBe(false);
        expect(await metric(local, 'live_tail_clients')).toBe(1);
      } finally {
        stalled.destroy();
      }
    }));
});
