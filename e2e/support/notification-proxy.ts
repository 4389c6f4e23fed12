/**
 * A small HTTP proxy between a registry and the api: it forwards every notification byte
 * for byte with its headers, records what it saw and what the api answered, and can fail
 * chosen requests with a 503 so the registry retries them.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What to do with one request: forward it, or answer 503 before or after forwarding it. */
export type ProxyAction = 'forward' | 'fail-before-forwarding' | 'fail-after-forwarding';

export interface ProxiedExchange {
  index: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  action: ProxyAction;
  /** The api's answer; undefined when the request was not forwarded. */
  upstream?: { status: number; body: string };
  /** The status the registry got. */
  answeredStatus: number;
}

export interface NotificationProxy {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly exchanges: readonly ProxiedExchange[];
  close(): Promise<void>;
}

export interface NotificationProxyOptions {
  /** Origin of the api, e.g. `http://127.0.0.1:8080`. */
  target: string;
  /** Decides per request; default forwards everything. */
  decide?: (body: string, index: number) => ProxyAction;
}

export async function startNotificationProxy(options: NotificationProxyOptions): Promise<NotificationProxy> {
  const target = new URL(options.target);
  const exchanges: ProxiedExchange[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const bodyBytes = Buffer.concat(chunks);
      const index = exchanges.length;
      const body = bodyBytes.toString('utf8');
      const action = options.decide?.(body, index) ?? 'forward';
      const exchange: ProxiedExchange = {
        index,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        action,
        answeredStatus: 0,
      };
      exchanges.push(exchange);
      const fail = () => {
        exchange.answeredStatus = 503;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('injected by the test proxy');
      };
      if (action === 'fail-before-forwarding') {
        fail();
        return;
      }
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            const answerBytes = Buffer.concat(answerChunks);
            exchange.upstream = { status: answer.statusCode ?? 0, body: answerBytes.toString('utf8') };
            if (action === 'fail-after-forwarding') {
              fail();
              return;
            }
            exchange.answeredStatus = answer.statusCode ?? 502;
            res.writeHead(exchange.answeredStatus, answer.headers).end(answerBytes);
          });
        },
      );
      upstream.on('error', (error) => {
        exchange.upstream = { status: 0, body: String(error) };
        exchange.answeredStatus = 502;
        res.writeHead(502).end();
      });
      upstream.end(bodyBytes);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get exchanges() {
      return exchanges;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
