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
