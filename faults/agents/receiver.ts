/**
 * Webhook receivers for the fault suite, in a process of their own (as the benchmark's are)
 * so that they never share an event loop with the load generator. One HTTP server per
 * label, each its own origin. Every request is kept by its `webhook-id`: how often it came,
 * how often it was answered 2xx, and how often it came again *after* a 2xx answer (a
 * duplicate the receiver would notice). A server is `ok` (200 at once) or `flaky`: each
 * request draws its answer, a 500, a hang (held until the client gives up), a connection
 * reset, else 200. The mode can change while it runs.
 * argv[2]: JSON FaultReceiverSpec[].
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { nowMs } from '../../bench/lib/protocol.js';
import type { DeliverySeen, FaultReceiverSpec, ReceiverMode, ReceiverToAgent } from '../lib/protocol.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as FaultReceiverSpec[];
const modes = new Map<string, ReceiverMode>(specs.map((spec) => [spec.label, spec.mode]));
/** First-time 2xx answers per label: the delivered count the orchestrator follows. */
const counts: Record<string, number> = {};
const seen = new Map<string, DeliverySeen>();
const hanging = new Set<Socket>();

const TAG = /"tag":"([^"]*)"/;

function decide(mode: ReceiverMode): 'ok' | 'error' | 'hang' | 'reset' {
  if (mode.kind === 'ok') return 'ok';
  const draw = Math.random();
  if (draw < mode.error) return 'error';
  if (draw < mode.error + mode.hang) return 'hang';
  if (draw < mode.error + mode.hang + mode.reset) return 'reset';
  return 'ok';
}

function handler(label: string) {
  counts[label] = 0;
  counts[`${label}:requests`] = 0;
  return (req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = nowMs();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      counts[`${label}:requests`] = (counts[`${label}:requests`] ?? 0) + 1;
      const id = String(req.headers['webhook-id'] ?? '');
      let entry = seen.get(id);
      if (!entry) {
        const tag = TAG.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '';
        entry = { id, label, path: req.url ?? '', tag, received: 0, ok: 0, afterOk: 0, firstAt: arrivedAt };
        seen.set(id, entry);
      }
      entry.received++;
      if (entry.ok > 0) entry.afterOk++;
      const answer = decide(modes.get(label) ?? { kind: 'ok' });
      if (answer === 'hang') {
        hanging.add(req.socket);
        req.socket.once('close', () => hanging.delete(req.socket));
        return;
      }
      if (answer === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (answer === 'error') {
        res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '4' });
        res.end('oops');
        return;
      }
      if (entry.ok === 0) {
        entry.okAt = arrivedAt;
        counts[label] = (counts[label] ?? 0) + 1;
      }
      entry.ok++;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  };
}

const ports: Record<string, number> = {};
await Promise.all(
  specs.map(
    (spec) =>
      new Promise<void>((resolve) => {
        const server = createServer({ keepAliveTimeout: 30_000 }, handler(spec.label));
        server.listen(0, '127.0.0.1', () => {
          ports[spec.label] = (server.address() as AddressInfo).port;
          resolve();
        });
      }),
  ),
);

const send = (message: unknown) => process.send?.(message);
let lastSent = '';
setInterval(() => {
  const snapshot = JSON.stringify(counts);
  if (snapshot === lastSent) return;
  lastSent = snapshot;
  send({ type: 'counts', t: nowMs(), counts: { ...counts } });
}, 50);

process.on('message', (message: ReceiverToAgent) => {
  switch (message.type) {
    case 'mode':
      modes.set(message.label, message.mode);
      break;
    case 'deliveries':
      send({ type: 'deliveries', id: message.id, deliveries: [...seen.values()] });
      break;
    case 'forget':
      seen.clear();
      break;
    case 'release':
      for (const socket of hanging) socket.destroy();
      hanging.clear();
      break;
    case 'close':
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', ports });
