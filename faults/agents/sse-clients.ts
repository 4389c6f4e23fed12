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
const readerEnded: boolean[] = [];
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

function openReader(index: number): Promise<void> {
  received[index] = 0;
  readerEnded[index] = false;
  lags[index] = [];
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { headers: { accept: 'text/event-stream', authorization: `Bearer ${spec.token}` } },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`live tail answered ${res.statusCode}`));
          res.resume();
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
              const sent = REQUEST_TIME.exec(event)?.[1];
              if (sent) lags[index]!.push(nowMs() - Number(sent));
            }
            end = buffered.indexOf('\n\n');
          }
        });
        const ended = () => {
          readerEnded[index] = true;
        };
        res.on('end', ended);
        res.on('close', ended);
        resolve();
      },
    );
    req.on('error', (error) => {
      readerEnded[index] = true;
      reject(error);
    });
    req.end();
  });
}

// Stalled ones first, a few at a time, so the logs app sees them all before the records flow.
for (let i = 0; i < spec.stalled; i++) await openStalled();
const readers = spec.clients - spec.stalled;
await Promise.all(Array.from({ length: readers }, (_, i) => openReader(i)));

process.on('message', (message: SseToAgent) => {
  if (message.type === 'close') process.exit(0);
  if (message.type !== 'report') return;
  const report: SseReport = {
    received: [...received],
    readerEnded: [...readerEnded],
    stalledPorts: [...stalledPorts],
    lagP99Ms: lags.map((values) => Math.round(percentile(values, 99))),
  };
  process.send?.({ type: 'sse-report', id: message.id, report });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
