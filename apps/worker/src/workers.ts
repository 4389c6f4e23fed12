/** BullMQ workers for every partition of both queues, the process's concurrency shared by its partitions. */
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
import { failedForStalls } from './bullmq-adapter.js';
import { deliveryBackoff } from './bullmq-outcome.js';
import { ProcessSlots } from './process-slots.js';

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

export function startWorkers(options: StartWorkersOptions): WorkerSet {
  const workers: Worker[] = [];
  const partitionCount = options.partitions.length;
  const evaluationSlots = new ProcessSlots(options.evaluationConcurrency, partitionCount);
  const deliverySlots = new ProcessSlots(options.deliveryConcurrency, partitionCount);
  const processPushEvent = outlastRedisConditions(
    options.processPushEvent,
    options.redisRetryDelayMs ?? 1000,
  );
  for (const partition of options.partitions) {
    const common = {
      connection: options.connection,
      // Jobs of a killed worker return to the queue once its lock expires and a stall check runs.
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.round(options.lockDurationMs / 2)),
      maxStalledCount: 2,
    };
    const evaluator: Worker = new Worker(
      queueNames.pushEvents,
      evaluationSlots.processorFor(() => evaluator, processPushEvent),
      {
        ...common,
        prefix: keys.queuePrefix(queueNames.pushEvents, partition),
        concurrency: evaluationSlots.initialConcurrency,
      },
    );
    const deliverer: Worker = new Worker(
      queueNames.deliveries,
      deliverySlots.processorFor(() => deliverer, options.processDelivery),
      {
        ...common,
        prefix: keys.queuePrefix(queueNames.deliveries, partition),
        concurrency: deliverySlots.initialConcurrency,
        settings: deliveryBackoff(options.policy.baseDelayMs),
      },
    );
    workers.push(evaluator, deliverer);
  }
  for (const worker of workers) {
    worker.on('error', (error) => options.onError(worker.name as QueueName, error));
    if (worker.name === queueNames.deliveries) {
      worker.on('failed', (job, error) => {
        if (job && failedForStalls(job, error)) {
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
