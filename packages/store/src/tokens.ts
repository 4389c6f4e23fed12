/**
 * Namespace tokens. The token names its namespace (so a lookup touches one slot and
 * one hash) and only its SHA-256 is stored; the secret is shown once, at issue.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';

const PREFIX = 'rtn';

/** SHA-256 of a token: what is compared (in constant time) and stored, never the token. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function hashToken(token: string): string {
  return tokenDigest(token).toString('hex');
}

/** Constant-time comparison of two token digests (equal lengths by construction). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}

export function namespaceOfToken(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const namespace = Buffer.from(parts[1]!, 'base64url').toString('utf8');
  return namespace.length > 0 ? namespace : undefined;
}

export async function issueNamespaceToken(redis: RedisConnection, namespace: string): Promise<string> {
  const token = `${PREFIX}.${Buffer.from(namespace).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
  await redis.hset(
    keys.namespaceTokens(namespace),
    hashToken(token),
    JSON.stringify({ createdAt: Date.now() }),
  );
  return token;
}

/** The namespace a token grants, or undefined. Lookup by hash: no secret is ever compared in plain. */
export async function verifyNamespaceToken(
  redis: RedisConnection,
  token: string,
): Promise<string | undefined> {
  const namespace = namespaceOfToken(token);
  if (!namespace) return undefined;
  const found = await redis.hexists(keys.namespaceTokens(namespace), hashToken(token));
  return found ? namespace : undefined;
}
