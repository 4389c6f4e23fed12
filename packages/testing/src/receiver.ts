// Real HTTP(S) servers on loopback standing in for webhook receivers: they record every
// request byte for byte and answer however the test tells them to.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { selfSignedCertificate } from './self-signed-cert.js';
import { WaitTimeoutError } from './wait.js';

export interface ReceivedRequest {
  /** 0 for the first request this receiver completed, then 1, 2, ... */
  index: number;
  method: string;
  /** Path and query as sent, e.g. `/hook?x=1`. */
  url: string;
  /** Lower-case names; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** Names and values as sent, in order: for assertions on case or repetition. */
  rawHeaders: string[];
  /** The body bytes decoded as UTF-8. */
  body: string;
  bodyBytes: Buffer;
  /** Epoch milliseconds when the request head arrived. */
  receivedAt: number;
}

export interface ReceiverResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Default 'ok'. */
  body?: string | Buffer;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer: the connection stays open until the client gives up or close(). */
  hang?: boolean;
  /** Drop the connection without any response. */
  destroy?: boolean;
}

export type ReceiverHandler = (
  index: number,
  request: ReceivedRequest,
) => ReceiverResponse | Promise<ReceiverResponse>;

export interface Receiver {
  /** `http(s)://127.0.0.1:PORT/hook` (the path is `options.path`). */
  readonly url: string;
  /** `http(s)://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  /** Every completed request so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Replaces how later requests are answered. */
  respondWith(handler: ReceiverHandler): void;
  /** Resolves with all requests once at least `count` have arrived; rejects at the deadline. */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Forgets the recorded requests and restores the default answer (200 'ok'). */
  reset(): void;
  /** Stops listening and destroys open connections, hanging ones included. */
  close(): Promise<void>;
}

export interface HttpsReceiver extends Receiver {
  /** The self-signed certificate (PEM), for a client that chooses to trust it. */
  readonly cert: string;
}

export interface ReceiverOptions {
  /** Path of `url`; requests to any path are recorded. Default '/hook'. */
  path?: string;
}

const defaultHandler: ReceiverHandler = () => ({ status: 200, body: 'ok' });

export function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  return listen(createServer(), 'http', options);
}

export async function startHttpsReceiver(options: ReceiverOptions = {}): Promise<HttpsReceiver> {
  const { key, cert } = await selfSignedCertificate();
  const receiver = await listen(createHttpsServer({ key, cert }), 'https', options);
  return Object.assign(receiver, { cert });
}

async function listen(
  server: Server,
  protocol: 'http' | 'https',
  options: ReceiverOptions,
): Promise<Receiver> {
  const path = options.path ?? '/hook';
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
  let handler = defaultHandler;

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const bodyBytes = Buffer.concat(chunks);
      const request: ReceivedRequest = {
        index: requests.length,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: flattenHeaders(req.headers),
        rawHeaders: [...req.rawHeaders],
        body: bodyBytes.toString('utf8'),
        bodyBytes,
        receivedAt,
      };
      requests.push(request);
      for (const waiter of waiters) waiter();
      void answer(handler, request, req, res, timers);
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `${protocol}://127.0.0.1:${port}`;

  return {
    url: `${origin}${path}`,
    origin,
    port,
    get requests() {
      return requests;
    },
    respondWith(next) {
      handler = next;
    },
    waitForRequests(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          cleanup();
          resolve([...requests]);
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = requests.map((r) => `${r.method} ${r.url}`).join(', ') || 'none';
          reject(
            new WaitTimeoutError(
              `Timed out after ${timeoutMs} ms waiting for ${count} request(s) at ${origin}; got ${requests.length} (${seen})`,
              requests.length,
              undefined,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    reset() {
      requests.length = 0;
      handler = defaultHandler;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function answer(
  handler: ReceiverHandler,
  request: ReceivedRequest,
  req: IncomingMessage,
  res: ServerResponse,
  timers: Set<NodeJS.Timeout>,
): Promise<void> {
  let response: ReceiverResponse;
  try {
    response = await handler(request.index, request);
  } catch (error) {
    // A broken handler is a bug in the test: make it loud, answer 500.
    console.error('[testing] receiver handler threw:', error);
    response = { status: 500, body: String(error) };
  }
  if (response.hang) return;
  const send = () => {
    if (response.destroy) {
      req.socket.destroy();
      return;
    }
    res.writeHead(response.status ?? 200, response.headers);
    res.end(response.body ?? 'ok');
  };
  if (!response.delayMs) {
    send();
    return;
  }
  const timer = setTimeout(() => {
    timers.delete(timer);
    send();
  }, response.delayMs);
  timers.add(timer);
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
