/**
 * Micro-benchmark of tag matching in packages/core: how many trigger filters a
 * worker can evaluate per second, per trigger type and for a repository with
 * 50 triggers. Run: node --conditions=source --import tsx bench/core-match.bench.ts
 */
import { compileTagFilter, matchTrigger, type Trigger } from '@registry-triggers/core';

type Filter = Pick<Trigger, 'type' | 'tags' | 'expression'>;

const ROUNDS = 7;
const ROUND_TARGET_MS = 200;

// A mix of pushed tags so hits and misses, short and long tags all count.
const TAGS = Array.from({ length: 1024 }, (_, i) => {
  switch (i % 4) {
    case 0:
      return `release-v${i % 17}.${i % 5}`;
    case 1:
      return `v${i % 12}`;
    case 2:
      return 'latest';
    default:
      return `sha-${(i * 2654435761).toString(16)}-build-${i}`;
  }
});

let sink = 0; // keeps the JIT from dropping the work

interface Case {
  name: string;
  /** Trigger evaluations done by one call of `once`. */
  evaluationsPerCall: number;
  once: (tag: string) => number;
  calls: number;
  rates: number[];
}

function run(c: Case, calls: number): number {
  const started = performance.now();
  for (let i = 0; i < calls; i++) sink += c.once(TAGS[i & 1023]!);
  return performance.now() - started;
}

// Every case is calibrated (which also warms it up) before any is measured,
// and rounds go round-robin over the cases: the shared call site is equally
// polymorphic for all of them and a noisy neighbour hits all of them alike.
function measureAll(cases: Case[]): void {
  for (const c of cases) {
    let calls = 1024;
    let elapsed = run(c, calls);
    while (elapsed < ROUND_TARGET_MS / 4) {
      calls *= 4;
      elapsed = run(c, calls);
    }
    c.calls = Math.max(1024, Math.round((calls * ROUND_TARGET_MS) / elapsed));
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) c.rates.push((c.calls * c.evaluationsPerCall) / (run(c, c.calls) / 1000));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const newCase = (name: string, evaluationsPerCall: number, once: (tag: string) => number): Case => ({
  name,
  evaluationsPerCall,
  once,
  calls: 0,
  rates: [],
});

const single: Array<[string, Filter]> = [
  ['ALL', { type: 'ALL' }],
  [
    'TAG_LIST (10 tags)',
    { type: 'TAG_LIST', tags: ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'latest'] },
  ],
  ['TAG_REG_EXP release-v.*', { type: 'TAG_REG_EXP', expression: 'release-v.*' }],
  ['TAG_REG_EXP semver', { type: 'TAG_REG_EXP', expression: 'release-v[0-9]+\\.[0-9]+(-rc[0-9]+)?' }],
];

// A busy repository: every kind of trigger, several expressions.
const repository: Filter[] = Array.from({ length: 50 }, (_, i): Filter => {
  if (i % 5 === 0) return { type: 'ALL' };
  if (i % 5 <= 2) return { type: 'TAG_LIST', tags: [`v${i % 12}`, 'latest', `release-v${i % 17}.0`] };
  return {
    type: 'TAG_REG_EXP',
    expression: i % 2 === 0 ? `release-v${i % 17}\\..*` : `(v|sha-)[0-9a-f]{${1 + (i % 4)}}.*`,
  };
});

const cases: Case[] = [];
for (const [name, filter] of single) {
  cases.push(newCase(`matchTrigger ${name}`, 1, (tag) => (matchTrigger(filter, tag) ? 1 : 0)));
  const compiled = compileTagFilter(filter);
  cases.push(newCase(`compileTagFilter ${name}`, 1, (tag) => (compiled(tag) ? 1 : 0)));
}
cases.push(
  newCase('matchTrigger, 50-trigger repository', repository.length, (tag) => {
    let fired = 0;
    for (const trigger of repository) if (matchTrigger(trigger, tag)) fired++;
    return fired;
  }),
);

measureAll(cases);

const format = (rate: number) => Math.round(rate).toLocaleString('en-US');
console.log(`node ${process.version}, ${ROUNDS} rounds of ~${ROUND_TARGET_MS} ms per case, median`);
console.table(
  cases.map((c) => {
    const rate = median(c.rates);
    return {
      case: c.name,
      'matches/s': format(rate),
      'pushes/s': c.evaluationsPerCall > 1 ? format(rate / c.evaluationsPerCall) : '',
    };
  }),
);
if (sink === -1) console.log(sink);
