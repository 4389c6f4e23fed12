/** BullMQ workers for every partition of both queues, with the delivery retry policy as backoff. */
import type { RetryPolicy } from '@registry-triggers/core';
import {
  isRedisOutOfMemory,
  isRedisUnavailable,
  keys,
  type QueueName,
  queueNames,
  type RedisConnection,
} from '@registry-triggers/store';
import { DelayedError, type Job, Worker } from 'bullmq';
import pLimit from 'p-limit';
import { RetryLater, STALLED_TOO_OFTEN } from './deliver.js';

export interface WorkerSet {
  workers: Worker[];
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  connection: RedisConnection;
  partitions: number[];
  evaluationConcurrency: number;
  deliveryConcurrency: number;
  policy: RetryPolicy;
  lockDurationMs: number;
  processPushEvent: (job: Job, token?: string) => Promise<unknown>;
  processDelivery: (job: Job, token?: string) => Promise<unknown>;
  onError: (queue: QueueName, error: Error) => void;
  /** A delivery failed by BullMQ because its workers kept dying during it. */
  onDeliveryLost: (job: Job) => Promise<void>;
  /** How soon an evaluation cut short by Redis itself runs again (default 1 s). */
  redisRetryDelayMs?: number;
}

/**
 * An evaluation cut short by Redis itself (unreachable, or at `maxmemory` and refusing
 * writes) runs again a moment later without using one of its attempts: the attempts are
 * for errors of the event, and a failed evaluation leaves no record. Spent on a Redis
 * that refused writes for a few seconds, they dropped accepted events without a trace.
 * (Should the move to delayed be refused too, that error counts as an attempt.)
 */
function outlastRedisConditions(
  process: (job: Job, token?: string) => Promise<unknown>,
  delayMs: number,
): (job: Job, token?: string) => Promise<unknown> {
  return async (job, token) => {
    try {
      return await process(job, token);
    } catch (error) {
      if (token === undefined || !(isRedisUnavailable(error) || isRedisOutOfMemory(error))) throw error;
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
  };
}

/**
 * The concurrency settings bound the whole process, not each partition: every partition's
 * BullMQ worker may take that many jobs (so one busy partition can use every slot), and one
 * limit shared by all partitions bounds how many run at once. A job taken while the limit is
 * full waits here, still locked by this worker, for the next free slot.
 */
function sharedLimit(
  concurrency: number,
  partitions: number,
  process: (job: Job, token?: string) => Promise<unknown>,
): (job: Job, token?: string) => Promise<unknown> {
  if (partitions <= 1) return process;
  const limit = pLimit(concurrency);
  return (job, token) => limit(() => process(job, token));
}

export function startWorkers(options: StartWorkersOptions): WorkerSet {
  const workers: Worker[] = [];
  const partitionCount = options.partitions.length;
  const processPushEvent = sharedLimit(
    options.evaluationConcurrency,
    partitionCount,
    outlastRedisConditions(options.processPushEvent, options.redisRetryDelayMs ?? 1000),
  );
  const processDelivery = sharedLimit(options.deliveryConcurrency, partitionCount, options.processDelivery);
  for (const partition of options.partitions) {
    const common = {
      connection: options.connection,
      // Jobs of a killed worker return to the queue once its lock expires and a stall check runs.
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.round(options.lockDurationMs / 2)),
      maxStalledCount: 2,
    };
    workers.push(
      new Worker(queueNames.pushEvents, processPushEvent, {
        ...common,
        prefix: keys.queuePrefix(queueNames.pushEvents, partition),
        concurrency: options.evaluationConcurrency,
      }),
      new Worker(queueNames.deliveries, processDelivery, {
        ...common,
        prefix: keys.queuePrefix(queueNames.deliveries, partition),
        concurrency: options.deliveryConcurrency,
        settings: {
          backoffStrategy: (_attemptsMade: number, _type?: string, error?: Error) =>
            error instanceof RetryLater ? error.delayMs : options.policy.baseDelayMs,
        },
      }),
    );
  }
  for (const worker of workers) {
    worker.on('error', (error) => options.onError(worker.name as QueueName, error));
    if (worker.name === queueNames.deliveries) {
      worker.on('failed', (job, error) => {
        if (job && error.message === STALLED_TOO_OFTEN) {
          options.onDeliveryLost(job).catch((lost) => options.onError(queueNames.deliveries, lost as Error));
        }
      });
    }
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
