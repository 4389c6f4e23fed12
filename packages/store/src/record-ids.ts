/** Record ids (stream entry ids) and the stream entries records are stored as. */
import type { AccessRecord } from '@registry-triggers/core';

export type NewAccessRecord = Omit<AccessRecord, 'id'>;

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
export const MAX_ID_PART = 18446744073709551615n;
/** A stream id Redis accepts: both parts fit in 64 bits (a larger one is a Redis error, not a miss). */
export const isRecordId = (id: string) => {
  const parts = STREAM_ID.exec(id);
  return parts !== null && BigInt(parts[1]!) <= MAX_ID_PART && BigInt(parts[2]!) <= MAX_ID_PART;
};

export function fieldsToObject(fields: string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) object[fields[i]!] = fields[i + 1]!;
  return object;
}

export function decodeRecord(id: string, fields: string[]): AccessRecord | undefined {
  const raw = fieldsToObject(fields).r;
  return raw ? { id, ...(JSON.parse(raw) as NewAccessRecord) } : undefined;
}

export const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));

/**
 * The greatest id below `id`, or undefined below 0-0. Redis refuses an exclusive bound
 * '(0-0' as an end ("invalid end ID"), so pages step below an id themselves.
 */
export function idBefore(id: string): string | undefined {
  const [ms, seq] = id.split('-').map(BigInt) as [bigint, bigint];
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_ID_PART}` : undefined;
}

/** Orders two record ids as the log does: negative when `a` is older. */
export function compareRecordIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
