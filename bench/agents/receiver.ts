/**
 * Webhook receivers for the benchmark and the fault suite, in a process of their own so
 * that on two cores they do not share an event loop with the load generator. One HTTP
 * server per label (each its own origin), answering as its ReceiverBehaviour says (which a
 * `mode` message changes while it runs). Counts go to the parent every 50 ms: requests per
 * label, and for a `track`ed label `<label>:delivered`, the webhook-ids answered 2xx for
 * the first time. A tracked label keeps every webhook-id: how often it came, how often it
 * was answered 2xx, how often it came again *after* a 2xx (a duplicate the receiver would
 * notice). Arrival samples are kept on request.
 * argv[2]: JSON ReceiverSpec[].
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type AgentMessage,
  type ArrivalSample,
  type DeliverySeen,
  nowMs,
  type OrchestratorMessage,
  type ReceiverBehaviour,
  type ReceiverSpec,
} from '../lib/protocol.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as ReceiverSpec[];
const behaviours = new Map<string, ReceiverBehaviour>(specs.map((spec) => [spec.label, spec]));
const counts: Record<string, number> = {};
const seen = new Map<string, DeliverySeen>();
const hanging = new Set<Socket>();
let samples: ArrivalSample[] = [];
let recording = false;

const send = (message: AgentMessage) => process.send?.(message);
const TAG = /"tag":"([^"]*)"/;

function decide(behaviour: ReceiverBehaviour): 'ok' | 'error' | 'hang' | 'reset' {
  if (behaviour.mode === 'hang') return 'hang';
  if (behaviour.mode !== 'flaky' || !behaviour.flaky) return 'ok';
  const { error, hang, reset } = behaviour.flaky;
  const draw = Math.random();
  if (draw < error) return 'error';
  if (draw < error + hang) return 'hang';
  if (draw < error + hang + reset) return 'reset';
  return 'ok';
}

/** The tracked entry of this request's webhook-id (created at its first request). */
function track(label: string, req: IncomingMessage, body: string, arrivedAt: number): DeliverySeen {
  const id = String(req.headers['webhook-id'] ?? '');
  let entry = seen.get(id);
  if (!entry) {
    const tag = TAG.exec(body)?.[1] ?? '';
    entry = { id, label, path: req.url ?? '', tag, received: 0, ok: 0, afterOk: 0, firstAt: arrivedAt };
    seen.set(id, entry);
  }
  entry.received++;
  if (entry.ok > 0) entry.afterOk++;
  return entry;
}

function handler(spec: ReceiverSpec) {
  const { label } = spec;
  counts[label] = 0;
  if (spec.track) counts[`${label}:delivered`] = 0;
  return (req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = nowMs();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      counts[label] = (counts[label] ?? 0) + 1;
      const body = recording || spec.track ? Buffer.concat(chunks).toString('utf8') : '';
      if (recording) samples.push([label, TAG.exec(body)?.[1] ?? '', arrivedAt]);
      const entry = spec.track ? track(label, req, body, arrivedAt) : undefined;
      const behaviour = behaviours.get(label) ?? spec;
      const answer = decide(behaviour);
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
      const ok = () => {
        if (entry) {
          if (entry.ok === 0) {
            entry.okAt = arrivedAt;
            counts[`${label}:delivered`] = (counts[`${label}:delivered`] ?? 0) + 1;
          }
          entry.ok++;
        }
        const text = behaviour.bodyBytes ? 'k'.repeat(behaviour.bodyBytes) : 'ok';
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(text.length) });
        res.end(text);
      };
      if (behaviour.mode === 'delay') setTimeout(ok, behaviour.delayMs ?? 0);
      else ok();
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
    case 'mode':
      behaviours.set(message.label, message.behaviour);
      break;
    case 'deliveries':
      send({ type: 'deliveries', id: message.id, deliveries: [...seen.values()] });
      break;
    case 'forget':
      seen.clear();
      break;
    case 'close':
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', ports });
