/**
 * The per-trigger delivery gates (issue #18), asked before each attempt next to the origin
 * guard: coalesce, then ordered, then the trigger's rateLimit, then the per-host limit. Each
 * says go, wait (the delivery is postponed, using no attempt), or superseded; whatever an
 * earlier gate granted is handed back when a later one turns the delivery away. After the
 * attempt, release(outcome) frees what it holds and wakes the deliveries waiting for it
 * (promoting their delayed jobs), so waiting is not polling.
 */
import { type Trigger, triggerOptionsOf } from '@registry-triggers/core';
import {
  type DeliveryGateStore,
  type DeliveryJob,
  type GateDelivery,
  type GateWaitReason,
  gateWaitReasonSchema,
} from '@registry-triggers/store';
import type { Queue } from 'bullmq';
import type { DeliveryGate } from '../admissions.js';
import { admitCoalesce } from './coalesce.js';
import { admitOrdered, type JobStateOf } from './ordered.js';
import { admitHostRate, admitTriggerRate } from './rate-limit.js';

/** `final`: the delivery ended (succeeded or finally failed); `retrying`: another attempt follows. */
export type GateOutcome = 'final' | 'retrying';

export type GateAdmission =
  | { admitted: true; release: (outcome: GateOutcome) => Promise<void> }
  | { admitted: false; retryAt: number; reason: GateWaitReason }
  | { admitted: false; superseded: string };

export interface DeliveryGatesOptions {
  store: DeliveryGateStore;
  /** The delivery queue (partition) of a repository, to look at and promote waiting jobs. */
  queueFor: (namespace: string, repository: string) => Queue;
  /** How long an attempt may hold a coalesce or in-flight lease: past the longest attempt. */
  leaseMs: number;
  /** DELIVERY_HOST_RATE_LIMIT: deliveries a second per receiver host; undefined for none. */
  hostPerSecond?: number | undefined;
  now?: () => number;
  onError?: (error: unknown) => void;
}

const OPEN: GateAdmission = { admitted: true, release: async () => {} };
/** The longest a delivery waiting for a lease sleeps if no release wakes it. */
const LEASE_POLL_MS = 5_000;
/** A release may come while the job it wakes is still moving itself to delayed: try again. */
const PROMOTE_TRIES = 5;
const PROMOTE_RETRY_MS = 100;

export class DeliveryGates {
  private readonly now: () => number;

  constructor(private readonly options: DeliveryGatesOptions) {
    this.now = options.now ?? Date.now;
  }

  async admit(data: DeliveryJob, trigger: Trigger): Promise<GateAdmission> {
    // A test delivery is one request a user asked for now: no place in any order, no slot.
    if (data.singleAttempt) return OPEN;
    const options = triggerOptionsOf(trigger);
    const host = this.options.hostPerSecond;
    const gated = options.coalesce || options.ordered || options.rateLimit !== undefined;
    if (!gated && host === undefined) return OPEN;
    const delivery: GateDelivery = {
      namespace: data.namespace,
      repository: data.repository,
      triggerId: data.triggerId,
      tag: data.tag,
      deliveryId: data.deliveryId,
    };
    const store = this.options.store;
    const wait = (waitMs: number, reason: GateWaitReason): GateAdmission => ({
      admitted: false,
      retryAt: this.now() + Math.max(1, waitMs),
      reason,
    });
    // A later gate turning the delivery away hands back the lease an earlier one gave.
    const turnAway = async (waitMs: number, reason: GateWaitReason) => {
      if (gated) await this.releaseAndWake(delivery, false);
      return wait(waitMs, reason);
    };

    if (options.coalesce) {
      const admission = await admitCoalesce(store, delivery, this.options.leaseMs);
      if (admission.kind === 'superseded') {
        await this.releaseAndWake(delivery, true);
        return { admitted: false, superseded: admission.byEventId };
      }
      // An older delivery of the tag is in flight: this one follows it (woken by its release).
      if (admission.kind === 'wait') return wait(Math.min(admission.leaseMs, LEASE_POLL_MS), 'ordered');
      // Older ones waiting for a retry are superseded now rather than at their retry time.
      if (admission.kind === 'go') this.wake(delivery, admission.older);
    }
    if (options.ordered) {
      const decision = await admitOrdered(store, delivery, this.jobState);
      if (!decision.go) return turnAway(decision.waitMs, 'ordered');
    }
    if (options.rateLimit) {
      const decision = await admitTriggerRate(store, delivery, options.rateLimit, this.options.leaseMs);
      if (!decision.go) return turnAway(decision.waitMs, 'rate-limited');
    }
    if (host !== undefined) {
      const decision = await admitHostRate(store, trigger.url, data.deliveryId, host);
      if (!decision.go) return turnAway(decision.waitMs, 'rate-limited');
    }
    return {
      admitted: true,
      release: (outcome) => (gated ? this.releaseAndWake(delivery, outcome === 'final') : Promise.resolve()),
    };
  }

  private async releaseAndWake(delivery: GateDelivery, final: boolean): Promise<void> {
    const woken = await this.options.store.release(delivery, final);
    this.wake(delivery, [woken.orderHead, woken.coalesceNewest, woken.inFlightWaiter]);
  }

  private readonly jobState: JobStateOf = async (delivery, deliveryId) => {
    const job = await this.options.queueFor(delivery.namespace, delivery.repository).getJob(deliveryId);
    if (!job) return 'missing';
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'ended';
    return state === 'unknown' ? 'missing' : 'pending';
  };

  /** Promotes the delayed jobs of these deliveries (not awaited: a wake is an optimisation). */
  private wake(delivery: GateDelivery, deliveryIds: string[]): void {
    const queue = this.options.queueFor(delivery.namespace, delivery.repository);
    for (const id of new Set(deliveryIds)) {
      if (!id || id === delivery.deliveryId) continue;
      void this.promote(queue, id).catch((error) => this.options.onError?.(error));
    }
  }

  private async promote(queue: Queue, id: string): Promise<void> {
    for (let tries = 0; tries < PROMOTE_TRIES; tries++) {
      const job = await queue.getJob(id);
      if (!job) return;
      const state = await job.getState();
      if (state === 'delayed') {
        await job.promote().catch(() => {});
        return;
      }
      if (state !== 'active') return;
      await new Promise((resolve) => setTimeout(resolve, PROMOTE_RETRY_MS));
    }
  }
}

/**
 * The trigger's gates as one step of the admission list (admissions.ts), after the origin
 * guard: an attempt that ended with a retry to follow, or that was never sent, keeps the
 * delivery's place; any other end (done, failed) gives it up and wakes the next.
 */
export function triggerGatesStep(gates: DeliveryGates): DeliveryGate {
  return {
    async admit({ trigger, data }) {
      const admission = await gates.admit(data, trigger);
      if (!admission.admitted) return admission;
      return {
        admitted: true,
        // Never fails the run: a release lost is a wait cut short by the lease, not a lost delivery.
        release: (end) =>
          admission.release(end && end.decision.action !== 'retry' ? 'final' : 'retrying').catch(() => {}),
      };
    },
  };
}

/** The reasons a trigger gate holds a delivery, which its attempt's record then names. */
export const isGateWaitReason = (reason: string): reason is GateWaitReason =>
  gateWaitReasonSchema.safeParse(reason).success;
