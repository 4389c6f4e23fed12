/**
 * A TCP proxy on loopback that delays every chunk by `delayMs` in each direction (so a
 * round trip gains twice that), in a process of its own. Each direction is one queue,
 * drained in order by one timer, so bytes never overtake each other, even while the delay
 * changes (`{ type: 'delay', ms }`). When either side closes, the other is closed once the
 * bytes still queued towards it are out.
 * argv[2]: JSON { upstreamHost, upstreamPort, delayMs }.
 */
import { connect, createServer, type Socket } from 'node:net';

const settings = JSON.parse(process.argv[2] ?? '{}') as {
  upstreamHost: string;
  upstreamPort: number;
  delayMs: number;
};
let delayMs = settings.delayMs;

function forward(from: Socket, to: Socket): void {
  const queue: Array<{ due: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.destroy();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - now);
  };
  const push = (chunk: Buffer | null) => {
    // Never earlier than what is already queued: a lowered delay must not reorder bytes.
    const due = Math.max(Date.now() + delayMs, queue.at(-1)?.due ?? 0);
    queue.push({ due, chunk });
    if (timer === undefined) {
      if (delayMs === 0 && queue.length === 1) pump();
      else timer = setTimeout(pump, Math.max(0, queue[0]!.due - Date.now()));
    }
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('close', () => push(null));
  from.on('error', () => undefined);
}

const server = createServer((client) => {
  client.setNoDelay(true);
  const upstream = connect({ host: settings.upstreamHost, port: settings.upstreamPort });
  upstream.setNoDelay(true);
  forward(client, upstream);
  forward(upstream, client);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', ports: { proxy: port } });
});

process.on('message', (message: { type: string; ms?: number }) => {
  if (message.type === 'delay') delayMs = message.ms ?? 0;
  if (message.type === 'close') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
