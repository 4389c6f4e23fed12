/**
 * Whether this worker's claim on a delivery job would survive a failover of the queue's
 * master. BullMQ's move to active is acknowledged by the master before any replica has it;
 * if the master dies then, the promoted replica still has the job waiting and another worker
 * sends the same delivery again. So, before sending: WAIT for a replica ('unreplicated': not
 * yet), then check that the master, a new one if it failed over meanwhile, holds our lock
 * ('lost': another worker will run the job).
 */
import { type RedisConnection, waitForReplicas } from '@registry-triggers/store';
import type { Job } from 'bullmq';
import { holdsLock } from './bullmq-adapter.js';

export interface ClaimSettings {
  redis: RedisConnection;
  replicas: number;
  timeoutMs: number;
  /** The workers' lock duration: checking the lock renews it for as long. */
  lockDurationMs: number;
}

export type ClaimState = 'held' | 'unreplicated' | 'lost';

export async function claimState(
  job: Job,
  token: string | undefined,
  claims: ClaimSettings | undefined,
): Promise<ClaimState> {
  if (!claims || token === undefined) return 'held';
  try {
    await waitForReplicas(claims.redis, job.queueQualifiedName, claims.replicas, claims.timeoutMs);
  } catch {
    // Short of replicas, or the master died during the WAIT: nothing sent yet, try later.
    return 'unreplicated';
  }
  return (await holdsLock(job, token, claims.lockDurationMs)) ? 'held' : 'lost';
}
