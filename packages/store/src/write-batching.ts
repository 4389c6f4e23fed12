/**
 * One socket write per turn of the event loop instead of one per command. ioredis writes
 * every command to its socket as it is called, and each write is a syscall: in a profile
 * of the worker at full load they were a quarter of its CPU (`writeUtf8String`,
 * `writeBuffer`, `writev`), while the dozens of jobs in flight call commands in the same
 * turn. Corking the socket at the first write of a turn and uncorking it once the turn's
 * callbacks and promise reactions have run (Node's own idiom for this, see
 * `writable.cork()`) sends them as one `writev`, and Redis reads them in one `read`.
 *
 * Nothing else changes: the same commands, in the same order, on the same connection,
 * with the same replies, which is why this and not ioredis's `enableAutoPipelining`
 * (that one changes how commands are sent: ioredis#1931 lost replies with it, and on a
 * cluster it picks an `EVALSHA`'s node from the script's sha, ioredis#2109).
 */
import type { Socket } from 'node:net';
import { Cluster, type Redis } from 'ioredis';

const batched = new WeakSet<Socket>();

function batchSocket(socket: Socket): void {
  if (batched.has(socket)) return;
  batched.add(socket);
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function batchedWrite(this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

function batchClient(client: Redis): void {
  // A new socket at every (re)connection.
  const onConnect = () => {
    const socket = (client as unknown as { stream?: Socket }).stream;
    if (socket && typeof socket.cork === 'function') batchSocket(socket);
  };
  client.on('connect', onConnect);
  onConnect();
}

/** Batches the writes of a client, or of every node a cluster client connects to. */
export function batchWritesPerTurn(connection: Redis | Cluster): void {
  if (connection instanceof Cluster) {
    for (const node of connection.nodes()) batchClient(node);
    connection.on('+node', (node: Redis) => batchClient(node));
    return;
  }
  batchClient(connection);
}
