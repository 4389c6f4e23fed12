import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('never holds more than twice its capacity', () => {
    const cache = new BoundedCache<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      cache.set(i, i);
      expect(cache.size).toBeLessThanOrEqual(20);
    }
  });

  it('keeps the entries used since the last rotation and drops those unused for two', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3); // rotation: a and b become old
    expect(cache.get('a')).toBe(1); // used again: back in the current generation
    cache.set('d', 4); // rotation: c and a become old, b is dropped
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.get('d')).toBe(4);
  });

  it('replaces a value set twice', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.set('a', 10);
    expect(cache.get('a')).toBe(10);
    cache.set('c', 30);
    expect(cache.get('c')).toBe(30);
  });

  it('creates once and then reuses', () => {
    const cache = new BoundedCache<string, object>(10);
    let created = 0;
    const make = () => {
      created++;
      return {};
    };
    const first = cache.getOrCreate('k', make);
    expect(cache.getOrCreate('k', make)).toBe(first);
    expect(created).toBe(1);
  });

  it('does not cache a value whose creation throws', () => {
    const cache = new BoundedCache<string, number>(10);
    expect(() =>
      cache.getOrCreate('k', () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
  });
});
