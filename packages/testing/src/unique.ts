import { randomBytes } from 'node:crypto';

/**
 * A name no other test uses, valid as a Redis key prefix and as a registry namespace or
 * repository segment (lower-case letters and digits): tests that share a Redis server
 * keep apart by naming their data with it.
 */
export function uniqueName(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}
