/**
 * A small bounded cache. Compiled regular expressions and time-zone formatters
 * are cheap to rebuild but not free, and their keys come from user input, so
 * the cache must never grow without bound.
 *
 * Two generations instead of a strict LRU list: a hit in the current
 * generation is a plain Map lookup with no bookkeeping, which matters because
 * matchTrigger consults the cache for every trigger of every push. When the
 * current generation fills up it becomes the old one and the previous old one
 * is dropped; an old entry that is used again moves back into the current one.
 * So entries used since the last rotation always survive, and at most
 * 2 × capacity entries are held.
 */
export class BoundedCache<K, V> {
  #current = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#current.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const hit = this.#current.get(key);
    if (hit !== undefined) return hit;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#store(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    if (this.#current.has(key)) this.#current.set(key, value);
    else this.#store(key, value);
  }

  getOrCreate(key: K, create: (key: K) => V): V {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = create(key);
    this.set(key, value);
    return value;
  }

  clear(): void {
    this.#current.clear();
    this.#old.clear();
  }

  #store(key: K, value: V): void {
    if (this.#current.size >= this.capacity) {
      this.#old = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }
}
