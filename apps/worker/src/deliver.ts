/**
 * The delivery processor: one attempt per run, every attempt recorded. The core retry
 * policy decides what happens next; BullMQ carries it out (a thrown RetryLater is
 * retried after its delay, an UnrecoverableError ends the job as failed).
 */
import {
  type AccessRecord,
  buildAcrPayload,
  classifyAttempt,
  type DeliveryOutcome,
  formatDelivery,
  PREVIOUS_DIGEST_HEADER,
  type RetryPolicy,
  recordTriggerFields,
  redactHeaders,
  retryDelayMs,
  shouldRetry,
  supersededRecordFields,
  type Trigger,
  triggerOptionsOf,
  unsentRecordFields as unsent,
  webhookHeaders,
} from '@registry-triggers/core';
import {
  DEFAULT_REPOSITORY_METADATA,
  type DeliveryJob,
  deliveryJobSchema,
  type NewAccessRecord,
  type RecordStore,
  type RedisConnection,
  type RepositoryStore,
  type TriggerStore,
  waitForReplicas,
} from '@registry-triggers/store';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Dispatcher } from 'undici';
import type { DeliveryGates, GateOutcome } from './gates/index.js';
import { type AttemptReport, attemptDelivery } from './http-delivery.js';
import { statusClass, type WorkerMetrics } from './metrics.js';
import type { AttemptHealth, OriginGuard } from './origin-guard.js';

/** Thrown to have BullMQ retry the job after `delayMs` (read by the backoff strategy). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

export interface DeliverDeps {
  triggers: TriggerStore;
  repositories: RepositoryStore;
  records: RecordStore;
  dispatcher: Dispatcher;
  /** The dispatcher of one delivery (a namespace's private CA); `dispatcher` without it. */
  dispatcherFor?: (namespace: string, url: string) => Promise<Dispatcher>;
  guard: OriginGuard;
  /** The per-trigger delivery gates (coalesce, ordered, rateLimit; gates/); none: every delivery goes. */
  gates?: DeliveryGates;
  policy: RetryPolicy;
  region: string;
  timeZone: string;
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  /** Disable a trigger whose deliveries failed continuously for this long; 0 never does. */
  autoDisableAfterMs?: number;
  metrics: WorkerMetrics;
  /** On a Redis Cluster: a job's claim must be on this many replicas before its request goes out. */
  claims?: { redis: RedisConnection; replicas: number; timeoutMs: number } | undefined;
  /** Trace headers for the attempt's request (the W3C traceparent, tracing.ts). */
  traceHeaders?: () => Record<string, string>;
  now?: () => number;
  random?: () => number;
}

const USER_AGENT = 'registry-triggers/0.1';

/** The fields every record of a delivery carries, whatever became of the attempt. */
function baseRecord(trigger: Trigger, data: DeliveryJob, attempt: number, requestTime: number) {
  return {
    ...recordTriggerFields(trigger),
    eventId: data.eventId,
    deliveryId: data.deliveryId,
    namespace: data.namespace,
    repository: data.repository,
    tag: data.tag,
    digest: data.digest,
    attempt,
    requestTime,
    ...(data.requestId ? { requestId: data.requestId } : {}),
    // Delivery gates: what held this attempt back, if anything (records of no attempt override it).
    ...(data.heldBy?.attempt === attempt ? { reason: data.heldBy.reason } : {}),
  };
}

/**
 * The access-log write id of one attempt of one delivery job: a run of the same attempt
 * again finds the record of the first (and a retried append adds it only once). The job's
 * creation time tells apart a later job under the same delivery id (an event id pushed
 * again after the 24-hour dedupe window), whose attempts are new ones.
 */
const attemptWriteId = (job: Job<DeliveryJob>, attempt: number) =>
  `attempt:${job.data.deliveryId}:${job.timestamp}:${attempt}`;

function statusFor(outcome: DeliveryOutcome, retry: boolean): AccessRecord['status'] {
  if (outcome.type === 'succeeded') return 'succeeded';
  return retry ? 'retrying' : 'failed';
}

export function createDeliveryProcessor(deps: DeliverDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;

  async function bodyFor(job: Job<DeliveryJob>, data: DeliveryJob): Promise<string> {
    if (data.body !== undefined) return data.body;
    // Test pushes and redeliveries of untriggered records come without a body: build it
    // once and keep it on the job so any retry sends the same bytes.
    const repository = (await deps.repositories.get(data.namespace, data.repository)) ?? {
      namespace: data.namespace,
      name: data.repository,
      ...DEFAULT_REPOSITORY_METADATA,
      createdAt: data.pushedAt,
      updatedAt: data.pushedAt,
    };
    const body = buildAcrPayload(
      { digest: data.digest, pushedAt: data.pushedAt, tag: data.tag },
      { ...repository, region: deps.region },
      deps.timeZone,
    );
    await job.updateData({ ...data, body });
    return body;
  }

  function failingTooLong(failingSince: number | undefined): string | undefined {
    if (!deps.autoDisableAfterMs || failingSince === undefined) return undefined;
    const failingFor = now() - failingSince;
    if (failingFor < deps.autoDisableAfterMs) return undefined;
    return `every delivery failed for ${Math.round(failingFor / 60_000)} min (since ${new Date(failingSince).toISOString()}): the trigger is disabled`;
  }

  /** Sends one attempt and records it; says how the receiver behaved for the origin guard. */
  async function sendAndRecord(
    job: Job<DeliveryJob>,
    data: DeliveryJob,
    trigger: Trigger,
    attempt: number,
    requestTime: number,
  ): Promise<{
    outcome: DeliveryOutcome;
    retry: boolean;
    /** Before the next attempt, when there is one. */
    delayMs: number | undefined;
    answered: boolean;
    record: NewAccessRecord;
    recordId: string;
  }> {
    // The trigger's format wraps the ACR JSON; what is sent is what gets signed and recorded.
    const formatted = formatDelivery(triggerOptionsOf(trigger).format, await bodyFor(job, data), {
      id: data.deliveryId,
      region: deps.region,
      namespace: data.namespace,
      subject: `${data.repository}:${data.tag}`,
      pushedAt: data.pushedAt,
    });
    const body = formatted.body;
    // The format's headers (ce-*) and the previous digest are the delivery's: a trigger header of
    // the same name (names ignore case) is left out rather than sent beside ours.
    const owned: Record<string, string> = {
      ...formatted.headers,
      ...(data.previousDigest ? { [PREVIOUS_DIGEST_HEADER.toLowerCase()]: data.previousDigest } : {}),
    };
    const custom = Object.fromEntries(
      Object.entries(trigger.headers ?? {}).filter(([name]) => !Object.hasOwn(owned, name.toLowerCase())),
    );
    // A User-Agent of the trigger's replaces ours (names ignore case): sent once, as configured.
    const ownUserAgent = Object.keys(custom).some((name) => name.toLowerCase() === 'user-agent');
    const headers: Record<string, string> = {
      ...custom,
      ...owned,
      ...(ownUserAgent ? {} : { 'user-agent': USER_AGENT }),
      ...deps.traceHeaders?.(),
      ...webhookHeaders({
        id: data.deliveryId,
        timestampSec: Math.floor(requestTime / 1000),
        body,
        secret: trigger.secret,
      }),
    };
    const dispatcher = deps.dispatcherFor
      ? await deps.dispatcherFor(data.namespace, trigger.url)
      : deps.dispatcher;
    const report: AttemptReport = await attemptDelivery(
      dispatcher,
      { url: trigger.url, headers, body },
      { allowPrivateNetworks: deps.allowPrivateNetworks, timeoutMs: deps.timeoutMs },
    );
    const outcome = classifyAttempt(report.result, now());
    const retry = !data.singleAttempt && shouldRetry(deps.policy, attempt, outcome);
    const delayMs = retry ? retryDelayMs(deps.policy, attempt, outcome, random()) : undefined;
    const notes = [
      report.errorMessage,
      outcome.type !== 'succeeded' ? outcome.reason : undefined,
      outcome.type === 'final' && outcome.disableTrigger ? 'trigger disabled' : undefined,
    ].filter((note): note is string => Boolean(note));
    const record: NewAccessRecord = {
      ...baseRecord(trigger, data, attempt, requestTime),
      status: statusFor(outcome, retry),
      statusCode: report.statusCode,
      durationMs: report.durationMs,
      requestHeaders: redactHeaders(headers),
      requestBody: body,
      responseHeaders: redactHeaders(report.responseHeaders),
      responseBody: report.responseBody,
      ...(notes.length > 0 ? { note: [...new Set(notes)].join('; ') } : {}),
      ...(delayMs === undefined ? {} : { nextAttemptAt: now() + delayMs }),
    };
    // A 410 disables the trigger before its record is written, so whoever reads "trigger disabled"
    // in the access log finds the trigger disabled too.
    const gone = outcome.type === 'final' && outcome.disableTrigger;
    if (gone) {
      await deps.triggers.disable(trigger.namespace, trigger.repository, trigger.id, outcome.reason, now());
    }
    const written = await deps.records.appendAttempt(record, now(), attemptWriteId(job, attempt));
    const recordId = written.id;
    deps.metrics.attempts.inc({ outcome: record.status, status_class: statusClass(record.statusCode) });
    deps.metrics.attemptSeconds.observe(report.durationMs / 1000);
    if (gone) deps.metrics.triggersDisabled.inc({ reason: 'gone' });
    if (outcome.type === 'succeeded' && data.receivedAt !== undefined)
      deps.metrics.pushToDeliverySeconds.observe(Math.max(0, now() - data.receivedAt) / 1000);
    const disableReason = gone ? undefined : failingTooLong(written.failingSince);
    if (disableReason) {
      await deps.triggers.disable(trigger.namespace, trigger.repository, trigger.id, disableReason, now());
      deps.metrics.triggersDisabled.inc({ reason: 'auto-disable' });
    }
    return { outcome, retry, delayMs, answered: report.result.kind === 'response', record, recordId };
  }

  /**
   * Whether this worker's claim on the job would survive a failover of the queue's master.
   * BullMQ's move to active is acknowledged by the master before any replica has it; if the
   * master dies then, the promoted replica still has the job waiting and another worker
   * sends the same delivery again. So, before sending: WAIT for a replica ('unreplicated':
   * not yet), then check that the master, a new one if it failed over meanwhile, holds our
   * lock ('lost': another worker will run the job).
   */
  async function claimState(
    job: Job<DeliveryJob>,
    token?: string,
  ): Promise<'held' | 'unreplicated' | 'lost'> {
    const claims = deps.claims;
    if (!claims || token === undefined) return 'held';
    try {
      await waitForReplicas(claims.redis, job.queueQualifiedName, claims.replicas, claims.timeoutMs);
    } catch {
      // Short of replicas, or the master died during the WAIT: nothing sent yet, try later.
      return 'unreplicated';
    }
    // BullMQ's lock key of a job: <prefix>:<queue>:<job id>:lock, holding the worker's token.
    const lock = await claims.redis.get(`${job.queueQualifiedName}:${job.id}:lock`);
    return lock === token ? 'held' : 'lost';
  }

  /**
   * A delivery whose trigger was deleted while it waited for its next attempt ends with a
   * `failed` record, so its story in the access log does not stop at `retrying`. The trigger's
   * fields come from the attempt before, the trigger being gone; a delivery never attempted
   * has nothing in the log to end.
   */
  async function recordTriggerDeleted(job: Job<DeliveryJob>, data: DeliveryJob, attempt: number) {
    if (attempt <= 1 || data.singleAttempt) return;
    const previous = await deps.records.findWritten(data.namespace, attemptWriteId(job, attempt - 1));
    if (!previous) return;
    const { id: _id, note: _note, nextAttemptAt: _next, ...fields } = previous;
    const requestTime = now();
    const record: NewAccessRecord = {
      ...fields,
      attempt,
      requestTime,
      ...unsent('TRIGGER_DELETED', 'not sent: the trigger was deleted'),
    };
    await deps.records.append(record, requestTime, attemptWriteId(job, attempt));
    deps.metrics.attempts.inc({ outcome: 'failed', status_class: 'unsent' });
  }

  /** Ends a job whose attempt was already sent and recorded, the way that attempt ended. */
  function endAsRecorded(
    record: AccessRecord,
    data: DeliveryJob,
    attempt: number,
  ): AccessRecord | { recordId: string } {
    deps.metrics.resumed.inc({ status: record.status });
    if (data.singleAttempt) return record;
    if (record.status === 'succeeded') return { recordId: record.id };
    const reason = record.note ?? `attempt ${attempt} ended ${record.status} (${record.statusCode})`;
    if (record.status === 'retrying') {
      // The time the record announced, when it did: the next attempt keeps to it.
      const delayMs =
        record.nextAttemptAt === undefined
          ? retryDelayMs(deps.policy, attempt, { type: 'retryable', reason }, random())
          : Math.max(0, record.nextAttemptAt - now());
      throw new RetryLater(reason, delayMs);
    }
    throw new UnrecoverableError(reason);
  }

  return async (job: Job<DeliveryJob>, token?: string): Promise<AccessRecord | { recordId: string }> => {
    const parsed = deliveryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid delivery job: ${parsed.error.message}`);
    const data = parsed.data;
    const attempt = job.attemptsMade + 1;
    // A job run again after a stall (its worker died, or its completion was lost with a
    // failing-over master) may have sent this very attempt and recorded it: the record says
    // how the attempt ended (whatever became of the trigger since), and the receiver does
    // not get it a second time.
    if (job.stalledCounter > 0) {
      const earlier = await deps.records.findWritten(data.namespace, attemptWriteId(job, attempt));
      if (earlier) return endAsRecorded(earlier, data, attempt);
    }

    const trigger = await deps.triggers.get(data.namespace, data.repository, data.triggerId);
    if (!trigger) {
      await recordTriggerDeleted(job, data, attempt);
      throw new UnrecoverableError('the trigger was deleted');
    }

    const requestTime = now();
    if (!trigger.enabled && !data.singleAttempt) {
      const record: NewAccessRecord = {
        ...baseRecord(trigger, data, attempt, requestTime),
        ...unsent(
          'TRIGGER_DISABLED',
          `not sent: the trigger is disabled${trigger.disabledReason ? ` (${trigger.disabledReason})` : ''}`,
        ),
      };
      await deps.records.append(record, requestTime);
      deps.metrics.attempts.inc({ outcome: 'failed', status_class: 'unsent' });
      throw new UnrecoverableError(record.note);
    }

    const claim = await claimState(job, token);
    if (claim === 'lost')
      throw new Error('the claim on this job was lost in a Redis failover; another worker runs it');
    if (claim === 'unreplicated') {
      deps.metrics.postponed.inc({ reason: 'unreplicated' });
      await job.moveToDelayed(now() + 1000, token);
      throw new DelayedError();
    }

    // ── Delivery gates (issue #18: coalesce, ordered, rateLimit; gates/index.ts) ──────────────
    // Before the origin guard, which hands a gate's grant back when it postpones the delivery. A
    // wait postpones without an attempt, like the guard; a superseded delivery ends with its
    // record. The gate's release follows the attempt below.
    const gate = deps.gates ? await deps.gates.admit(data, trigger) : undefined;
    if (gate && !gate.admitted) {
      if ('superseded' in gate) {
        const at = now();
        const record: NewAccessRecord = {
          ...baseRecord(trigger, data, attempt, at),
          ...supersededRecordFields(gate.superseded, data.body),
        };
        const recordId = await deps.records.append(record, at, attemptWriteId(job, attempt));
        deps.metrics.attempts.inc({ outcome: 'superseded', status_class: 'unsent' });
        return { recordId };
      }
      deps.metrics.postponed.inc({ reason: gate.reason });
      if (data.heldBy?.attempt !== attempt)
        await job.updateData({ ...job.data, heldBy: { reason: gate.reason, attempt } });
      await job.moveToDelayed(gate.retryAt, token);
      throw new DelayedError();
    }
    // ── end of the delivery gates' admission (their release: below and in the finally) ─────

    // A saturated or failing receiver: postpone without an attempt, freeing this slot for others.
    // Test deliveries too: anyone may ask for many, and the receiver may be a third party's. An
    // open circuit holds them like a retry (a test of an endpoint known down waits for its probe).
    const admission = deps.guard.admit(trigger.url, { retry: attempt > 1 || data.singleAttempt === true });
    if (!admission.admitted) {
      if (gate?.admitted) await gate.release('retrying').catch(() => {}); // delivery gates
      deps.metrics.postponed.inc({ reason: admission.reason });
      await job.moveToDelayed(admission.retryAt, token);
      throw new DelayedError();
    }
    let gateOutcome: GateOutcome = 'retrying'; // delivery gates
    let health: AttemptHealth = 'healthy';
    let durationMs: number | undefined;
    try {
      const { outcome, retry, delayMs, answered, record, recordId } = await sendAndRecord(
        job,
        data,
        trigger,
        attempt,
        requestTime,
      );
      gateOutcome = retry ? 'retrying' : 'final'; // delivery gates: how the delivery goes on
      if (outcome.type === 'retryable') health = answered ? 'refusing' : 'unreachable';
      durationMs = record.durationMs;
      if (data.singleAttempt) return { id: recordId, ...record };
      if (outcome.type === 'succeeded') return { recordId };
      if (retry && delayMs !== undefined) throw new RetryLater(outcome.reason, delayMs);
      throw new UnrecoverableError(outcome.reason);
    } finally {
      admission.release(health, durationMs);
      // Delivery gates: free what the attempt held and wake who waits for it (never fails the job).
      if (gate?.admitted) await gate.release(gateOutcome).catch(() => {});
    }
  };
}

/** BullMQ's reason for a job whose worker died while running it more often than allowed. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/**
 * A delivery whose worker process died during it too many times is failed by BullMQ
 * without our processor running: this writes its record, so no accepted event ends
 * without a trace in the access log.
 */
export function createLostDeliveryRecorder(deps: Pick<DeliverDeps, 'triggers' | 'records' | 'now'>) {
  const now = deps.now ?? Date.now;
  return async (job: Job<DeliveryJob>): Promise<void> => {
    const parsed = deliveryJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    const data = parsed.data;
    const trigger = await deps.triggers.get(data.namespace, data.repository, data.triggerId);
    if (!trigger) return;
    const at = now();
    await deps.records.append(
      {
        ...baseRecord(trigger, data, job.attemptsMade + 1, at),
        ...unsent(
          'WORKER_LOST',
          'the worker process running this delivery stopped too many times; redeliver it from the access log',
          data.body,
        ),
      },
      at,
    );
  };
}
