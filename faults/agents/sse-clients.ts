/**
 * Live-tail clients of the logs app, in a process of their own: `clients` connections to
 * one SSE URL, of which the first `stalled` send their request and never read a byte again
 * (a browser tab frozen in the background, a proxy that stopped), the others read every
 * event and note how late each record reached them.
 * argv[2]: JSON SseClientsSpec.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { nowMs } from '../../bench/lib/protocol.js';
import { percentile } from '../../bench/lib/stats.js';
import type { SseClientsSpec, SseReport, SseToAgent } from '../lib/protocol.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as SseClientsSpec;
const target = new URL(spec.url);
const REQUEST_TIME = /"requestTime":(\d+)/;

const stalledPorts: number[] = [];
const received: number[] = [];
const reconnects: number[] = [];
/** What the logs app asks for in its `retry:` line. */
const RETRY_MS = 2000;
const lags: number[][] = [];

function openStalled(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port) }, () => {
      socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
          `Accept: text/event-stream\r\nAuthorization: Bearer ${spec.token}\r\n\r\n`,
      );
      // Never read again: whatever the server writes piles up in the kernel, then in the server.
      socket.pause();
      stalledPorts.push(socket.localPort ?? 0);
      resolve();
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

const lastIds: Array<string | undefined> = [];
let closing = false;

/**
 * One reading client, as EventSource behaves: when its stream ends (the server cut it off
 * for falling behind, or restarted) it connects again after the server's `retry` delay,
 * with Last-Event-ID, and counts the reconnect.
 */
function openReader(index: number, first = true): Promise<void> {
  if (first) {
    received[index] = 0;
    reconnects[index] = 0;
    lags[index] = [];
  }
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${spec.token}`,
    };
    const lastId = lastIds[index];
    if (lastId) headers['last-event-id'] = lastId;
    let again = false;
    const reconnect = () => {
      if (again || closing) return;
      again = true;
      reconnects[index] = (reconnects[index] ?? 0) + 1;
      setTimeout(() => void openReader(index, false).catch(reconnect), RETRY_MS);
    };
    const req = request(target, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        if (first) reject(new Error(`live tail answered ${res.statusCode}`));
        else reconnect();
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (event.startsWith('id: ')) {
            received[index] = (received[index] ?? 0) + 1;
            lastIds[index] = event.slice(4, event.indexOf('\n'));
            const sent = REQUEST_TIME.exec(event)?.[1];
            if (sent) lags[index]!.push(nowMs() - Number(sent));
          }
          end = buffered.indexOf('\n\n');
        }
      });
      res.on('end', reconnect);
      res.on('close', reconnect);
      resolve();
    });
    req.on('error', (error) => {
      if (first) reject(error);
      else reconnect();
    });
    req.end();
  });
}

// Stalled ones first, a few at a time, so the logs app sees them all before the records flow.
for (let i = 0; i < spec.stalled; i++) await openStalled();
const readers = spec.clients - spec.stalled;
await Promise.all(Array.from({ length: readers }, (_, i) => openReader(i)));

process.on('message', (message: SseToAgent) => {
  if (message.type === 'close') {
    closing = true;
    process.exit(0);
  }
  if (message.type !== 'report') return;
  const report: SseReport = {
    received: [...received],
    reconnects: [...reconnects],
    stalledPorts: [...stalledPorts],
    lagP99Ms: lags.map((values) => Math.round(percentile(values, 99))),
  };
  process.send?.({ type: 'sse-report', id: message.id, report });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
