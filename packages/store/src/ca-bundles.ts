/**
 * Each namespace's private CA bundle (PEM, checked by core's checkCaBundle before it is put).
 * Its sha256 is kept beside it, so a worker asks for the 64-character fingerprint on every
 * HTTPS delivery and fetches the bundle only when it has no dispatcher for it yet.
 */
import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';

export interface StoredCaBundle {
  pem: string;
  sha256: string;
}

export class CaBundleStore {
  constructor(private readonly redis: RedisConnection) {}

  async put(namespace: string, pem: string): Promise<StoredCaBundle> {
    const sha256 = createHash('sha256').update(pem).digest('hex');
    await this.redis.hset(keys.caBundle(namespace), 'pem', pem, 'sha256', sha256);
    return { pem, sha256 };
  }

  async get(namespace: string): Promise<StoredCaBundle | undefined> {
    const [pem, sha256] = await this.redis.hmget(keys.caBundle(namespace), 'pem', 'sha256');
    return pem && sha256 ? { pem, sha256 } : undefined;
  }

  /** The sha256 of the namespace's bundle, or undefined when it has none. */
  async fingerprint(namespace: string): Promise<string | undefined> {
    return (await this.redis.hget(keys.caBundle(namespace), 'sha256')) ?? undefined;
  }

  /** True when there was a bundle to delete. */
  async delete(namespace: string): Promise<boolean> {
    return (await this.redis.del(keys.caBundle(namespace))) === 1;
  }
}
