import { Agent, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler } from './error-handler.js';
import { closeServer, listen } from './http-server.js';
import { createLogger } from './logger.js';
import { notFound } from './problem.js';

describe('every answer of a server started by listen', () => {
  const app = express();
  app.get('/json', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/problem', () => {
    throw notFound('the thing');
  });
  app.use(problemHandler(createLogger('test', 'silent')));
  let server: Awaited<ReturnType<typeof listen>>;
  let base: string;
  beforeAll(async () => {
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => closeServer(server));

  it.each(['/json', '/problem', '/no-such-route'])(
    '%s carries X-Content-Type-Options: nosniff',
    async (path) => {
      const response = await fetch(`${base}${path}`);
      await response.arrayBuffer();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    },
  );
});

// A server closed while clients keep their keep-alive connections busy (a load balancer, a
// registry pushing steadily) must still close, once the requests in flight are answered.
it('closes under steady keep-alive load: in-flight requests answered, then every connection ends', async () => {
  const app = express();
  let received = 0;
  let finished = 0;
  app.get('/', (_req, res) => {
    received++;
    res.on('finish', () => finished++);
    setTimeout(() => res.send('ok'), 5);
  });
  const server = await listen(app, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const request = () =>
    new Promise<void>((resolve, reject) => {
      get(url, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
  let closing = false;
  let answered = 0;
  const failures: string[] = [];
  const lane = async () => {
    while (!closing) {
      try {
        await request();
        answered++;
      } catch (error) {
        // Refused once the server stopped listening, or a request written on an idle
        // connection as the server closed it (it never reached the app): a client retries both.
        const code = (error as { code?: string }).code ?? String(error);
        if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET') failures.push(code);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const lanes = Array.from({ length: 8 }, lane);
  try {
    // Every connection busy before the close starts.
    while (answered < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    const closed = await Promise.race([
      closeServer(server).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    expect(closed, 'the server closed within 3 s').toBe(true);
  } finally {
    closing = true;
    await Promise.all(lanes);
    agent.destroy();
    server.closeAllConnections();
  }
  // Nothing in flight was cut: every request the app took was answered.
  expect(failures).toEqual([]);
  expect(finished).toBe(received);
});
