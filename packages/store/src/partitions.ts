/**
 * How many queue partitions the api and the workers use. The api places each repository's
 * events on partition FNV(namespace/repository) mod the count, and a worker consumes
 * partitions 0 … count-1: every process must use the same count, or events wait on a
 * partition nobody consumes. On a Redis Cluster without QUEUE_PARTITIONS the count is
 * derived from the masters once and recorded in Redis, so later processes follow it
 * instead of deriving it again from a cluster that may have changed (docs/cluster.md).
 */
import type { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { partitionSlot } from './slots.js';

/** QUEUE_PARTITIONS' ceiling, as in queueEnvSchema. */
export const MAX_QUEUE_PARTITIONS = 64;

/** Where the count came from: the setting, the cluster's record, the masters now, or one server. */
export type PartitionSource = 'QUEUE_PARTITIONS' | 'recorded' | 'masters' | 'single server';

export interface QueueLayout {
  partitions: number;
  source: PartitionSource;
  /** Masters that owned slots at start (cluster only). */
  masters?: number;
  /** The cluster's record before this process started, when it differs from `partitions`. */
  recordedBefore?: number;
}

/** The slot ranges of each master that owns slots (CLUSTER SLOTS), one array per master. */
export async function masterSlotRanges(redis: Cluster): Promise<Array<Array<[number, number]>>> {
  const slots = (await redis.cluster('SLOTS')) as unknown as Array<
    [number, number, [string, number, string?]]
  >;
  const byMaster = new Map<string, Array<[number, number]>>();
  for (const [from, to, master] of slots) {
    const id = master[2] ?? `${master[0]}:${master[1]}`;
    byMaster.set(id, [...(byMaster.get(id) ?? []), [from, to]]);
  }
  return [...byMaster.values()];
}

/** Masters (by index into `ranges`) that hold at least one of partitions 0 … count-1. */
export function mastersHolding(ranges: Array<Array<[number, number]>>, count: number): Set<number> {
  const held = new Set<number>();
  for (let partition = 0; partition < count; partition++) {
    const slot = partitionSlot(partition);
    const master = ranges.findIndex((owned) => owned.some(([from, to]) => slot >= from && slot <= to));
    if (master >= 0) held.add(master);
  }
  return held;
}

/**
 * The smallest multiple of the master count whose partitions land on every master (with
 * the equal ranges `redis-cli --cluster create` makes, the count itself for 1 to 6 masters);
 * capped at the ceiling, where the best cover found so far is taken.
 */
export function partitionsForMasters(ranges: Array<Array<[number, number]>>): number {
  const masters = Math.max(ranges.length, 1);
  let best = Math.min(masters, MAX_QUEUE_PARTITIONS);
  let bestHeld = -1;
  for (let count = masters; count <= MAX_QUEUE_PARTITIONS; count += masters) {
    const held = mastersHolding(ranges, count).size;
    if (held === ranges.length) return count;
    if (held > bestHeld) [best, bestHeld] = [count, held];
  }
  return best;
}

export interface ResolveOptions {
  /**
   * The api decides where events go: with QUEUE_PARTITIONS set it writes the record, so a
   * worker started later without the setting follows it. A worker only records a count
   * when there is none yet.
   */
  role: 'producer' | 'consumer';
  /** Called when Redis does not answer yet; the start waits and asks again. */
  onRetry?: (error: Error, attempt: number) => void;
  retryDelayMs?: number;
}

const isCluster = (redis: RedisConnection): redis is Cluster =>
  'nodes' in redis && typeof redis.nodes === 'function';

async function untilAnswered<T>(work: () => Promise<T>, options: ResolveOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      options.onRetry?.(error as Error, attempt);
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 1000));
    }
  }
}

/**
 * The partition count of this process. One server: QUEUE_PARTITIONS, or 1 (nothing is
 * read). A cluster: QUEUE_PARTITIONS when set; else the cluster's record; else the count
 * that puts a partition on every master now, recorded with SET NX (when two processes
 * start at once, the first record wins and both use it).
 */
export async function resolveQueueLayout(
  redis: RedisConnection,
  setting: number | undefined,
  options: ResolveOptions,
): Promise<QueueLayout> {
  if (!isCluster(redis))
    return { partitions: setting ?? 1, source: setting ? 'QUEUE_PARTITIONS' : 'single server' };
  const key = keys.queuePartitions();
  return untilAnswered(async () => {
    const [ranges, recordedText] = await Promise.all([masterSlotRanges(redis), redis.get(key)]);
    const recorded = recordedText === null ? undefined : Number(recordedText);
    const masters = ranges.length;
    if (setting !== undefined) {
      if (options.role === 'producer' && recorded !== setting) await redis.set(key, String(setting));
      else if (recorded === undefined) await redis.set(key, String(setting), 'NX');
      return {
        partitions: setting,
        source: 'QUEUE_PARTITIONS',
        masters,
        ...(recorded !== undefined && recorded !== setting ? { recordedBefore: recorded } : {}),
      };
    }
    if (recorded !== undefined) return { partitions: recorded, source: 'recorded', masters };
    await redis.set(key, String(partitionsForMasters(ranges)), 'NX');
    const winner = Number(await redis.get(key));
    return { partitions: winner, source: 'masters', masters };
  }, options);
}

/** What a process says about its partitions in its start-up log: the facts and the warnings. */
export function layoutWarnings(layout: QueueLayout, role: ResolveOptions['role']): string[] {
  const warnings: string[] = [];
  if (layout.recordedBefore !== undefined) {
    warnings.push(
      role === 'producer'
        ? `QUEUE_PARTITIONS=${layout.partitions} replaces the cluster's recorded ${layout.recordedBefore}: restart every worker with the same value, or partitions ${layout.recordedBefore} and up wait for a worker that consumes them`
        : `QUEUE_PARTITIONS=${layout.partitions} differs from the cluster's recorded ${layout.recordedBefore} (set by the api or the first process): use the same value everywhere`,
    );
  }
  if (layout.masters !== undefined && layout.partitions < layout.masters) {
    warnings.push(
      `${layout.partitions} partitions on ${layout.masters} masters: some masters get no queue work; set QUEUE_PARTITIONS to ${layout.masters} or a multiple on every process`,
    );
  }
  return warnings;
}

export interface LayoutReport {
  partitions: number;
  source: PartitionSource;
  /** Masters owning slots now (cluster only). */
  masters?: number;
  /** Of them, the masters holding at least one partition. */
  mastersWithPartitions?: number;
  /** The cluster's record now, when it differs from this process's count. */
  recorded?: number;
  warnings: string[];
}

/**
 * The layout as /readyz reports it, read again at most every `cacheMs`: a cluster that
 * gained a master, or a record changed by an api started later with another
 * QUEUE_PARTITIONS, shows up as a warning (not as unreadiness: the process still serves
 * the partitions it has).
 */
export function layoutReporter(
  redis: RedisConnection,
  layout: QueueLayout,
  cacheMs = 5000,
): () => Promise<LayoutReport> {
  let cached: { at: number; report: Promise<LayoutReport> } | undefined;
  const read = async (): Promise<LayoutReport> => {
    const report: LayoutReport = { partitions: layout.partitions, source: layout.source, warnings: [] };
    if (!isCluster(redis)) return report;
    const [ranges, recordedText] = await Promise.all([
      masterSlotRanges(redis),
      redis.get(keys.queuePartitions()),
    ]);
    report.masters = ranges.length;
    report.mastersWithPartitions = mastersHolding(ranges, layout.partitions).size;
    if (recordedText !== null && Number(recordedText) !== layout.partitions) {
      report.recorded = Number(recordedText);
      report.warnings.push(
        `this process uses ${layout.partitions} queue partitions, the cluster's record says ${report.recorded}: restart it, or give every process the same QUEUE_PARTITIONS`,
      );
    }
    if (report.mastersWithPartitions < report.masters) {
      report.warnings.push(
        `${report.masters - report.mastersWithPartitions} of ${report.masters} masters hold no queue partition: set QUEUE_PARTITIONS to a multiple of ${report.masters} on every process (docs/cluster.md)`,
      );
    }
    return report;
  };
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > cacheMs) {
      const report = read().catch(
        (): LayoutReport => ({ partitions: layout.partitions, source: layout.source, warnings: [] }),
      );
      cached = { at: now, report };
    }
    return cached.report;
  };
}
