/**
 * The queue catalog: queue names, partitions, job payload schemas and job options,
 * shared by the api (producer) and the worker (consumer) so neither spells them alone.
 */
import { attemptLimit, defaultRetryPolicy } from '@registry-triggers/core';
import { Queue, type QueueOptions } from 'bullmq';
import { z } from 'zod';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';

export const queueNames = { pushEvents: 'push-events', deliveries: 'deliveries' } as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

/** How long an event id is remembered to drop duplicates (contract: 24 hours). */
export const EVENT_DEDUPE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * What a job carries of the request that caused it, for logs and traces only: the api's
 * request id and the W3C trace context of its ingest span, handed on push → delivery.
 */
const jobContextSchema = z.object({
  requestId: z.string().max(200).optional(),
  traceparent: z.string().max(200).optional(),
});
export type JobContext = z.infer<typeof jobContextSchema>;

export const pushEventJobSchema = z.object({
  eventId: z.string().min(1),
  namespace: z.string().min(1),
  repository: z.string().min(1),
  tag: z.string().min(1),
  /** Empty when the registry sends none (Docker Hub, Quay): delivered as `"digest": ""`. */
  digest: z.string(),
  pushedAt: z.number().int(),
  receivedAt: z.number().int(),
  ...jobContextSchema.shape,
});
export type PushEventJob = z.infer<typeof pushEventJobSchema>;

/** Why a delivery gate (rateLimit or the host limit; ordered or coalesce) held an attempt back. */
export const gateWaitReasonSchema = z.enum(['rate-limited', 'ordered']);
export type GateWaitReason = z.infer<typeof gateWaitReasonSchema>;

export const deliveryJobSchema = z.object({
  deliveryId: z.string().min(1),
  eventId: z.string().min(1),
  namespace: z.string().min(1),
  repository: z.string().min(1),
  triggerId: z.string().min(1),
  tag: z.string(),
  digest: z.string(),
  pushedAt: z.number().int(),
  /**
   * The exact ACR request body, built once at fan-out so every retry sends the same bytes.
   * Absent on test deliveries and on redeliveries of an event never delivered: the worker
   * builds it with the same function (delivery-body.ts).
   */
  body: z.string().optional(),
  /** Single-attempt deliveries (the trigger test) are not retried. */
  singleAttempt: z.boolean().optional(),
  /** When the api took the push (epoch ms), for the push → delivery latency. */
  receivedAt: z.number().int().optional(),
  /** onlyOnDigestChange: the digest the tag had before this push (absent on its first push). */
  previousDigest: z.string().min(1).optional(),
  /**
   * An attempt that was sent and decided but whose record Redis refused to write: kept here
   * (the record as JSON, and the reason to disable the trigger after a 410) so the job's next
   * run of the same attempt writes it instead of sending again.
   */
  unsettled: z
    .object({ attempt: z.number().int().min(1), record: z.string(), disableTrigger: z.string().optional() })
    .optional(),
  /** A delivery gate (coalesce, ordered, rateLimit) held this attempt back: its record says so. */
  heldBy: z.object({ reason: gateWaitReasonSchema, attempt: z.number().int() }).optional(),
  ...jobContextSchema.shape,
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** Job options of a push event: its attempts are for errors of the evaluation itself. */
export const pushEventJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  // Duplicates are caught by the deduplication key, not by keeping jobs: an evaluated
  // event is removed at once (the cheapest completion BullMQ has).
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;

/**
 * The options of a delivery job. Its retries are decided by the core retry policy (the
 * worker's decide step); `attempts` is that policy's limit, never spelled here, so BullMQ
 * never ends a delivery the policy would retry. `maxAttempts` overrides it (1: a test delivery).
 */
export const deliveryJobOptions = (maxAttempts: number = attemptLimit(defaultRetryPolicy)) =>
  ({
    attempts: maxAttempts,
    // The worker's backoff strategy of this type carries out the delay decided (bullmq-outcome.ts).
    backoff: { type: 'delivery-policy' },
    // Completed jobs are kept for an hour so a retried fan-out with the same job id is a no-op.
    removeOnComplete: { age: 3600, count: 50_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
  }) as const;

/** FNV-1a: cheap and stable, so one repository's work always lands in one partition. */
export function partitionFor(namespace: string, repository: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  const text = `${namespace}/${repository}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

export const queueEnvSchema = z.object({
  /** Unset: 1 on one server; on a cluster, from its masters (partitions.ts). */
  QUEUE_PARTITIONS: z.coerce.number().int().min(1).max(64).optional(),
});

export function queueOptions(name: QueueName, partition: number, connection: RedisConnection): QueueOptions {
  return { connection, prefix: keys.queuePrefix(name, partition) };
}

/** One BullMQ Queue per partition of a queue. */
export class PartitionedQueue<Data> {
  readonly partitions: Queue<Data>[];

  constructor(
    readonly name: QueueName,
    partitionCount: number,
    connection: RedisConnection,
  ) {
    this.partitions = Array.from(
      { length: partitionCount },
      (_, partition) => new Queue<Data>(name, queueOptions(name, partition, connection)),
    );
  }

  forRepository(namespace: string, repository: string): Queue<Data> {
    return this.partitions[partitionFor(namespace, repository, this.partitions.length)]!;
  }

  async close(): Promise<void> {
    await Promise.all(this.partitions.map((queue) => queue.close()));
  }
}
