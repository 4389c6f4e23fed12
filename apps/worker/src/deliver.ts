/**
 * The delivery processor, one attempt per run: decide (core's decide.ts) → admit (the gates)
 * → send (send.ts) → decide → settle (settle.ts), and the run's end handed to BullMQ in one
 * place (bullmq-outcome.ts). Every attempt is recorded, and so is every delivery that ends
 * unsent.
 */
import {
  type AccessRecord,
  type AfterAttempt,
  accessRecordSchema,
  attemptRecord,
  type BeforeAttempt,
  decideAfterAttempt,
  decideBeforeAttempt,
  decideFromRecord,
  finalRecordAfter,
  type RetryPolicy,
  recordStatusOf,
  supersededRecord,
  type Trigger,
  type UnsavedRecord,
  unsentRecord,
} from '@registry-triggers/core';
import {
  type DeliveryJob,
  deliveryJobSchema,
  type RecordStore,
  type RepositoryStore,
  type TriggerStore,
} from '@registry-triggers/store';
import { type Job, UnrecoverableError } from 'bullmq';
import { type AttemptEnd, admitThrough, type DeliveryGate } from './admissions.js';
import { carryOut, endFor, type RunEnd } from './bullmq-outcome.js';
import { type ClaimSettings, claimState } from './claims.js';
import { bodyForJob } from './delivery-body.js';
import { isGateWaitReason } from './gates/index.js';
import type { WorkerMetrics } from './metrics.js';
import { buildRequest, type SendSettings, type SentAttempt, sendAttempt } from './send.js';
import { createSettler } from './settle.js';

export interface DeliverDeps extends SendSettings {
  triggers: TriggerStore;
  repositories: RepositoryStore;
  records: RecordStore;
  /** Asked in order before each attempt (the origin guard first); admissions.ts. */
  gates: readonly DeliveryGate[];
  policy: RetryPolicy;
  timeZone: string;
  /** Disable a trigger whose deliveries failed continuously for this long; 0 never does. */
  autoDisableAfterMs?: number | undefined;
  metrics: WorkerMetrics;
  /** On a Redis Cluster: a job's claim must be on this many replicas before its request goes out. */
  claims?: ClaimSettings | undefined;
  /** Before the record of a retry is written (cancellable.ts: claims a first run then). */
  beforeRetryRecord?: ((job: Job<DeliveryJob>) => Promise<void>) | undefined;
  /** Waits between tries of a record write refused by Redis (settle.ts). */
  writeRetryDelaysMs?: readonly number[] | undefined;
  now?: () => number;
  random?: () => number;
}

/** What a delivery job completes with: a test delivery its whole record (the api answers with it). */
export type DeliveryResult = AccessRecord | { recordId: string };

/**
 * The access-log write id of one attempt of one delivery job: a run of the same attempt
 * again finds the record of the first (and a retried append adds it only once). The job's
 * creation time tells apart a later job under the same delivery id (an event id pushed
 * again after the 24-hour dedupe window), whose attempts are new ones.
 */
const attemptWriteId = (job: Job<DeliveryJob>, attempt: number) =>
  `attempt:${job.data.deliveryId}:${job.timestamp}:${attempt}`;

const unsavedRecordSchema = accessRecordSchema.omit({ id: true });

/** How soon a job waits to be run again without an attempt: claim not replicated, record not written. */
const RECHECK_MS = 1000;

export function createDeliveryProcessor(deps: DeliverDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const settler = createSettler({ ...deps, now });

  /** A test delivery completes with its record, whatever became of it; others by the decision. */
  function finish(data: DeliveryJob, decision: AfterAttempt, saved: AccessRecord): RunEnd<DeliveryResult> {
    if (data.singleAttempt) return { kind: 'complete', value: saved };
    return endFor(decision, { recordId: saved.id });
  }

  async function settleSent(
    job: Job<DeliveryJob>,
    data: DeliveryJob,
    attempt: number,
    record: UnsavedRecord,
    decision: AfterAttempt,
  ): Promise<RunEnd<DeliveryResult>> {
    const writeId = attemptWriteId(job, attempt);
    if (decision.action === 'retry') await deps.beforeRetryRecord?.(job);
    const settled = await settler.settleAttempt({ record, writeId, decision, receivedAt: data.receivedAt });
    if (settled.settled) return finish(data, decision, { id: settled.recordId, ...record });
    // Redis refused the record for longer than the settle's retries: the answer stays on the job
    // and the same attempt settles on the next run, unsent again and without using an attempt.
    const disableTrigger =
      decision.action === 'fail' && decision.disableTrigger ? decision.reason : undefined;
    await job.updateData({
      ...data,
      unsettled: { attempt, record: JSON.stringify(record), ...(disableTrigger ? { disableTrigger } : {}) },
    });
    deps.metrics.postponed.inc({ reason: 'unrecorded' });
    return { kind: 'wait', until: now() + RECHECK_MS };
  }

  function settleKept(
    job: Job<DeliveryJob>,
    data: DeliveryJob,
    attempt: number,
    kept: NonNullable<DeliveryJob['unsettled']>,
  ) {
    const record = unsavedRecordSchema.parse(JSON.parse(kept.record)) as UnsavedRecord;
    const decision: AfterAttempt = kept.disableTrigger
      ? { action: 'fail', reason: kept.disableTrigger, disableTrigger: true }
      : decideFromRecord(deps.policy, record, attempt, now(), random());
    return settleSent(job, data, attempt, record, decision);
  }

  /** Ends a job whose attempt was already sent and recorded, the way that attempt ended. */
  function endAsRecorded(record: AccessRecord, data: DeliveryJob, attempt: number): RunEnd<DeliveryResult> {
    deps.metrics.resumed.inc({ status: record.status });
    return finish(data, decideFromRecord(deps.policy, record, attempt, now(), random()), record);
  }

  async function skip(
    job: Job<DeliveryJob>,
    data: DeliveryJob,
    attempt: number,
    before: Exclude<BeforeAttempt, { action: 'send' }>,
  ): Promise<RunEnd<DeliveryResult>> {
    const writeId = attemptWriteId(job, attempt);
    if (before.reason === 'disabled') {
      const record = unsentRecord(before.trigger, data, {
        attempt,
        at: now(),
        statusCode: 'TRIGGER_DISABLED',
        note: before.note,
      });
      await settler.settleUnsent(record, writeId);
      return { kind: 'fail', reason: before.note };
    }
    // A delivery whose trigger was deleted while it waited for its next attempt ends with a
    // `failed` record, so its story in the log does not stop at `retrying`; the trigger's
    // fields come from the attempt before, the trigger being gone.
    const previous = before.recordEnd
      ? await deps.records.findWritten(data.namespace, attemptWriteId(job, attempt - 1))
      : undefined;
    if (previous) {
      const record = finalRecordAfter(previous, {
        attempt,
        at: now(),
        statusCode: 'TRIGGER_DELETED',
        note: 'not sent: the trigger was deleted',
      });
      await settler.settleUnsent(record, writeId);
    }
    return { kind: 'fail', reason: 'the trigger was deleted' };
  }

  async function bodyOf(job: Job<DeliveryJob>, data: DeliveryJob): Promise<string> {
    if (data.body !== undefined) return data.body;
    const body = await bodyForJob(data, deps.repositories, deps);
    // A redelivery with retries keeps it, so every retry sends the same bytes; a test delivery
    // has no retry and saves the write.
    if (!data.singleAttempt) await job.updateData({ ...data, body });
    return body;
  }

  async function send(
    job: Job<DeliveryJob>,
    data: DeliveryJob,
    trigger: Trigger,
  ): Promise<SentAttempt & { requestTime: number }> {
    const body = await bodyOf(job, data);
    const requestTime = now();
    const request = buildRequest(trigger, data, body, requestTime, deps);
    return { ...(await sendAttempt(request, data.namespace, deps, now)), requestTime };
  }

  async function run(
    job: Job<DeliveryJob>,
    token: string | undefined,
    data: DeliveryJob,
    attempt: number,
  ): Promise<RunEnd<DeliveryResult>> {
    if (data.unsettled?.attempt === attempt) return settleKept(job, data, attempt, data.unsettled);
    // A job run again after a stall (its worker died, or its completion was lost with a
    // failing-over master) may have sent this very attempt and recorded it: the record says
    // how the attempt ended (whatever became of the trigger since), and the receiver does
    // not get it a second time.
    if (job.stalledCounter > 0) {
      const earlier = await deps.records.findWritten(data.namespace, attemptWriteId(job, attempt));
      if (earlier) return endAsRecorded(earlier, data, attempt);
    }
    const before = decideBeforeAttempt(
      await deps.triggers.get(data.namespace, data.repository, data.triggerId),
      data,
      attempt,
    );
    if (before.action === 'skip') return skip(job, data, attempt, before);
    const { trigger } = before;

    const claim = await claimState(job, token, deps.claims);
    if (claim === 'lost')
      return {
        kind: 'abandon',
        reason: 'the claim on this job was lost in a Redis failover; another worker runs it',
      };
    if (claim === 'unreplicated') {
      deps.metrics.postponed.inc({ reason: 'unreplicated' });
      return { kind: 'wait', until: now() + RECHECK_MS };
    }
    // A saturated or failing receiver (or a trigger's own gate): postpone without an attempt,
    // freeing this slot for others.
    const admission = await admitThrough(deps.gates, { trigger, data, attempt });
    if (!admission.admitted) {
      if ('superseded' in admission) {
        const record = supersededRecord(trigger, data, {
          attempt,
          at: now(),
          byEventId: admission.superseded,
          requestBody: data.body,
        });
        return {
          kind: 'complete',
          value: { recordId: await settler.settleUnsent(record, attemptWriteId(job, attempt)) },
        };
      }
      deps.metrics.postponed.inc({ reason: admission.reason });
      // A trigger's gate holding the attempt: its record, once sent, says what held it.
      if (isGateWaitReason(admission.reason) && data.heldBy?.attempt !== attempt)
        await job.updateData({ ...data, heldBy: { reason: admission.reason, attempt } });
      return { kind: 'wait', until: admission.retryAt };
    }
    // Only an attempt the receiver answered (or failed to) tells the gates how it went: our own
    // error before that releases them with no verdict.
    let ended: AttemptEnd | undefined;
    try {
      const { request, report, outcome, health, requestTime } = await send(job, data, trigger);
      const decision = decideAfterAttempt(deps.policy, attempt, outcome, data, random());
      ended = { health, durationMs: report.durationMs, decision };
      const record = attemptRecord(trigger, data, {
        attempt,
        requestTime,
        status: recordStatusOf(decision),
        statusCode: report.statusCode,
        durationMs: report.durationMs,
        requestHeaders: request.headers,
        requestBody: request.body,
        responseHeaders: report.responseHeaders,
        responseBody: report.responseBody,
        notes: [
          report.errorMessage,
          outcome.type === 'succeeded' ? undefined : outcome.reason,
          decision.action === 'fail' && decision.disableTrigger ? 'trigger disabled' : undefined,
        ],
        nextAttemptAt: decision.action === 'retry' ? now() + decision.delayMs : undefined,
        reason: data.heldBy?.attempt === attempt ? data.heldBy.reason : undefined,
      });
      return await settleSent(job, data, attempt, record, decision);
    } finally {
      await admission.release(ended);
    }
  }

  return async (job: Job<DeliveryJob>, token?: string): Promise<DeliveryResult> => {
    const parsed = deliveryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid delivery job: ${parsed.error.message}`);
    return carryOut(job, token, await run(job, token, parsed.data, job.attemptsMade + 1));
  };
}
