/**
 * Acknowledge only what a replica holds. Redis replication is asynchronous: a write a
 * master acknowledged just before dying can be missing on the replica that takes over.
 * WAIT on the master that owns a key's slot, sent after a write of its own (below), answers
 * once that many replicas hold every write the master acknowledged before it.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { keySlot } from './slots.js';

export class ReplicationTimeoutError extends Error {
  constructor(
    readonly wanted: number,
    readonly reached: number,
    message = `the write reached ${reached} of ${wanted} replicas in time`,
  ) {
    super(message);
    this.name = 'ReplicationTimeoutError';
  }
}

/** The connection a write to a slot goes through: the slot's master on a cluster. */
export interface SlotMaster {
  node: Redis;
}

/**
 * The connection to the master that owns `keyInSlot`'s slot now (off a cluster: the
 * client itself). Undefined while the client knows no master for the slot.
 */
export function slotMaster(redis: RedisConnection, keyInSlot: string): SlotMaster | undefined {
  if (!(redis instanceof Cluster)) return { node: redis };
  const master = redis.slots[keySlot(keyInSlot)]?.[0];
  const node = redis
    .nodes('master')
    .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === master);
  return node ? { node } : undefined;
}

// How many replicas of a master the cluster does not hold failed: learnt once a WAIT fell
// short, and re-read while below what is wanted, at most every LIVE_REPLICAS_TTL_MS.
const LIVE_REPLICAS_TTL_MS = 2000;
const liveReplicaCounts = new WeakMap<Redis, { count: number; at: number }>();
const liveReplicaReads = new WeakMap<Redis, Promise<number>>();
const nodeIds = new WeakMap<Redis, string>();

function liveReplicas(node: Redis): Promise<number> {
  let read = liveReplicaReads.get(node);
  if (!read) {
    read = (async () => {
      let id = nodeIds.get(node);
      if (id === undefined) {
        id = String(await node.call('CLUSTER', 'MYID'));
        nodeIds.set(node, id);
      }
      // One CLUSTER NODES line per replica: <id> <addr> <flags> ...; `fail` once the cluster agreed.
      const lines = (await node.call('CLUSTER', 'REPLICAS', id)) as string[];
      const count = lines.filter((line) => !(line.split(' ')[2] ?? '').split(',').includes('fail')).length;
      liveReplicaCounts.set(node, { count, at: Date.now() });
      return count;
    })().finally(() => liveReplicaReads.delete(node));
    liveReplicaReads.set(node, read);
  }
  return read;
}

/**
 * WAIT blocks the connection it is sent on until the replicas answer or the timeout ends,
 * and everything else a process sends to that master shares one connection with it (BullMQ's
 * moveToActive and moveToFinished, other requests' writes): a WAIT on the data connection
 * stalls them all for as long as it is out. So the WAIT goes out on a side connection per
 * master that carries nothing else.
 *
 * Why that still proves the caller's write: WAIT counts the writes of its own connection
 * (it waits for the replication offset of that connection's last write), and a master
 * replicates one ordered stream of all its writes. Once the caller has the reply to its
 * write, any write executed later on that master, on any connection, has a higher offset.
 * So the side connection first makes a write of its own, the fence (a tiny key in a slot
 * of that master, expiring by itself), then sends `WAIT n`: n replicas holding the fence
 * hold every write acknowledged before it, the caller's included. The fence must succeed:
 * if it failed (MOVED after a failover, OOM), the WAIT would vouch only for an older fence.
 *
 * At most one round (fence + WAIT, sent together) is out per master at a time, and the writers
 * whose writes finished while it was out share the next one: the replicas are asked once
 * per round, not once per write.
 */
interface Round {
  inFlight?: Promise<unknown>;
  next?: Promise<number> | undefined;
  // What the next round asks for: the most replicas and the shortest timeout of its writers.
  wanted: number;
  timeoutMs: number;
  // Where the fence goes: computed as the round starts, from the slot table of then.
  redis: RedisConnection;
  keyInSlot: string;
}
const rounds = new WeakMap<Redis, Round>();

// The side connections, by the data connection to the same master. A side connection ends
// with its data connection (ioredis emits 'end' on quit, disconnect, or a cluster node
// dropped from the pool), so closing the client at shutdown closes them too.
const sideConnections = new WeakMap<Redis, Redis>();
const watchedNodes = new WeakSet<Redis>();

function sideConnection(node: Redis): Redis {
  const existing = sideConnections.get(node);
  if (existing && existing.status !== 'end') return existing;
  // An ended client emits no 'end' until it is connected again: a side connection made now
  // would stay open.
  if (node.status === 'end') throw new Error('Connection is closed.');
  const side = node.duplicate({
    connectionName: `${node.options.connectionName ?? 'registry-triggers'}:wait`,
    // Connect on the first round; until connected, the round waits in the offline queue
    // (within the command timeout, when the client has one).
    lazyConnect: true,
    enableOfflineQueue: true,
    // Never reconnect: ioredis would resend an unanswered WAIT on the new connection, where
    // no fence precedes it and it vouches for nothing. A lost side connection fails its
    // round ("Connection is closed."), and the next round opens a new one.
    retryStrategy: () => null,
    autoResendUnfulfilledCommands: false,
  });
  // Failures reach the writers through the round's commands; no unhandled 'error' events.
  side.on('error', () => {});
  side.once('end', () => {
    if (sideConnections.get(node) === side) sideConnections.delete(node);
  });
  sideConnections.set(node, side);
  if (!watchedNodes.has(node)) {
    watchedNodes.add(node);
    // `on`, not `once`: a client may be connected again after it ended, and end again.
    node.on('end', () => {
      sideConnections.get(node)?.disconnect();
      sideConnections.delete(node);
    });
  }
  return side;
}

// The fence key of a master: one per master (not per tenant or slot), a few bytes, gone a
// minute after its last round.
const FENCE_TTL_MS = 60_000;
const fenceKeys = new WeakMap<Redis, string>();

function fenceKeyOf(redis: RedisConnection, node: Redis, keyInSlot: string): string {
  if (!(redis instanceof Cluster)) return keys.replicaFence();
  const address = `${node.options.host}:${node.options.port}`;
  const owned = (key: string) => redis.slots[keySlot(key)]?.[0] === address;
  const known = fenceKeys.get(node);
  if (known && owned(known)) return known;
  // With n masters of equal ranges, about n tries.
  let key: string | undefined;
  for (let salt = 0; salt < 256 && !key; salt++) {
    const candidate = keys.replicaFence(salt.toString(36));
    if (owned(candidate)) key = candidate;
  }
  // A master with very few slots: one in the caller's slot, which it owns (a costlier search).
  key ??= keys.replicaFenceInSlot(keySlot(keyInSlot));
  fenceKeys.set(node, key);
  return key;
}

async function fenceAndWait(node: Redis, fence: string, wanted: number, timeoutMs: number): Promise<number> {
  const side = sideConnection(node);
  // Both are written at once, with no round trip between them. Plain commands rather than a
  // pipeline(): a connection lost mid-WAIT then fails both with "Connection is closed."
  // (Redis unavailable), not with a pipeline's AbortError. A failed fence fails the round.
  const fenced = side.set(fence, '1', 'PX', FENCE_TTL_MS);
  const waited = side.wait(wanted, timeoutMs).catch((error: unknown) => {
    // The client gave up before the server (a stalled event loop): count it as nobody.
    if (error instanceof Error && /Command timed out/.test(error.message)) return 0;
    throw error;
  });
  const [, reached] = await Promise.all([fenced, waited]);
  return reached;
}

function waitRound(
  redis: RedisConnection,
  node: Redis,
  keyInSlot: string,
  wanted: number,
  timeoutMs: number,
): Promise<number> {
  let round = rounds.get(node);
  if (!round) {
    round = { wanted, timeoutMs, redis, keyInSlot };
    rounds.set(node, round);
  }
  const state = round;
  if (!state.next) {
    Object.assign(state, { wanted, timeoutMs, redis, keyInSlot });
    const previous = state.inFlight ?? Promise.resolve();
    // Starts once the round out now has answered; writers joining until then share it.
    state.next = previous.then(() => {
      state.next = undefined;
      const fence = fenceKeyOf(state.redis, node, state.keyInSlot);
      const sent = fenceAndWait(node, fence, state.wanted, state.timeoutMs);
      state.inFlight = sent.catch(() => {});
      return sent;
    });
  } else {
    state.wanted = Math.max(state.wanted, wanted);
    state.timeoutMs = Math.min(state.timeoutMs, timeoutMs);
  }
  return state.next;
}

/**
 * Resolves once `replicas` replicas acknowledged the writes to `keyInSlot`'s master; throws
 * when they did not in time. Call it once the write's reply is in, on any connection to that
 * master. Give `wroteVia`, the `slotMaster` taken just before the write (null if there was
 * none): replicas of the slot's master now say nothing about a write made on another one,
 * so if the slot moved in between (a failover), nothing can be confirmed and this throws.
 *
 * On a cluster the target is capped by the replicas of that master the cluster does not
 * hold failed: a master promoted by a failover has none until its old master returns or
 * a new replica is attached, and insisting would refuse every write to its slots until
 * then. (A replica that is merely late or unreachable, not yet failed, still counts.)
 */
export async function waitForReplicas(
  redis: RedisConnection,
  keyInSlot: string,
  replicas: number,
  timeoutMs: number,
  wroteVia?: SlotMaster | null,
): Promise<void> {
  if (replicas <= 0) return;
  const master = slotMaster(redis, keyInSlot);
  if (!master) throw new Error(`CLUSTERDOWN no master known for ${keyInSlot}`);
  if (wroteVia !== undefined && wroteVia?.node !== master.node) {
    throw new ReplicationTimeoutError(replicas, 0, 'the master of the slot changed during the write');
  }
  const onCluster = redis instanceof Cluster;
  let wanted = replicas;
  const known = onCluster ? liveReplicaCounts.get(master.node) : undefined;
  if (known && known.count < replicas) {
    const count =
      Date.now() - known.at < LIVE_REPLICAS_TTL_MS ? known.count : await liveReplicas(master.node);
    wanted = Math.min(wanted, count);
  }
  // Never a WAIT for a replica that is gone: it would only wait out its timeout.
  if (wanted <= 0) return;
  // The server gives up before the client does: a WAIT that timed out in the client would
  // say nothing about the replicas. (The side connection has the client's command timeout.)
  const commandTimeout = master.node.options.commandTimeout;
  const serverTimeout = commandTimeout ? Math.min(timeoutMs, Math.max(1, commandTimeout - 100)) : timeoutMs;
  const reached = await waitRound(redis, master.node, keyInSlot, wanted, serverTimeout);
  if (reached >= wanted) return;
  if (onCluster && reached >= Math.min(wanted, await liveReplicas(master.node))) return;
  throw new ReplicationTimeoutError(wanted, reached);
}

/**
 * A replica-wait setting (INGEST_MIN_REPLICAS, DELIVERY_MIN_REPLICAS) as it applies: the value
 * given, else 1 on a Redis Cluster, where a failover must lose nothing, and 0 on one server.
 */
export function minReplicasFor(
  setting: number | undefined,
  env: { REDIS_CLUSTER_NODES?: string | undefined },
) {
  return setting ?? (env.REDIS_CLUSTER_NODES ? 1 : 0);
}

/**
 * The replicas a single server has now (INFO replication) when they are fewer than `wanted`,
 * else undefined: also on a cluster, whose replicas are counted per master as writes are made,
 * and when the server does not answer. For a warning at start-up: an app asked to wait for
 * more replicas than there are would answer every write late (503, or a delivery held) until
 * they are attached.
 */
export async function replicasBelow(redis: RedisConnection, wanted: number): Promise<number | undefined> {
  if (wanted <= 0 || redis instanceof Cluster) return undefined;
  try {
    const info = await redis.info('replication');
    const count = /^connected_slaves:(\d+)/m.exec(info)?.[1];
    return count !== undefined && Number(count) < wanted ? Number(count) : undefined;
  } catch {
    return undefined;
  }
}
