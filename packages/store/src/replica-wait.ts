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

/** What a wait asks for: this many replicas, within `timeoutMs`. */
export interface ReplicaWaitSettings {
  replicas: number;
  timeoutMs: number;
}

/**
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
  keyInSlot: string;
}

/** What a ReplicaWait knows of one master (keyed by the data connection to it). */
interface MasterState {
  round?: Round;
  side?: Redis | undefined;
  watched?: boolean;
  fenceKey?: string;
  nodeId?: string;
  // How many replicas of the master the cluster does not hold failed: learnt once a WAIT fell
  // short, and re-read while below what is wanted, at most every LIVE_REPLICAS_TTL_MS.
  live?: { count: number; at: number };
  liveRead?: Promise<number> | undefined;
}

const LIVE_REPLICAS_TTL_MS = 2000;
// The fence key of a master: one per master (not per tenant or slot), a few bytes, gone a
// minute after its last round.
const FENCE_TTL_MS = 60_000;

/**
 * The replica wait of one Redis connection: create one per connection (with the settings its
 * callers use by default) and hand it to every writer that waits on that connection, so their
 * waits on one master share rounds and one side connection. All it knows (rounds, side
 * connections, fence keys, live replica counts) is its own, per master.
 *
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
 */
export class ReplicaWait {
  private readonly masters = new WeakMap<Redis, MasterState>();

  constructor(
    readonly redis: RedisConnection,
    readonly settings: ReplicaWaitSettings = { replicas: 0, timeoutMs: 0 },
  ) {}

  /** The master `keyInSlot`'s slot is on now: take it just before a write, for `wait`. */
  slotMaster(keyInSlot: string): SlotMaster | undefined {
    return slotMaster(this.redis, keyInSlot);
  }

  /**
   * Resolves once the replicas acknowledged the writes to `keyInSlot`'s master; throws when
   * they did not in time. Call it once the write's reply is in. Give `wroteVia`, the
   * `slotMaster` taken just before the write (null if there was none): replicas of the slot's
   * master now say nothing about a write made on another one, so if the slot moved in between
   * (a failover), nothing can be confirmed and this throws.
   *
   * On a cluster the target is capped by the replicas of that master the cluster does not
   * hold failed: a master promoted by a failover has none until its old master returns or
   * a new replica is attached, and insisting would refuse every write to its slots until
   * then. (A replica that is merely late or unreachable, not yet failed, still counts.)
   */
  async wait(
    keyInSlot: string,
    wroteVia?: SlotMaster | null,
    { replicas, timeoutMs }: ReplicaWaitSettings = this.settings,
  ): Promise<void> {
    if (replicas <= 0) return;
    const master = slotMaster(this.redis, keyInSlot);
    if (!master) throw new Error(`CLUSTERDOWN no master known for ${keyInSlot}`);
    if (wroteVia !== undefined && wroteVia?.node !== master.node) {
      throw new ReplicationTimeoutError(replicas, 0, 'the master of the slot changed during the write');
    }
    const onCluster = this.redis instanceof Cluster;
    const state = this.stateOf(master.node);
    let wanted = replicas;
    const known = onCluster ? state.live : undefined;
    if (known && known.count < replicas) {
      const count =
        Date.now() - known.at < LIVE_REPLICAS_TTL_MS ? known.count : await this.liveReplicas(master.node);
      wanted = Math.min(wanted, count);
    }
    // Never a WAIT for a replica that is gone: it would only wait out its timeout.
    if (wanted <= 0) return;
    // The server gives up before the client does: a WAIT that timed out in the client would
    // say nothing about the replicas. (The side connection has the client's command timeout.)
    const commandTimeout = master.node.options.commandTimeout;
    const serverTimeout = commandTimeout ? Math.min(timeoutMs, Math.max(1, commandTimeout - 100)) : timeoutMs;
    const reached = await this.round(master.node, keyInSlot, wanted, serverTimeout);
    if (reached >= wanted) return;
    if (onCluster && reached >= Math.min(wanted, await this.liveReplicas(master.node))) return;
    throw new ReplicationTimeoutError(wanted, reached);
  }

  private stateOf(node: Redis): MasterState {
    let state = this.masters.get(node);
    if (!state) {
      state = {};
      this.masters.set(node, state);
    }
    return state;
  }

  private liveReplicas(node: Redis): Promise<number> {
    const state = this.stateOf(node);
    state.liveRead ??= (async () => {
      state.nodeId ??= String(await node.call('CLUSTER', 'MYID'));
      // One CLUSTER NODES line per replica: <id> <addr> <flags> ...; `fail` once the cluster agreed.
      const lines = (await node.call('CLUSTER', 'REPLICAS', state.nodeId)) as string[];
      const count = lines.filter((line) => !(line.split(' ')[2] ?? '').split(',').includes('fail')).length;
      state.live = { count, at: Date.now() };
      return count;
    })().finally(() => {
      state.liveRead = undefined;
    });
    return state.liveRead;
  }

  // The side connection ends with its data connection (ioredis emits 'end' on quit,
  // disconnect, or a cluster node dropped from the pool), so closing the client at shutdown
  // closes it too.
  private sideConnection(node: Redis): Redis {
    const state = this.stateOf(node);
    const existing = state.side;
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
      if (state.side === side) state.side = undefined;
    });
    state.side = side;
    if (!state.watched) {
      state.watched = true;
      // `on`, not `once`: a client may be connected again after it ended, and end again.
      node.on('end', () => {
        state.side?.disconnect();
        state.side = undefined;
      });
    }
    return side;
  }

  private fenceKey(node: Redis, keyInSlot: string): string {
    const redis = this.redis;
    if (!(redis instanceof Cluster)) return keys.replicaFence();
    const state = this.stateOf(node);
    const address = `${node.options.host}:${node.options.port}`;
    const owned = (key: string) => redis.slots[keySlot(key)]?.[0] === address;
    if (state.fenceKey && owned(state.fenceKey)) return state.fenceKey;
    // With n masters of equal ranges, about n tries.
    let key: string | undefined;
    for (let salt = 0; salt < 256 && !key; salt++) {
      const candidate = keys.replicaFence(salt.toString(36));
      if (owned(candidate)) key = candidate;
    }
    // A master with very few slots: one in the caller's slot, which it owns (a costlier search).
    key ??= keys.replicaFenceInSlot(keySlot(keyInSlot));
    state.fenceKey = key;
    return key;
  }

  private async fenceAndWait(node: Redis, fence: string, wanted: number, timeoutMs: number): Promise<number> {
    const side = this.sideConnection(node);
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

  private round(node: Redis, keyInSlot: string, wanted: number, timeoutMs: number): Promise<number> {
    const master = this.stateOf(node);
    master.round ??= { wanted, timeoutMs, keyInSlot };
    const round = master.round;
    if (!round.next) {
      Object.assign(round, { wanted, timeoutMs, keyInSlot });
      const previous = round.inFlight ?? Promise.resolve();
      // Starts once the round out now has answered; writers joining until then share it.
      round.next = previous.then(() => {
        round.next = undefined;
        const fence = this.fenceKey(node, round.keyInSlot);
        const sent = this.fenceAndWait(node, fence, round.wanted, round.timeoutMs);
        round.inFlight = sent.catch(() => {});
        return sent;
      });
    } else {
      round.wanted = Math.max(round.wanted, wanted);
      round.timeoutMs = Math.min(round.timeoutMs, timeoutMs);
    }
    return round.next;
  }
}
