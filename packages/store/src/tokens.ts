/**
 * Namespace tokens. The token names its namespace (so a lookup touches one slot and
 * one hash) and only its SHA-256 is stored; the secret is shown once, at issue.
 *
 * A token's id is the first 24 hex digits of that hash: every token has one without a
 * second index to keep in step, tokens issued before ids existed included (their entry
 * holds only `createdAt`, and they are read as `admin` tokens without a name). The hash of
 * a 256-bit random secret gives nothing away about the secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { defineScript } from './scripts.js';

const PREFIX = 'rtn';
const ID_LENGTH = 24;

export const TOKEN_SCOPES = ['admin', 'read', 'ingest'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** What is stored per token (JSON), never the secret. */
interface StoredToken {
  id?: string;
  name?: string;
  scope?: TokenScope;
  createdAt: number;
  expiresAt?: number;
  prefix?: string;
}

/** A token as listed: everything but the secret. */
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** The first characters of the token, to recognise it; null for tokens issued before prefixes. */
  prefix: string | null;
}

/** A token at issue: its secret, shown this once. */
export interface IssuedToken {
  id: string;
  token: string;
  namespace: string;
  name: string;
  scope: TokenScope;
  createdAt: number;
  expiresAt: number | null;
  prefix: string;
}

/** What a verified token grants. */
export interface TokenGrant {
  namespace: string;
  id: string;
  scope: TokenScope;
  expiresAt: number | null;
  /** The hex SHA-256 of the token, the key of its entry. */
  digest: string;
}

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

export const tokenIdOf = (digestHex: string) => digestHex.slice(0, ID_LENGTH);

export function namespaceOfToken(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const namespace = Buffer.from(parts[1]!, 'base64url').toString('utf8');
  return namespace.length > 0 ? namespace : undefined;
}

function toInfo(digest: string, stored: StoredToken, lastUsed: string | undefined): TokenInfo {
  return {
    id: tokenIdOf(digest),
    name: stored.name ?? '',
    scope: stored.scope ?? 'admin',
    createdAt: stored.createdAt,
    expiresAt: stored.expiresAt ?? null,
    lastUsedAt: lastUsed === undefined ? null : Number(lastUsed),
    prefix: stored.prefix ?? null,
  };
}

/** A token as answered at issue (create or rotate): its stored fields with the secret, shown this once. */
function toIssued(
  secret: { token: string; digest: string; prefix: string },
  namespace: string,
  stored: StoredToken,
): IssuedToken {
  return {
    id: tokenIdOf(secret.digest),
    token: secret.token,
    namespace,
    name: stored.name ?? '',
    scope: stored.scope ?? 'admin',
    createdAt: stored.createdAt,
    expiresAt: stored.expiresAt ?? null,
    prefix: secret.prefix,
  };
}

function parseStored(raw: string): StoredToken | undefined {
  try {
    const parsed = JSON.parse(raw) as StoredToken;
    return typeof parsed.createdAt === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const isLive = (stored: StoredToken, now: number) => stored.expiresAt === undefined || stored.expiresAt > now;

function newSecret(namespace: string): { token: string; digest: string; prefix: string } {
  const head = `${PREFIX}.${Buffer.from(namespace).toString('base64url')}.`;
  const secret = randomBytes(32).toString('base64url');
  const token = `${head}${secret}`;
  // Four of 43 secret characters: enough to tell tokens apart, 232 random bits left.
  return { token, digest: hashToken(token), prefix: `${head}${secret.slice(0, 4)}` };
}

// Adds a token; drops the namespace's expired ones on the way (they would only clutter the list).
const CREATE_SCRIPT = defineScript(
  'tokenCreate',
  `
local entries = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[3])
for i = 1, #entries, 2 do
  local ok, meta = pcall(cjson.decode, entries[i + 1])
  if ok and type(meta) == 'table' and type(meta['expiresAt']) == 'number' and meta['expiresAt'] <= now then
    redis.call('HDEL', KEYS[1], entries[i])
    redis.call('HDEL', KEYS[2], entries[i])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
);

// The field (hash) of the token with id ARGV[1], or false.
const FIND_LUA = `
local function findToken(id)
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, ${ID_LENGTH}) == id then return field end
  end
  return false
end`;

const REVOKE_SCRIPT = defineScript(
  'tokenRevoke',
  `${FIND_LUA}
local field = findToken(ARGV[1])
if not field then return 0 end
redis.call('HDEL', KEYS[1], field)
redis.call('HDEL', KEYS[2], field)
return 1`,
);

// Replaces token ARGV[1] by a new one (hash ARGV[2], id ARGV[3], prefix ARGV[4]) of the same
// name, scope and expiry; the old one lives ARGV[6] ms more (0: ends now). Answers the new
// entry's JSON, or false when the old token is unknown or already expired.
const ROTATE_SCRIPT = defineScript(
  'tokenRotate',
  `${FIND_LUA}
local field = findToken(ARGV[1])
if not field then return false end
local now = tonumber(ARGV[5])
local grace = tonumber(ARGV[6])
local old = cjson.decode(redis.call('HGET', KEYS[1], field))
if type(old['expiresAt']) == 'number' and old['expiresAt'] <= now then return false end
local new = { id = ARGV[3], name = old['name'] or '', scope = old['scope'] or 'admin',
  createdAt = now, prefix = ARGV[4] }
if type(old['expiresAt']) == 'number' then new['expiresAt'] = old['expiresAt'] end
if grace == 0 then
  redis.call('HDEL', KEYS[1], field)
  redis.call('HDEL', KEYS[2], field)
else
  if type(old['expiresAt']) ~= 'number' or old['expiresAt'] > now + grace then
    old['expiresAt'] = now + grace
  end
  if old['scope'] == nil then old['scope'] = 'admin' end
  redis.call('HSET', KEYS[1], field, cjson.encode(old))
end
local encoded = cjson.encode(new)
redis.call('HSET', KEYS[1], ARGV[2], encoded)
return encoded`,
);

export interface NewToken {
  name?: string | undefined;
  scope?: TokenScope | undefined;
  expiresAt?: number | undefined;
}

export async function createToken(
  redis: RedisConnection,
  namespace: string,
  options: NewToken,
  now = Date.now(),
): Promise<IssuedToken> {
  const { token, digest, prefix } = newSecret(namespace);
  const stored: StoredToken = {
    id: tokenIdOf(digest),
    name: options.name ?? '',
    scope: options.scope ?? 'admin',
    createdAt: now,
    ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt } : {}),
    prefix,
  };
  await CREATE_SCRIPT.run(
    redis,
    [keys.namespaceTokens(namespace), keys.namespaceTokenUse(namespace)],
    [digest, JSON.stringify(stored), now],
  );
  return toIssued({ token, digest, prefix }, namespace, stored);
}

/** An admin-scope token without a name or expiry (what every namespace token was before scopes). */
export async function issueNamespaceToken(redis: RedisConnection, namespace: string): Promise<string> {
  return (await createToken(redis, namespace, {})).token;
}

/** The namespace's tokens that still work, oldest first. */
export async function listTokens(
  redis: RedisConnection,
  namespace: string,
  now = Date.now(),
): Promise<TokenInfo[]> {
  const [tokens, used] = await Promise.all([
    redis.hgetall(keys.namespaceTokens(namespace)),
    redis.hgetall(keys.namespaceTokenUse(namespace)),
  ]);
  return Object.entries(tokens)
    .flatMap(([digest, raw]) => {
      const stored = parseStored(raw);
      return stored && isLive(stored, now) ? [toInfo(digest, stored, used[digest])] : [];
    })
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** Removes the token: the next verification fails. False when there is no such token. */
export async function revokeToken(redis: RedisConnection, namespace: string, id: string): Promise<boolean> {
  const result = await REVOKE_SCRIPT.run(
    redis,
    [keys.namespaceTokens(namespace), keys.namespaceTokenUse(namespace)],
    [id],
  );
  return result === 1;
}

/**
 * A new token in place of token `id` (same name, scope and expiry); the old one keeps working
 * for `graceMs`, then stops. Undefined when there is no such (live) token.
 */
export async function rotateToken(
  redis: RedisConnection,
  namespace: string,
  id: string,
  graceMs: number,
  now = Date.now(),
): Promise<IssuedToken | undefined> {
  const { token, digest, prefix } = newSecret(namespace);
  const result = await ROTATE_SCRIPT.run(
    redis,
    [keys.namespaceTokens(namespace), keys.namespaceTokenUse(namespace)],
    [id, digest, tokenIdOf(digest), prefix, now, graceMs],
  );
  if (typeof result !== 'string') return undefined;
  const stored = parseStored(result);
  if (!stored) return undefined;
  return toIssued({ token, digest, prefix }, namespace, stored);
}

/**
 * What a namespace token grants, or undefined (unknown, revoked or expired). Lookup by
 * hash: no secret is ever compared in plain. One HGET in the namespace's slot.
 */
export async function verifyNamespaceToken(
  redis: RedisConnection,
  token: string,
  now = Date.now(),
): Promise<TokenGrant | undefined> {
  const namespace = namespaceOfToken(token);
  if (!namespace) return undefined;
  const digest = hashToken(token);
  const raw = await redis.hget(keys.namespaceTokens(namespace), digest);
  if (raw === null) return undefined;
  const stored = parseStored(raw);
  if (!stored || !isLive(stored, now)) return undefined;
  return {
    namespace,
    id: tokenIdOf(digest),
    scope: stored.scope ?? 'admin',
    expiresAt: stored.expiresAt ?? null,
    digest,
  };
}

// Only for a token that still exists: a use racing its revocation leaves nothing behind.
const TOUCH_SCRIPT = defineScript(
  'tokenTouch',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`,
);

/** Notes that a token was used (callers write this at most once a minute per token). */
export async function recordTokenUse(
  redis: RedisConnection,
  namespace: string,
  digest: string,
  now = Date.now(),
): Promise<void> {
  await TOUCH_SCRIPT.run(
    redis,
    [keys.namespaceTokens(namespace), keys.namespaceTokenUse(namespace)],
    [digest, now],
  );
}
