/** BullMQ workers for every partition of both queues, with the delivery retry policy as backoff. */
import type { RetryPolicy } from '@registry-triggers/core';
import { keys, type QueueName, queueNames, type RedisConnection } from '@registry-triggers/store';
import { type Job, Worker } from 'bullmq';
import { RetryLater } from './deliver.js';

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
  processPushEvent: (job: Job) => Promise<unknown>;
  processDelivery: (job: Job) => Promise<unknown>;
  onError: (queue: QueueName, error: Error) => void;
}

export function startWorkers(options: StartWorkersOptions): WorkerSet {
  const workers: Worker[] = [];
  for (const partition of options.partitions) {
    const common = {
      connection: options.connection,
      // Jobs of a killed worker return to the queue after the lock expires.
      lockDuration: 30_000,
      stalledInterval: 15_000,
      maxStalledCount: 2,
    };
    workers.push(
      new Worker(queueNames.pushEvents, options.processPushEvent, {
        ...common,
        prefix: keys.queuePrefix(queueNames.pushEvents, partition),
        concurrency: options.evaluationConcurrency,
      }),
      new Worker(queueNames.deliveries, options.processDelivery, {
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
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
