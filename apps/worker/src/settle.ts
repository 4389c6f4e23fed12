/**
 * Settle: what an attempt leaves behind. Its record in the access log (one script, one round
 * trip), the trigger disabled when the receiver answered 410 or it failed for too long, and
 * the metrics. A record write refused by a Redis blip is tried again here, so an attempt the
 * receiver answered is not lost for want of its record.
 */
import type { AfterAttempt, UnsavedRecord } from '@registry-triggers/core';
import {
  isRedisOutOfMemory,
  isRedisUnavailable,
  type RecordStore,
  type TriggerStore,
} from '@registry-triggers/store';
import { statusClass, type WorkerMetrics } from './metrics.js';

export interface SettleDeps {
  triggers: TriggerStore;
  records: RecordStore;
  metrics: WorkerMetrics;
  /** Disable a trigger whose deliveries failed continuously for this long; 0 never does. */
  autoDisableAfterMs?: number | undefined;
  now: () => number;
  /** Waits between tries of a write refused by Redis (default 50, 200, 800 ms: past a failover's first second). */
  writeRetryDelaysMs?: readonly number[] | undefined;
}

/** An attempt sent and decided, to be settled. */
export interface SentToSettle {
  record: UnsavedRecord;
  /** The access-log write id of this attempt: a write tried again adds the record once. */
  writeId: string;
  decision: AfterAttempt;
  /** When the api took the push, for the push → delivery latency of a success. */
  receivedAt?: number | undefined;
}

export type Settled = { settled: true; recordId: string } | { settled: false; error: unknown };

const DEFAULT_WRITE_RETRY_DELAYS_MS = [50, 200, 800];

const isRedisCondition = (error: unknown) => isRedisUnavailable(error) || isRedisOutOfMemory(error);

/** Runs a write, again after each delay while Redis refuses it for a passing condition. */
async function withWriteRetries<T>(delays: readonly number[], write: () => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      const delay = delays[retry];
      if (delay === undefined || !isRedisCondition(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export function createSettler(deps: SettleDeps) {
  const delays = deps.writeRetryDelaysMs ?? DEFAULT_WRITE_RETRY_DELAYS_MS;

  function failingTooLong(failingSince: number | undefined): string | undefined {
    if (!deps.autoDisableAfterMs || failingSince === undefined) return undefined;
    const failingFor = deps.now() - failingSince;
    if (failingFor < deps.autoDisableAfterMs) return undefined;
    return `every delivery failed for ${Math.round(failingFor / 60_000)} min (since ${new Date(failingSince).toISOString()}): the trigger is disabled`;
  }

  const disable = (record: UnsavedRecord, reason: string) =>
    withWriteRetries(delays, () =>
      deps.triggers.disable(record.namespace, record.repository, record.triggerId, reason, deps.now()),
    );

  /**
   * Settles a sent attempt. Answers `settled: false` (never throws for Redis) when the record
   * could not be written even after the retries: the caller keeps the answer and settles later.
   */
  async function settleAttempt(sent: SentToSettle): Promise<Settled> {
    const { record, decision } = sent;
    const gone = decision.action === 'fail' && decision.disableTrigger;
    let written: { id: string; failingSince?: number };
    try {
      // A 410 disables the trigger before its record is written, so whoever reads "trigger
      // disabled" in the access log finds the trigger disabled too.
      if (gone) await disable(record, decision.reason);
      written = await withWriteRetries(delays, () =>
        deps.records.appendAttempt(record, deps.now(), sent.writeId),
      );
    } catch (error) {
      if (!isRedisCondition(error)) throw error;
      return { settled: false, error };
    }
    deps.metrics.attempts.inc({ outcome: record.status, status_class: statusClass(record.statusCode) });
    deps.metrics.attemptSeconds.observe(record.durationMs / 1000);
    if (gone) deps.metrics.triggersDisabled.inc({ reason: 'gone' });
    if (decision.action === 'done' && sent.receivedAt !== undefined)
      deps.metrics.pushToDeliverySeconds.observe(Math.max(0, deps.now() - sent.receivedAt) / 1000);
    const disableReason = gone ? undefined : failingTooLong(written.failingSince);
    if (disableReason) {
      // Best effort: the record is written, so the attempt is over; should this write fail,
      // the trigger's next failed attempt finds it failing for as long and asks again.
      try {
        await disable(record, disableReason);
        deps.metrics.triggersDisabled.inc({ reason: 'auto-disable' });
      } catch {}
    }
    return { settled: true, recordId: written.id };
  }

  /** The record of a delivery ended unsent (trigger disabled or deleted, worker lost). */
  async function settleUnsent(record: UnsavedRecord, writeId?: string): Promise<string> {
    const at = record.requestTime;
    const id = await withWriteRetries(delays, () => deps.records.append(record, at, writeId));
    deps.metrics.attempts.inc({ outcome: record.status, status_class: 'unsent' });
    return id;
  }

  return { settleAttempt, settleUnsent };
}

export type Settler = ReturnType<typeof createSettler>;
