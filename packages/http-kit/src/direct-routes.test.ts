import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDirectly } from './direct-routes.js';
import { problemHandler } from './error-handler.js';
import { closeServer, listen } from './http-server.js';
import { createLogger } from './logger.js';
import { HttpError } from './problem.js';

describe('a direct route', () => {
  // Which way each request went: the app's router, or the direct route.
  const served: string[] = [];
  const stamp: RequestHandler = (req, res, next) => {
    res.setHeader('X-Seen-Query', String(req.query.q ?? ''));
    next();
  };
  const body = express.json();
  const answer: RequestHandler = (req, res) => {
    served.push(`${(req.route as { path: string }).path} ${req.originalUrl}`);
    if (req.body?.fail === 'sync') throw new HttpError(409, 'conflict', 'thrown');
    if (req.body?.fail === 'async') return Promise.reject(new HttpError(422, 'unprocessable', 'rejected'));
    res.status(202).json({ echoed: req.body, locals: Object.keys(res.locals) });
    return undefined;
  };
  const app = express();
  app.set('query parser', 'simple');
  app.use(stamp);
  app.post(
    '/v1/events/push',
    body,
    (_req, res, next) => {
      res.setHeader('X-Via', 'router');
      next();
    },
    answer,
  );
  const problems = problemHandler(createLogger('test', 'silent'));
  app.use(problems);
  serveDirectly(app, [{ method: 'POST', path: '/v1/events/push', chain: [stamp, body, answer] }], problems);

  let server: Awaited<ReturnType<typeof listen>>;
  let base: string;
  beforeAll(async () => {
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => closeServer(server));

  const post = (path: string, json: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });

  it('runs its chain as express would: express request and response, query, body, the route pattern', async () => {
    const response = await post('/v1/events/push?q=1', { a: 1 });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-via')).toBeNull();
    expect(response.headers.get('x-seen-query')).toBe('1');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.json()).toEqual({ echoed: { a: 1 }, locals: [] });
    expect(served.at(-1)).toBe('/v1/events/push /v1/events/push?q=1');
  });

  it('leaves any other spelling of its path to the router', async () => {
    const response = await post('/v1/events/push/', { a: 2 });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-via')).toBe('router');
  });

  it.each([
    ['sync', 409],
    ['async', 422],
  ])('answers a %s failure of a handler with the problem handler', async (fail, status) => {
    const response = await post('/v1/events/push', { fail });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers a body the parser refuses as the app does', async () => {
    const response = await fetch(`${base}/v1/events/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('malformed-json');
  });
});
