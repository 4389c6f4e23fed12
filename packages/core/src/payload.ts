/**
 * The delivery body, byte for byte the Alibaba Cloud Container Registry
 * format, so receivers written for ACR work unchanged.
 */
import { z } from 'zod';
import { BoundedCache } from './bounded-cache.js';

export const repoTypeSchema = z.enum(['PUBLIC', 'PRIVATE'], { error: 'repoType must be PUBLIC or PRIVATE' });
export type RepoType = z.infer<typeof repoTypeSchema>;

/** ACR's value for repositories that are neither certified nor imported. */
export const NO_CERTIFIED = 'NO_CERTIFIED';

export interface RepositoryInfo {
  namespace: string;
  name: string;
  region: string;
  /** epoch ms */
  createdAt: number;
  repoType: RepoType;
  /** ACR default 'NO_CERTIFIED' */
  authenticationType: string;
  /** ACR default 'NO_CERTIFIED' */
  originType: string;
}

export interface PushInfo {
  digest: string;
  /** epoch ms */
  pushedAt: number;
  tag: string;
}

// Building a DateTimeFormat costs far more than using one; a process uses one
// or two zones, and the bound only matters if callers pass arbitrary ones.
const formatters = new BoundedCache<string, Intl.DateTimeFormat>(64);

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  return formatters.getOrCreate(
    timeZone,
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        // h23, not hour12: false, which some ICU versions render as "24" at midnight.
        hourCycle: 'h23',
      }),
  );
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

const stamp = (y: number, mo: number, d: number, h: number, mi: number, s: number): string =>
  `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;

/** `YYYY-MM-DD HH:mm:ss` in an IANA time zone, 24-hour clock. Throws RangeError for an unknown zone. */
export function formatPayloadTime(epochMs: number, timeZone: string): string {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a time: ${epochMs}`);
  const date = new Date(epochMs);
  if (Number.isNaN(date.getTime())) throw new RangeError(`time out of range: ${epochMs}`);
  if (timeZone === 'UTC') {
    // The default zone needs no ICU call; payload.test.ts checks it against Intl.
    return stamp(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
    );
  }
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(date)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return stamp(
    parts['year'] ?? 0,
    parts['month'] ?? 0,
    parts['day'] ?? 0,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
}

export function buildAcrPayload(push: PushInfo, repo: RepositoryInfo, timeZone: string): string {
  // JSON.stringify keeps insertion order for string keys: this literal is the wire order.
  return JSON.stringify({
    push_data: {
      digest: push.digest,
      pushed_at: formatPayloadTime(push.pushedAt, timeZone),
      tag: push.tag,
    },
    repository: {
      date_created: formatPayloadTime(repo.createdAt, timeZone),
      name: repo.name,
      namespace: repo.namespace,
      region: repo.region,
      repo_authentication_type: repo.authenticationType,
      repo_full_name: `${repo.namespace}/${repo.name}`,
      repo_origin_type: repo.originType,
      repo_type: repo.repoType,
    },
  });
}
