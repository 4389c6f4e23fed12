/**
 * The queue backlog as an operator watches it: jobs per state of every partition, and how
 * long the oldest waiting job has waited. Read from Redis when metrics are scraped, so the
 * api reports it even while no worker runs.
 */
import type { Job } from 'bullmq';
import type { PartitionedQueue } from './queues.js';

export const BACKLOG_STATES = ['waiting', 'delayed', 'active'] as const;
export type BacklogState = (typeof BACKLOG_STATES)[number];

export interface PartitionBacklog {
  queue: string;
  partition: number;
  counts: Record<BacklogState, number>;
  /** Seconds since the oldest waiting job became due; 0 with none waiting. */
  oldestWaitingSeconds: number;
}

/**
 * When a waiting job became due: its creation plus its delay, or, for a retry, the start of
 * its last attempt plus the backoff it was delayed by (BullMQ keeps no exact time of the
 * move to waiting, so a retry's age is a little short, never long).
 */
export function dueSince(job: Pick<Job, 'timestamp' | 'processedOn' | 'delay'>): number {
  const delay = job.delay ?? 0;
  return job.processedOn ? job.processedOn + delay : job.timestamp + delay;
}

export async function readBacklog(
  queues: Array<PartitionedQueue<unknown>>,
  now: () => number = Date.now,
): Promise<PartitionBacklog[]> {
  return Promise.all(
    queues.flatMap((queue) =>
      queue.partitions.map(async (partitionQueue, partition) => {
        const [counts, oldest] = await Promise.all([
          partitionQueue.getJobCounts(...BACKLOG_STATES),
          // BullMQ's waiting list, oldest first: only the head is read.
          partitionQueue.getWaiting(0, 0),
        ]);
        const head = oldest[0];
        return {
          queue: queue.name,
          partition,
          counts: {
            waiting: counts.waiting ?? 0,
            delayed: counts.delayed ?? 0,
            active: counts.active ?? 0,
          },
          oldestWaitingSeconds: head ? Math.max(0, (now() - dueSince(head)) / 1000) : 0,
        };
      }),
    ),
  );
}
