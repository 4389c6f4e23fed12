/**
 * The baseline consumer: a bare BullMQ Worker with a no-op processor and default job
 * handling, in its own process as the product's worker is. Completions go to the parent
 * every 50 ms. argv[2]: JSON { redisUrl, queue, prefix, concurrency }.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type AgentMessage, nowMs, type OrchestratorMessage } from '../lib/protocol.js';

const { redisUrl, queue, prefix, concurrency } = JSON.parse(process.argv[2] ?? '{}') as {
  redisUrl: string;
  queue: string;
  prefix: string;
  concurrency: number;
};
const send = (message: AgentMessage) => process.send?.(message);

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: 'bench-bare-worker' });
const worker = new Worker(queue, async () => undefined, { connection, prefix, concurrency });
let completed = 0;
worker.on('completed', () => {
  completed++;
});
worker.on('error', (error) => console.error(`[bare-worker] ${error.message}`));
await worker.waitUntilReady();

let lastSent = -1;
setInterval(() => {
  if (completed === lastSent) return;
  lastSent = completed;
  send({ type: 'counts', t: nowMs(), counts: { completed } });
}, 50);

async function close() {
  await worker.close();
  await connection.quit();
  process.exit(0);
}
process.on('message', (message: OrchestratorMessage) => {
  if (message.type === 'close') void close();
});
process.on('disconnect', () => void close());
send({ type: 'ready' });
