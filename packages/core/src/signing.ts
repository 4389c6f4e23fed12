/**
 * Standard Webhooks (https://www.standardwebhooks.com/) signing: receivers can
 * verify a delivery with any of the standardwebhooks libraries.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { webhookSecretKey } from './webhook-secret.js';

const SIGNATURE_VERSION = 'v1';

function assertTimestamp(timestampSec: number): void {
  // `${1.5}` or `${1e21}` would sign text no receiver reconstructs.
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new RangeError(`webhook timestamp must be a whole number of seconds, got ${timestampSec}`);
  }
}

function hmac(secret: string, id: string, timestampSec: number, body: string): Buffer {
  return createHmac('sha256', webhookSecretKey(secret)).update(`${id}.${timestampSec}.${body}`).digest();
}

/** `v1,` + base64(HMAC-SHA256(key, `${id}.${timestampSec}.${body}`)). */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  assertTimestamp(timestampSec);
  return `${SIGNATURE_VERSION},${hmac(secret, id, timestampSec, body).toString('base64')}`;
}

/**
 * True when any signature in a `webhook-signature` header (space-separated,
 * so keys can be rotated) is a valid v1 signature. For tests and receivers;
 * the timestamp tolerance is the caller's business.
 */
export function verifyWebhook(
  secret: string,
  id: string,
  timestampSec: number,
  body: string,
  signatureHeader: string,
): boolean {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) return false;
  const expected = hmac(secret, id, timestampSec, body);
  return signatureHeader.split(' ').some((candidate) => {
    const [version, encoded] = candidate.split(',', 2);
    if (version !== SIGNATURE_VERSION || encoded === undefined) return false;
    const given = Buffer.from(encoded, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface WebhookHeaderInput {
  id: string;
  timestampSec: number;
  body: string;
  secret?: string | undefined;
}

export function webhookHeaders(input: WebhookHeaderInput): Record<string, string> {
  assertTimestamp(input.timestampSec);
  const headers: Record<string, string> = {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSec),
  };
  if (input.secret !== undefined) {
    headers['webhook-signature'] = signWebhook(input.secret, input.id, input.timestampSec, input.body);
  }
  return headers;
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1; // keep only the bits not yet written
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * The `webhook-id` of one event for one trigger. Derived, not random, so every
 * retry and every redelivery carries the same id and receivers can de-duplicate
 * (Standard Webhooks: the id stays the same when a message is resent).
 */
export function deliveryIdFor(eventKey: string, triggerId: string): string {
  // JSON of the pair is unambiguous where `${a}:${b}` would not be.
  const digest = createHash('sha256')
    .update(JSON.stringify([eventKey, triggerId]))
    .digest();
  return `msg_${base32(digest.subarray(0, 16))}`;
}
