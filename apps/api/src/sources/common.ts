/**
 * What every registry reader shares: where a source's repository path puts the push
 * (namespace + repository), the checks of its names against our rules (a 400 naming the
 * source's field and value), and the event id of a source that has none.
 */
import { createHash } from 'node:crypto';
import {
  digestSchema,
  fullNameLengthRule,
  isFullNameWithinLimit,
  namespaceNameSchema,
  quoteInput,
  RESERVED_KEY_RULE,
  repositoryNameSchema,
  tagSchema,
} from '@registry-triggers/core';
import { findReservedKey, HttpError } from '@registry-triggers/http-kit';
import type { z } from 'zod';
import type { IncomingPushEvent } from '../ingest.js';

/** The sources with a route of their own; `push` and `distribution` are the older routes. */
export const SOURCES = ['harbor', 'dockerhub', 'quay', 'azure', 'ecr', 'gar', 'cloudevents'] as const;
export type Source = (typeof SOURCES)[number];

/** What one request of a source holds: the tagged pushes, and how many other things it reported. */
export interface SourceReading {
  pushes: IncomingPushEvent[];
  ignored: number;
  /** A liveness check of the sender (Azure's ping): answered 200, nothing to count. */
  ping?: true;
}

export const nothing = (ignored = 1): SourceReading => ({ pushes: [], ignored });

/**
 * Where the request says its pushes go. `namespace`: `?namespace=` of the route; every
 * repository path of the request then lives under it, whole. `tokenNamespace`: the namespace
 * of a namespace token, the home of single-segment paths when the route names none.
 */
export interface Placement {
  namespace?: string | undefined;
  tokenNamespace?: string | undefined;
}

/** A 400 naming the source's field, the rule, and (quoted, cut short) what the source sent. */
export function sourceFieldError(field: string, rule: string, value?: string): HttpError {
  const message = value === undefined ? rule : `${rule} (got ${quoteInput(value)})`;
  return new HttpError(400, 'validation-failed', `${field}: ${message}`, [{ path: field, message }]);
}

/** `sent`: the source's whole value, quoted in the error (a half of it would not say which part). */
function check(schema: z.ZodType, value: string, field: string, sent = value): void {
  const result = schema.safeParse(value);
  if (!result.success) throw sourceFieldError(field, result.error.issues[0]?.message ?? 'invalid', sent);
}

/**
 * A source's repository path as our namespace + repository: `?namespace=` when given (the
 * whole path is the repository), else `a/b/c` → `a` + `b/c`, else (one segment) the
 * namespace token's namespace; without either, a 400 saying how to name one.
 */
export function placeRepository(
  path: string,
  field: string,
  placement: Placement,
): { namespace: string; repository: string } {
  const slash = path.indexOf('/');
  let namespace: string;
  let repository: string;
  if (placement.namespace !== undefined) {
    namespace = placement.namespace;
    repository = path;
  } else if (slash > 0) {
    namespace = path.slice(0, slash);
    repository = path.slice(slash + 1);
  } else if (placement.tokenNamespace !== undefined && slash < 0) {
    namespace = placement.tokenNamespace;
    repository = path;
  } else {
    throw sourceFieldError(
      field,
      slash < 0
        ? 'the repository has no namespace: add ?namespace=<namespace> to the URL or post with a namespace token'
        : 'repository must not start with "/"',
      path,
    );
  }
  if (placement.namespace === undefined) check(namespaceNameSchema, namespace, field, path);
  check(repositoryNameSchema, repository, field, path);
  if (!isFullNameWithinLimit(namespace, repository)) throw sourceFieldError(field, fullNameLengthRule, path);
  return { namespace, repository };
}

export function checkTag(tag: string, field: string): string {
  check(tagSchema, tag, field);
  return tag;
}

/**
 * A digest as the source sent it; an absent one stays absent (`""`), never invented. One that
 * is not a digest is `""` too, not a 400: the tag was pushed all the same, and a sender that
 * drops what it cannot deliver (EventBridge drops a 400) would lose the push. The vendors'
 * own documentation samples carry such digests (ECR's has 60 hex digits, Artifact Registry's
 * ends in "...").
 */
export function checkDigest(digest: string | undefined): string {
  if (digest === undefined || digest === '') return '';
  return digestSchema.safeParse(digest).success ? digest : '';
}

/** A tag never holds ":", a digest always does: Harbor and zot put the digest there for untagged pushes. */
export const isDigestReference = (reference: string): boolean => reference.includes(':');

const PRINTABLE_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * A hash of what identifies a push, for sources without an id: the same retry, the same id.
 * The parts start with the placed namespace and repository (not the source's path): the same
 * webhook placed elsewhere by `?namespace=` is another push.
 */
export function stableEventId(source: Source, ...parts: Array<string | number>): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);
  return `${source}-${hash}`;
}

/**
 * The source's own event id, and a per-tag suffix when one event names several tags (each
 * tag is its own push and needs its own id). An id that is not printable ASCII of at most
 * 200 characters is hashed, staying stable.
 */
export function sourceEventId(source: Source, id: string, tag?: string): string {
  const full = tag === undefined ? id : `${id}:${tag}`;
  return PRINTABLE_ID.test(full) ? full : stableEventId(source, id, tag ?? '');
}

/** epoch ms of an ISO-8601 time, or undefined (the api then uses the arrival time). */
export function isoTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** epoch ms of epoch seconds (Harbor `occur_at`, Docker Hub `pushed_at`). */
export function epochSeconds(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : undefined;
}

/** What a reader gets of the request: already-parsed JSON, a header lookup, where pushes go, the time. */
export interface SourceRequest {
  body: unknown;
  header(name: string): string | undefined;
  placement: Placement;
  /** epoch ms of arrival */
  now: number;
}

export type SourceReader = (request: SourceRequest) => SourceReading;

/** JSON of a base64 text (Pub/Sub `message.data`, CloudEvents `data_base64`), or a 400 naming the field. */
export function decodeBase64Json(encoded: string, field: string): unknown {
  const bytes = Buffer.from(encoded, 'base64');
  // Buffer skips what is not base64; a re-encoding that differs means the text was not base64.
  const canonical = (value: string) => value.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (canonical(bytes.toString('base64')) !== canonical(encoded.replace(/\s+/g, '')))
    throw sourceFieldError(field, 'must be base64', encoded);
  let decoded: unknown;
  try {
    decoded = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw sourceFieldError(field, 'must be base64 of a JSON object', encoded);
  }
  // The same rule as for the body itself (refuseReservedKeys), for what was inside it.
  const reserved = findReservedKey(decoded);
  if (reserved !== undefined) throw sourceFieldError(`${field}.${reserved}`, RESERVED_KEY_RULE, reserved);
  return decoded;
}
