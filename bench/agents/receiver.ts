/**
 * Webhook receivers for the benchmark, in a process of their own so that on two cores
 * they do not share an event loop with the load generator. One HTTP server per label
 * (each its own origin): `fast` answers 200 at once, `delay` after `delayMs`, `hang`
 * never. Counts go to the parent every 50 ms; arrival samples on request.
 * argv[2]: JSON ReceiverSpec[].
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type AgentMessage,
  type ArrivalSample,
  nowMs,
  type OrchestratorMessage,
  type ReceiverSpec,
} from '../lib/protocol.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as ReceiverSpec[];
const counts: Record<string, number> = {};
const hanging = new Set<Socket>();
let samples: ArrivalSample[] = [];
let recording = false;

const send = (message: AgentMessage) => process.send?.(message);
const TAG = /"tag":"([^"]*)"/;

function handler(spec: ReceiverSpec) {
  counts[spec.label] = 0;
  return (req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = nowMs();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      counts[spec.label] = (counts[spec.label] ?? 0) + 1;
      if (recording) {
        const tag = TAG.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '';
        samples.push([spec.label, tag, arrivedAt]);
      }
      if (spec.mode === 'hang') {
        hanging.add(req.socket);
        req.socket.once('close', () => hanging.delete(req.socket));
        return;
      }
      const answer = () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      };
      if (spec.mode === 'delay') setTimeout(answer, spec.delayMs ?? 0);
      else answer();
    });
  };
}

const ports: Record<string, number> = {};
await Promise.all(
  specs.map(
    (spec) =>
      new Promise<void>((resolve) => {
        const server = createServer({ keepAliveTimeout: 30_000 }, handler(spec));
        server.listen(0, '127.0.0.1', () => {
          ports[spec.label] = (server.address() as AddressInfo).port;
          resolve();
        });
      }),
  ),
);

let lastSent = '';
setInterval(() => {
  const snapshot = JSON.stringify(counts);
  if (snapshot === lastSent) return;
  lastSent = snapshot;
  send({ type: 'counts', t: nowMs(), counts: { ...counts } });
}, 50);

process.on('message', (message: OrchestratorMessage) => {
  switch (message.type) {
    case 'record':
      recording = message.on;
      break;
    case 'collect':
      send({ type: 'samples', id: message.id, samples });
      samples = [];
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
