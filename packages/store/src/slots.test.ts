import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keys } from './keys.js';
import { queueNames } from './queues.js';
import { keySlot, partitionSlot, SLOT_COUNT } from './slots.js';

// ioredis's own slot function, as a second opinion on ours.
const clusterKeySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/** Which of `masters` equal slot ranges (the `redis-cli --cluster create` layout) holds `slot`. */
const masterOf = (slot: number, masters: number) => Math.floor((slot * masters) / SLOT_COUNT);

describe('slots', () => {
  it('computes the slot of any key as Redis does, hash tags included', () => {
    fc.assert(
      fc.property(
        // Without '{': cluster-key-slot reads some empty tags differently from Redis (below).
        fc.string({ unit: 'grapheme', maxLength: 40 }).filter((key) => !key.includes('{')),
        fc.string({ maxLength: 10 }),
        (key, tag) => {
          expect(keySlot(key)).toBe(clusterKeySlot(key));
          if (tag.length > 0 && !tag.includes('}')) expect(keySlot(`a{${tag}}b`)).toBe(keySlot(tag));
        },
      ),
    );
    // CLUSTER KEYSLOT of redis-server 7.0.15 (cluster-key-slot disagrees on 'foo{}{bar}').
    const redisSays = {
      '{user1000}.following': 3443,
      'foo{}{bar}': 8363,
      'foo{{bar}}zap': 4015,
      'foo{bar}{zap}': 5061,
    };
    for (const [key, slot] of Object.entries(redisSays)) expect(keySlot(key)).toBe(slot);
  });

  it('puts both queues of a partition on the partition slot', () => {
    for (let partition = 0; partition < 64; partition++) {
      for (const queue of Object.values(queueNames)) {
        expect(clusterKeySlot(`${keys.queuePrefix(queue, partition)}:${queue}:wait`)).toBe(
          partitionSlot(partition),
        );
      }
    }
    expect(keys.queuePrefix(queueNames.pushEvents, 0)).toMatch(/^rt:\{q:push-events:0:[0-9a-z]+\}$/);
  });

  it('spreads partitions evenly over masters with equal slot ranges', () => {
    const spread = (partitions: number, masters: number) => {
      const counts = new Array<number>(masters).fill(0);
      for (let p = 0; p < partitions; p++) counts[masterOf(partitionSlot(p), masters)]!++;
      return counts;
    };
    expect(spread(3, 3)).toEqual([1, 1, 1]);
    expect(spread(6, 3)).toEqual([2, 2, 2]);
    expect(spread(4, 4)).toEqual([1, 1, 1, 1]);
    expect(spread(6, 6)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(spread(8, 4)).toEqual([2, 2, 2, 2]);
    // Any count: no master holds more than one partition above an even share, plus one.
    for (let masters = 2; masters <= 8; masters++) {
      for (let partitions = masters; partitions <= 32; partitions++) {
        expect(Math.max(...spread(partitions, masters))).toBeLessThanOrEqual(
          Math.ceil(partitions / masters) + 1,
        );
      }
    }
  });
});
