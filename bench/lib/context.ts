/** What every row of the benchmark gets: options, Redis, the processes under test, a logger. */
import type { Redis } from 'ioredis';
import type { Agent } from './agents.js';
import type { AdminClient } from './stack.js';

export interface BenchOptions {
  quick: boolean;
  rounds: number;
  /** Discarded at the start of every measured phase. */
  warmupMs: number;
  /** Measured part of every phase. */
  windowMs: number;
  /** Deliveries in flight per worker process (passed to the worker as WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** Access records written directly for the memory row. */
  memoryRecords: number;
  /**
   * `--single-replica`: the run's own server has a replica and its apps wait for it as the
   * cluster's do (INGEST_MIN_REPLICAS and DELIVERY_MIN_REPLICAS 1), so the cluster row
   * compares like with like: what the cluster costs beside what durability costs.
   */
  singleReplica: boolean;
}

export interface BenchContext {
  options: BenchOptions;
  redisUrl: string;
  /** The benchmark's own connection: INFO, FLUSHALL, checks. */
  redis: Redis;
  log: (line: string) => void;
}

export interface StackContext extends BenchContext {
  apiUrl: string;
  workerMetricsUrl: string;
  admin: AdminClient;
  receiver: Agent;
  bareWorker: Agent;
  /** The minimal two-hop pipeline (bench/agents/minimal-pipeline.ts); delivers to the `minimal` receiver. */
  minimalPipeline: Agent;
  /** CPU seconds used so far by each process of the run (api, worker, receiver, redis, ...). */
  cpu: () => Record<string, number>;
  /** Sets the phase the RSS samples are tagged with. */
  setPhase: (phase: string) => void;
}

export interface RowResult {
  id: string;
  figure: string;
  value: string;
  baseline: string;
  /** Median of the per-round ratios (each against the baseline of the same round). */
  ratio: number | null;
  target: string;
  met: boolean | null;
  rounds: Array<Record<string, number | string>>;
  details?: Record<string, unknown>;
  notes?: string[];
}

export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
