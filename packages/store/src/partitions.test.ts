import { describe, expect, it } from 'vitest';
import { layoutWarnings, mastersHolding, partitionsForMasters } from './partitions.js';

/** `masters` equal slot ranges, as `redis-cli --cluster create` makes them. */
const equalRanges = (masters: number) =>
  Array.from({ length: masters }, (_, i) => [
    [Math.round((i * 16384) / masters), Math.round(((i + 1) * 16384) / masters) - 1] as [number, number],
  ]);

describe('partitionsForMasters', () => {
  it('is one partition per master for the usual cluster sizes, each master holding one', () => {
    for (const masters of [1, 2, 3, 4, 5, 6, 8]) {
      expect(partitionsForMasters(equalRanges(masters))).toBe(masters);
      expect(mastersHolding(equalRanges(masters), masters).size).toBe(masters);
    }
  });

  it('takes a multiple of the masters when fewer partitions would leave one without work', () => {
    // 7 equal masters: the first 7 golden-ratio slots miss one; 14 cover all.
    expect(partitionsForMasters(equalRanges(7))).toBe(14);
    expect(mastersHolding(equalRanges(7), 14).size).toBe(7);
    // An uneven layout (a master with a small range after a reshard).
    const uneven: Array<Array<[number, number]>> = [[[0, 7999]], [[8000, 8199]], [[8200, 16383]]];
    const count = partitionsForMasters(uneven);
    expect(count % 3).toBe(0);
    expect(mastersHolding(uneven, count).size).toBe(3);
  });
});

describe('layoutWarnings', () => {
  it('says when the count leaves masters idle or replaces the recorded one', () => {
    expect(layoutWarnings({ partitions: 3, source: 'masters', masters: 3 }, 'producer')).toEqual([]);
    expect(layoutWarnings({ partitions: 1, source: 'QUEUE_PARTITIONS', masters: 3 }, 'producer')).toEqual([
      expect.stringMatching(/1 partitions on 3 masters/),
    ]);
    expect(
      layoutWarnings(
        { partitions: 6, source: 'QUEUE_PARTITIONS', masters: 3, recordedBefore: 3 },
        'producer',
      ),
    ).toEqual([expect.stringMatching(/replaces the cluster's recorded 3: restart every worker/)]);
  });
});
