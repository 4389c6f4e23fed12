/**
 * Diagnostic for the single-event ingest row: the least an HTTP ingest can do (node:http,
 * JSON.parse, one Queue.add, 202) with none of the api's stack (express, auth, zod, metrics,
 * repository creation, deduplication). The gap between it and bare Queue.add is the price
 * of HTTP itself; the gap between the api and it is the price of the api's own stack.
 * argv[2]: JSON { redisUrl }.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AgentMessage, OrchestratorMessage } from '../lib/protocol.js';

const { redisUrl } = JSON.parse(process.argv[2] ?? '{}') as { redisUrl: string };
const connection = new Redis(redisUrl, {
  maxRetriesPerRequest: null,
  connectionName: 'bench-minimal-ingest',
});
const queue = new Queue('minimal-ingest', { connection, prefix: 'bench' });
await queue.waitUntilReady();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const eventId = randomUUID();
      await queue.add('push', { ...event, eventId, pushedAt: Date.now(), receivedAt: Date.now() });
      const body = JSON.stringify({ accepted: 1, duplicates: 0, eventIds: [eventId] });
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const send = (message: AgentMessage) => process.send?.(message);
  send({ type: 'ready', ports: { http: (server.address() as AddressInfo).port } });
});
process.on('message', (message: OrchestratorMessage) => {
  if (message.type === 'close') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
