/**
 * The access-log record: one per delivery attempt and one per trigger that
 * did not fire. The worker writes it and the logs app reads it, so its shape
 * lives here and nowhere else: every record is built by record-builders.ts.
 */
import { z } from 'zod';
import { type TriggerType, triggerTypeSchema } from './trigger.js';
import { looksLikeSecretName, REDACTED } from './url-rules.js';

/** `superseded`: a coalesce delivery not sent (again) because a newer push of its tag came (supersededBy). */
export const recordStatusSchema = z.enum(['untriggered', 'succeeded', 'retrying', 'failed', 'superseded']);
export type RecordStatus = z.infer<typeof recordStatusSchema>;

/**
 * Why a record is `untriggered`, or `failed` with no request sent: `filter` (the trigger's
 * filter did not match the tag), `artifact-tag` (a signature/attestation/SBOM tag, with
 * skipArtifactTags), `same-digest` (the tag did not move, with onlyOnDigestChange),
 * `disabled` (the trigger was disabled when its delivery came up), `trigger-deleted`
 * (deleted between two attempts), `worker-lost` (its worker kept dying during it), `cancelled`
 * (its pending retries were cancelled through the api),
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
  'cancelled',
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
