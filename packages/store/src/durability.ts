/**
 * Acknowledge only what a replica holds. Redis replication is asynchronous: a write a
 * master acknowledged just before dying can be missing on the replica that takes over.
 * WAIT on the master that owns a key's slot blocks until that many replicas have every
 * write sent before it on that connection.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from './connection.js';
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
 * WAIT blocks the connection it is sent on, and every request shares one connection per
 * master: so at most one WAIT per master is out at a time, and the writers that finished
 * while it was out share the next one (WAIT counts every earlier write of the connection).
 * Without this, WAITs that each time out pile up behind one another and every later
 * command on that master times out behind them.
 */
const rounds = new WeakMap<Redis, { inFlight?: Promise<unknown>; next?: Promise<number> | undefined }>();

function waitRound(node: Redis, wanted: number, timeoutMs: number): Promise<number> {
  let state = rounds.get(node);
  if (!state) {
    state = {};
    rounds.set(node, state);
  }
  const round = state;
  if (!round.next) {
    const previous = round.inFlight ?? Promise.resolve();
    // Starts once the WAIT out now has answered; writers joining until then share it.
    round.next = previous.then(() => {
      round.next = undefined;
      const sent = node.wait(wanted, timeoutMs).catch((error: unknown) => {
        if (error instanceof Error && /Command timed out/.test(error.message)) return 0;
        throw error;
      });
      round.inFlight = sent.catch(() => {});
      return sent;
    });
  }
  return round.next;
}

/**
 * Resolves once `replicas` replicas acknowledged the writes to `keyInSlot`'s master; throws
 * when they did not in time. Give `wroteVia`, the `slotMaster` taken just before the
 * write (null if there was none): WAIT only counts writes made on its own connection, so
 * if the slot moved to another master in between (a failover), nothing can be confirmed
 * and this throws.
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
  // Never a WAIT for a replica that is gone: it would hold the connection for nothing.
  if (wanted <= 0) return;
  // The server gives up before the client does: a WAIT that timed out in the client would
  // say nothing about the replicas.
  const commandTimeout = master.node.options.commandTimeout;
  const serverTimeout = commandTimeout ? Math.min(timeoutMs, Math.max(1, commandTimeout - 100)) : timeoutMs;
  const reached = await waitRound(master.node, wanted, serverTimeout);
  if (reached >= wanted) return;
  if (onCluster && reached >= Math.min(wanted, await liveReplicas(master.node))) return;
  throw new ReplicationTimeoutError(wanted, reached);
}
