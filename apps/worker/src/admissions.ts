/**
 * The gates an attempt passes before it is sent: each answers admitted (with a release once
 * the attempt is settled) or not now (with when to ask again). A delivery turned away goes
 * back to delayed without using an attempt, so a gate never costs a delivery its retries.
 * The origin guard is one; the per-trigger gates (gates/: coalesce, ordered, rateLimit) follow it.
 */
import type { AfterAttempt, Trigger } from '@registry-triggers/core';
import type { DeliveryJob } from '@registry-triggers/store';
import type { AttemptHealth, OriginGuard } from './origin-guard.js';

export interface AdmissionRequest {
  trigger: Trigger;
  data: DeliveryJob;
  /** 1-based: the attempt that would be sent. */
  attempt: number;
}

/** How an admitted attempt ended; undefined when it ended before any answer could be judged (our own error). */
export interface AttemptEnd {
  health: AttemptHealth;
  durationMs: number;
  decision: AfterAttempt;
}

/** Frees what an admitted attempt held; awaited before the run ends, so the next in line can go. */
type Release = (end: AttemptEnd | undefined) => void | Promise<void>;

export type Admission =
  | { admitted: true; release: Release }
  /** `reason` is a metric label: a short fixed word per gate and cause. */
  | { admitted: false; retryAt: number; reason: string }
  /** Coalesce: a newer push of the tag replaced this delivery, which ends unsent (`superseded`). */
  | { admitted: false; superseded: string };

export interface DeliveryGate {
  admit(request: AdmissionRequest): Admission | Promise<Admission>;
}

const admittedAlone: Admission = { admitted: true, release: () => {} };

/**
 * Asks every gate in order; the first that turns the attempt away wins, and those that had
 * admitted it are released at once, with no verdict (nothing was sent).
 */
export async function admitThrough(
  gates: readonly DeliveryGate[],
  request: AdmissionRequest,
): Promise<Admission> {
  if (gates.length === 0) return admittedAlone;
  const releases: Release[] = [];
  for (const gate of gates) {
    const admission = await gate.admit(request);
    if (!admission.admitted) {
      for (const release of releases.reverse()) await release(undefined);
      return admission;
    }
    releases.push(admission.release);
  }
  if (releases.length === 1) return { admitted: true, release: releases[0]! };
  return {
    admitted: true,
    release: async (end) => {
      for (const release of [...releases].reverse()) await release(end);
    },
  };
}

/**
 * The origin guard as a gate. A delivery's first attempt is held only by the in-flight limit,
 * never by the circuit (every push shows in the log at once); retries and test deliveries (anyone
 * may ask for many, to a third party's receiver) wait for an open circuit's probe. An attempt
 * that ended with no verdict (our side threw before the receiver could be judged) frees its slot
 * without counting as healthy.
 */
export function originGuardGate(guard: OriginGuard): DeliveryGate {
  return {
    admit({ trigger, data, attempt }) {
      const admission = guard.admit(trigger.url, { retry: attempt > 1 || data.singleAttempt === true });
      if (!admission.admitted) return admission;
      return {
        admitted: true,
        release: (end) =>
          end ? admission.release(end.health, end.durationMs) : admission.release(undefined),
      };
    },
  };
}
