/**
 * Trigger secrets. Standard Webhooks secrets are `whsec_` + base64 of the key
 * bytes; a plain string (what Alibaba Cloud users paste) is used as UTF-8.
 */

export const WHSEC_PREFIX = 'whsec_';
export const MIN_PLAIN_SECRET_LENGTH = 8;
export const MAX_SECRET_LENGTH = 512;

export type SecretCheck = { ok: true } | { ok: false; rule: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

export function checkWebhookSecret(secret: string): SecretCheck {
  if (secret.length === 0 || secret.length > MAX_SECRET_LENGTH) {
    return { ok: false, rule: `secret must be 1 to ${MAX_SECRET_LENGTH} characters` };
  }
  if (secret.startsWith(WHSEC_PREFIX)) {
    const encoded = secret.slice(WHSEC_PREFIX.length);
    return encoded.length > 0 && BASE64.test(encoded)
      ? { ok: true }
      : { ok: false, rule: 'a secret starting with whsec_ must continue with the base64 of the key' };
  }
  return secret.length >= MIN_PLAIN_SECRET_LENGTH
    ? { ok: true }
    : {
        ok: false,
        rule: `secret must be at least ${MIN_PLAIN_SECRET_LENGTH} characters, or whsec_ followed by base64`,
      };
}

/** The HMAC key bytes a secret stands for. */
export function webhookSecretKey(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX)
    ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}
