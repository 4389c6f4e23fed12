/**
 * The fair baseline of the end-to-end rows: the product's own two-hop shape, written the way
 * a competent engineer would in an afternoon and without the product's guarantees (no
 * validation, auth, deduplication, SSRF guard, signing, replica waits, retry records, per-origin
 * limits). `node:http` → one `Queue.add` → a fan-out worker reads the repository's triggers
 * from one hash and adds one delivery job each → a delivery worker reads its trigger, POSTs the
 * ACR body with undici and XADDs one record. Counts go to the parent every 50 ms.
 * argv[2]: JSON { redisUrl, concurrency, repositories: { "<ns>/<repo>": [url, ...] } }.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent as HttpAgent, request } from 'undici';
import { type AgentMessage, nowMs, type OrchestratorMessage } from '../lib/protocol.js';

interface Push {
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
}
interface Delivery {
  triggersKey: string;
  triggerId: string;
  push: Push;
  pushedAt: number;
}

const { redisUrl, concurrency, repositories } = JSON.parse(process.argv[2] ?? '{}') as {
  redisUrl: string;
  concurrency: number;
  repositories: Record<string, string[]>;
};
const send = (message: AgentMessage) => process.send?.(message);
const options = { maxRetriesPerRequest: null } as const;
const redis = new Redis(redisUrl, { ...options, connectionName: 'bench-minimal-pipeline' });
const prefix = 'minimal';
const pushes = new Queue<Push>('pushes', { connection: redis, prefix });
const deliveries = new Queue<Delivery>('deliveries', { connection: redis, prefix });
const dispatcher = new HttpAgent({ connections: concurrency, keepAliveTimeout: 30_000 });
const triggersKey = (push: Push) => `minimal:triggers:${push.namespace}/${push.repository}`;

for (const [name, urls] of Object.entries(repositories)) {
  const key = `minimal:triggers:${name}`;
  await redis.del(key);
  await redis.hset(key, Object.fromEntries(urls.map((url, i) => [`t${i}`, JSON.stringify({ url })])));
}

const fanOut = new Worker<Push>(
  'pushes',
  async (job) => {
    const key = triggersKey(job.data);
    const ids = await redis.hkeys(key);
    const pushedAt = Date.now();
    await deliveries.addBulk(
      ids.map((triggerId) => ({
        name: 'deliver',
        data: { triggersKey: key, triggerId, push: job.data, pushedAt },
        opts: { removeOnComplete: true, attempts: 3 },
      })),
    );
  },
  { connection: new Redis(redisUrl, options), prefix, concurrency },
);

let delivered = 0;
const deliver = new Worker<Delivery>(
  'deliveries',
  async (job) => {
    const { triggersKey: key, triggerId, push, pushedAt } = job.data;
    const trigger = JSON.parse((await redis.hget(key, triggerId)) ?? '{}') as { url: string };
    const body = JSON.stringify({
      push_data: { digest: push.digest, pushed_at: new Date(pushedAt).toISOString(), tag: push.tag },
      repository: {
        name: push.repository,
        namespace: push.namespace,
        repo_full_name: `${push.namespace}/${push.repository}`,
      },
    });
    const started = Date.now();
    const answer = await request(trigger.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher,
    });
    await answer.body.dump();
    await redis.xadd(
      `minimal:records:${push.namespace}`,
      'MAXLEN',
      '~',
      '100000',
      '*',
      'trigger',
      triggerId,
      'tag',
      push.tag,
      'status',
      String(answer.statusCode),
      'ms',
      String(Date.now() - started),
    );
    if (answer.statusCode >= 300) throw new Error(`receiver answered ${answer.statusCode}`);
    delivered++;
  },
  { connection: new Redis(redisUrl, options), prefix, concurrency },
);
for (const worker of [fanOut, deliver])
  worker.on('error', (error) => console.error(`[minimal] ${error.message}`));

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      await pushes.add('push', JSON.parse(Buffer.concat(chunks).toString('utf8')) as Push, {
        removeOnComplete: true,
      });
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': '14' });
      res.end('{"accepted":1}');
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 30_000;
await Promise.all([fanOut.waitUntilReady(), deliver.waitUntilReady()]);

let lastSent = -1;
setInterval(() => {
  if (delivered === lastSent) return;
  lastSent = delivered;
  send({ type: 'counts', t: nowMs(), counts: { delivered } });
}, 50);

async function close() {
  server.close();
  await Promise.all([fanOut.close(), deliver.close()]);
  await Promise.all([pushes.close(), deliveries.close()]);
  redis.disconnect();
  process.exit(0);
}
process.on('message', (message: OrchestratorMessage) => {
  if (message.type === 'close') void close();
});
process.on('disconnect', () => void close());
server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', ports: { http: (server.address() as AddressInfo).port } });
});
