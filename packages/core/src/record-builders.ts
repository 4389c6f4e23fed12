/**
 * Every shape a record of the access log takes, built here and only here: untriggered, one
 * attempt, unsent (disabled, deleted, lost, cancelled), superseded, and the final record after an
 * earlier attempt. The worker writes them, the api writes the cancel; the schema is access-record.ts.
 */
import {
  type AccessRecord,
  type RecordReason,
  type RecordStatus,
  redactHeaders,
  UNTRIGGERED_STATUS_CODE,
} from './access-record.js';
import { describeTriggerFilter, type Trigger } from './trigger.js';
import { redactUrl } from './url-rules.js';

/** The `reason` of each way a delivery ends without its request sent (or none answered). */
const UNSENT_REASONS: Readonly<Record<string, RecordReason>> = {
  TRIGGER_DISABLED: 'disabled',
  TRIGGER_DELETED: 'trigger-deleted',
  WORKER_LOST: 'worker-lost',
  CANCELLED: 'cancelled',
};

/** The rest of the `superseded` record of a coalesce delivery that a newer push of its tag replaced. */
function supersededRecordFields(byEventId: string, requestBody = '') {
  return {
    status: 'superseded' as const,
    statusCode: 'SUPERSEDED',
    reason: 'superseded' as const,
    supersededBy: byEventId,
    durationMs: 0,
    requestHeaders: {},
    requestBody,
    responseHeaders: {},
    responseBody: '',
    note: `not sent: superseded by event ${byEventId}, a newer push of the tag (coalesce)`,
  };
}

/** The rest of a `failed` record of a delivery that ended with no request sent (or none answered). */
export function unsentRecordFields(statusCode: string, note: string, requestBody = '') {
  const reason = UNSENT_REASONS[statusCode];
  return {
    status: 'failed' as const,
    statusCode,
    ...(reason ? { reason } : {}),
    durationMs: 0,
    requestHeaders: {},
    requestBody,
    responseHeaders: {},
    responseBody: '',
    note,
  };
}

/** The fields of a record that describe its trigger, as the access log may show them. */
export function recordTriggerFields(trigger: Trigger) {
  return {
    triggerId: trigger.id,
    triggerName: trigger.name,
    triggerUrl: redactUrl(trigger.url),
    triggerType: trigger.type,
    triggerTag: describeTriggerFilter(trigger),
  };
}

/** A record before the log gives it its id. */
export type UnsavedRecord = Omit<AccessRecord, 'id'>;

/** What a record says of the push (and delivery) it is about: a push event or a delivery job. */
export interface RecordedPush {
  eventId: string;
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
  requestId?: string | undefined;
}

export interface RecordedDelivery extends RecordedPush {
  deliveryId: string;
}

function pushFields(push: RecordedPush) {
  return {
    eventId: push.eventId,
    namespace: push.namespace,
    repository: push.repository,
    tag: push.tag,
    digest: push.digest,
  };
}

const requestIdOf = (push: RecordedPush) => (push.requestId ? { requestId: push.requestId } : {});

/** A trigger that did not fire for a push, and why (its filter, an artifact tag, the same digest). */
export function untriggeredRecord(
  trigger: Trigger,
  push: RecordedPush,
  at: number,
  reason: RecordReason,
): UnsavedRecord {
  return {
    ...recordTriggerFields(trigger),
    ...pushFields(push),
    deliveryId: null,
    status: 'untriggered',
    statusCode: UNTRIGGERED_STATUS_CODE,
    attempt: 0,
    requestTime: at,
    durationMs: 0,
    requestHeaders: {},
    requestBody: '',
    responseHeaders: {},
    responseBody: '',
    reason,
    ...requestIdOf(push),
  };
}

/** What became of one attempt that was sent (answered or not). */
export interface AttemptFacts {
  attempt: number;
  requestTime: number;
  status: Exclude<RecordStatus, 'untriggered'>;
  /** The HTTP status, or the error code of an attempt that got no answer. */
  statusCode: string;
  durationMs: number;
  /** As sent: secrets are redacted here. */
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseHeaders: Record<string, string>;
  responseBody: string;
  /** What the log says besides the status (the error, the reason, "trigger disabled"); repeats dropped. */
  notes: ReadonlyArray<string | undefined>;
  nextAttemptAt?: number | undefined;
  /** What held this attempt back before it was sent (a delivery gate: `rate-limited`, `ordered`). */
  reason?: RecordReason | undefined;
}

/** The record of one attempt of a delivery. */
export function attemptRecord(
  trigger: Trigger,
  delivery: RecordedDelivery,
  facts: AttemptFacts,
): UnsavedRecord {
  // Built field by field, not from spreads of helper objects: this runs for every attempt,
  // and a literal of a fixed shape costs a fraction of the spreads (bench figures in the commit).
  const record: UnsavedRecord = {
    triggerId: trigger.id,
    triggerName: trigger.name,
    triggerUrl: redactUrl(trigger.url),
    triggerType: trigger.type,
    triggerTag: describeTriggerFilter(trigger),
    eventId: delivery.eventId,
    namespace: delivery.namespace,
    repository: delivery.repository,
    tag: delivery.tag,
    digest: delivery.digest,
    deliveryId: delivery.deliveryId,
    attempt: facts.attempt,
    requestTime: facts.requestTime,
    status: facts.status,
    statusCode: facts.statusCode,
    durationMs: facts.durationMs,
    requestHeaders: redactHeaders(facts.requestHeaders),
    requestBody: facts.requestBody,
    responseHeaders: redactHeaders(facts.responseHeaders),
    responseBody: facts.responseBody,
  };
  if (delivery.requestId) record.requestId = delivery.requestId;
  const note = joinNotes(facts.notes);
  if (note) record.note = note;
  if (facts.nextAttemptAt !== undefined) record.nextAttemptAt = facts.nextAttemptAt;
  if (facts.reason !== undefined) record.reason = facts.reason;
  return record;
}

/** The notes given, each once, in order, joined by '; '; empty when there is none. */
function joinNotes(notes: ReadonlyArray<string | undefined>): string {
  let joined = '';
  const seen: string[] = [];
  for (const note of notes) {
    if (!note || seen.includes(note)) continue;
    seen.push(note);
    joined = joined ? `${joined}; ${note}` : note;
  }
  return joined;
}

/** The `superseded` record of a coalesce delivery that a newer push of its tag replaced, unsent. */
export function supersededRecord(
  trigger: Trigger,
  delivery: RecordedDelivery,
  superseded: { attempt: number; at: number; byEventId: string; requestBody?: string | undefined },
): UnsavedRecord {
  return {
    ...recordTriggerFields(trigger),
    ...pushFields(delivery),
    deliveryId: delivery.deliveryId,
    attempt: superseded.attempt,
    requestTime: superseded.at,
    ...requestIdOf(delivery),
    ...supersededRecordFields(superseded.byEventId, superseded.requestBody),
  };
}

/**
 * The `failed` record of a delivery that ends with no request sent (its trigger disabled, its
 * worker lost): `statusCode` is one of TRIGGER_DISABLED, WORKER_LOST (see unsentRecordFields).
 */
export function unsentRecord(
  trigger: Trigger,
  delivery: RecordedDelivery,
  unsent: { attempt: number; at: number; statusCode: string; note: string; requestBody?: string | undefined },
): UnsavedRecord {
  return {
    ...recordTriggerFields(trigger),
    ...pushFields(delivery),
    deliveryId: delivery.deliveryId,
    attempt: unsent.attempt,
    requestTime: unsent.at,
    ...requestIdOf(delivery),
    ...unsentRecordFields(unsent.statusCode, unsent.note, unsent.requestBody),
  };
}

/**
 * The `failed` record that ends, unsent, a delivery whose earlier attempt is `previous` (its
 * trigger deleted since, or the delivery cancelled): the trigger's fields come from that record.
 */
export function finalRecordAfter(
  previous: AccessRecord,
  unsent: { attempt: number; at: number; statusCode: string; note: string; requestBody?: string | undefined },
): UnsavedRecord {
  const { id: _id, note: _note, nextAttemptAt: _next, reason: _reason, ...fields } = previous;
  return {
    ...fields,
    attempt: unsent.attempt,
    requestTime: unsent.at,
    ...unsentRecordFields(unsent.statusCode, unsent.note, unsent.requestBody),
  };
}
