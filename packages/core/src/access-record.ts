/**
 * The access-log record: one per delivery attempt and one per trigger that
 * did not fire. The worker writes it and the logs app reads it, so its shape
 * lives here and nowhere else: every record is built by a builder below.
 */
import { z } from 'zod';
import { describeTriggerFilter, type Trigger, type TriggerType, triggerTypeSchema } from './trigger.js';
import { looksLikeSecretName, REDACTED, redactUrl } from './url-rules.js';

/** `superseded`: a coalesce delivery not sent (again) because a newer push of its tag came (supersededBy). */
export const recordStatusSchema = z.enum(['untriggered', 'succeeded', 'retrying', 'failed', 'superseded']);
export type RecordStatus = z.infer<typeof recordStatusSchema>;

/**
 * Why a record is `untriggered`, or `failed` with no request sent: `filter` (the trigger's
 * filter did not match the tag), `artifact-tag` (a signature/attestation/SBOM tag, with
 * skipArtifactTags), `same-digest` (the tag did not move, with onlyOnDigestChange),
 * `disabled` (the trigger was disabled when its delivery came up), `trigger-deleted`
 * (deleted between two attempts), `worker-lost` (its worker kept dying during it),
 * `superseded` (coalesce: a newer push of the tag replaced it). On the record of an attempt,
 * what held the attempt back before it went (it waited, using no attempt): `rate-limited`
 * (the trigger's rateLimit or the per-host limit), `ordered` (an earlier delivery of an
 * ordered trigger, or of the same tag under coalesce, had to end first).
 */
const RECORD_REASONS = [
  'filter',
  'artifact-tag',
  'same-digest',
  'disabled',
  'trigger-deleted',
  'worker-lost',
  'superseded',
  'rate-limited',
  'ordered',
] as const;
export const recordReasonSchema = z.enum(RECORD_REASONS, {
  error: `reason must be one of ${RECORD_REASONS.join(', ')}`,
});
export type RecordReason = z.infer<typeof recordReasonSchema>;

/** `statusCode` of a trigger that did not fire for a push (the record's `reason` says why). */
export const UNTRIGGERED_STATUS_CODE = 'untriggered';

export const MAX_RESPONSE_BODY_BYTES = 4096;

export interface AccessRecord {
  id: string;
  triggerId: string;
  triggerName: string;
  /** Secret-looking query values already replaced by `***` (redactUrl). */
  triggerUrl: string;
  triggerType: TriggerType;
  /** describeTriggerFilter of the trigger. */
  triggerTag: string;
  eventId: string;
  /** The webhook-id; null when nothing was sent (untriggered). */
  deliveryId: string | null;
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
  status: RecordStatus;
  /** The HTTP status as a string, `untriggered`, or an error code such as ETIMEDOUT. */
  statusCode: string;
  /** 1-based; 0 when nothing was sent. */
  attempt: number;
  /** epoch ms */
  requestTime: number;
  durationMs: number;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseHeaders: Record<string, string>;
  /** At most MAX_RESPONSE_BODY_BYTES of UTF-8. */
  responseBody: string;
  note?: string;
  /** Why nothing was sent, or what held an attempt back; absent otherwise (and on records written before reasons). */
  reason?: RecordReason;
  /** `superseded` records: the event whose delivery replaced this one. */
  supersededBy?: string;
  /** The api request that took the push (its X-Request-Id), when known. */
  requestId?: string;
  /** `retrying` records: the earliest time (epoch ms) of the next attempt. */
  nextAttemptAt?: number;
}

const headersSchema = z.record(z.string(), z.string());

export const accessRecordSchema = z.object({
  id: z.string().min(1),
  triggerId: z.string().min(1),
  triggerName: z.string(),
  triggerUrl: z.string(),
  triggerType: triggerTypeSchema,
  triggerTag: z.string(),
  eventId: z.string().min(1),
  deliveryId: z.string().min(1).nullable(),
  namespace: z.string().min(1),
  repository: z.string().min(1),
  tag: z.string(),
  digest: z.string(),
  status: recordStatusSchema,
  statusCode: z.string().min(1),
  attempt: z.number().int().nonnegative(),
  requestTime: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  requestHeaders: headersSchema,
  requestBody: z.string(),
  responseHeaders: headersSchema,
  responseBody: z.string(),
  note: z.string().exactOptional(),
  reason: recordReasonSchema.exactOptional(),
  supersededBy: z.string().min(1).exactOptional(),
  requestId: z.string().exactOptional(),
  nextAttemptAt: z.number().int().nonnegative().exactOptional(),
});

/** The `reason` of each way a delivery ends without its request sent (or none answered). */
const UNSENT_REASONS: Readonly<Record<string, RecordReason>> = {
  TRIGGER_DISABLED: 'disabled',
  TRIGGER_DELETED: 'trigger-deleted',
  WORKER_LOST: 'worker-lost',
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

const encoder = new TextEncoder();

/** The longest prefix of `s` whose UTF-8 encoding fits in maxBytes, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  if (s.length * 3 <= maxBytes) return s;
  // encodeInto stops before a character that would not fit whole, and reads
  // at most maxBytes characters' worth of a huge response body.
  const { read } = encoder.encodeInto(s, new Uint8Array(maxBytes));
  return read === s.length ? s : s.slice(0, read);
}

const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'webhook-signature',
]);

// Header names use '-' where query keys use '_': both spellings reach looksLikeSecretName.
function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || looksLikeSecretName(lower);
}

/** Request or response headers as the access log may show them. */
export function redactHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) out[name] = isSecretHeader(name) ? REDACTED : value;
  return out;
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
  const notes = [...new Set(facts.notes.filter((note): note is string => Boolean(note)))];
  return {
    ...recordTriggerFields(trigger),
    ...pushFields(delivery),
    deliveryId: delivery.deliveryId,
    attempt: facts.attempt,
    requestTime: facts.requestTime,
    ...requestIdOf(delivery),
    status: facts.status,
    statusCode: facts.statusCode,
    durationMs: facts.durationMs,
    requestHeaders: redactHeaders(facts.requestHeaders),
    requestBody: facts.requestBody,
    responseHeaders: redactHeaders(facts.responseHeaders),
    responseBody: facts.responseBody,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    ...(facts.nextAttemptAt === undefined ? {} : { nextAttemptAt: facts.nextAttemptAt }),
    ...(facts.reason === undefined ? {} : { reason: facts.reason }),
  };
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
