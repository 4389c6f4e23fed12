/**
 * The short version of every scenario of the fault suite (`npm run faults -- --short`), on
 * one stack: Redis with AOF, two apis, two workers, the logs app, real receivers. Each test
 * asserts what a user would notice and what holds on any machine: nothing accepted is lost,
 * and the part of the scenario's expectation that is not about time (the rates, latencies
 * and recovery times are the full run's figures, in faults/results/latest.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from './lib/scenario.js';
import { FaultSuite, SCENARIO_IDS, type ScenarioId, SHORT } from './lib/suite.js';

// Deadlines for a busy two-core machine, not claims: every wait inside follows a condition.
const START_MS = 180_000;
const SCENARIO_MS = 150_000;

let suite: FaultSuite | undefined;
const lines: string[] = [];

beforeAll(async () => {
  suite = await FaultSuite.start(SHORT, (line) => lines.push(line));
}, START_MS);
afterAll(async () => {
  await suite?.stop();
}, START_MS);

async function run(id: ScenarioId): Promise<ScenarioResult> {
  const result = await suite!.run(id);
  // What the scenario saw, should an assertion below fail.
  const context = `${id}: ${result.notes.join('; ')} ${JSON.stringify(result.details).slice(0, 2000)}`;
  expect(result.details.error, context).toBeUndefined();
  expect(result.lost, context).toBe(0);
  expect(result.accepted, context).toBeGreaterThan(0);
  expect((result.details.drain as { settled: boolean }).settled, context).toBe(true);
  return result;
}

const refusals = (r: ScenarioResult) =>
  Object.entries(r.answersDuringFault).filter(([status]) => status !== '202');

/** Every refusal during the fault is a 503 that says when to come back. */
function refusedWith503(r: ScenarioResult) {
  expect(refusals(r).length, 'no push refused during the fault').toBeGreaterThan(0);
  expect(Object.fromEntries(refusals(r)), 'refusals other than 503').toEqual({
    503: r.answersDuringFault['503'],
  });
  expect(r.details.retryAfterOn503).not.toHaveProperty('missing');
}

describe('fault suite, short', () => {
  it('covers every scenario', () => {
    expect(SCENARIO_IDS).toHaveLength(9);
  });

  it(
    'Redis SIGKILL, appendfsync always: nothing accepted is lost; 503 with Retry-After while down',
    async () => {
      refusedWith503(await run('redis-kill-always'));
    },
    SCENARIO_MS,
  );

  it(
    'Redis SIGKILL, appendfsync everysec: lost events at most those acknowledged in its last second',
    async () => {
      const r = await suite!.run('redis-kill-everysec');
      expect(r.details.error).toBeUndefined();
      expect(r.lostEvents).toBeLessThanOrEqual(r.details.ackedInLastSecond as number);
      refusedWith503(r);
    },
    SCENARIO_MS,
  );

  it(
    'Redis SIGSTOP: nothing lost; the api answers 503 while Redis hangs and never hangs itself',
    async () => {
      const r = await run('redis-sigstop');
      refusedWith503(r);
      expect(r.answersDuringFault['0'], 'pushes left unanswered').toBeUndefined();
    },
    SCENARIO_MS,
  );

  it(
    'worker SIGKILL: nothing lost (duplicates are reported, same webhook-id)',
    async () => {
      const r = await run('worker-sigkill');
      expect(r.marks).toHaveProperty('kill1');
    },
    SCENARIO_MS,
  );

  it(
    'rolling restart: nothing lost, no duplicate, no 5xx, every app exits 0',
    async () => {
      const r = await run('rolling-restart');
      expect(r.duplicated).toBe(0);
      const statuses = [...Object.keys(r.answersDuringFault), ...Object.keys(r.errorsOutsideFault)];
      expect(statuses.filter((status) => status === '0' || Number(status) >= 500)).toEqual([]);
      expect(Object.values(r.details.exitCodes as Record<string, number | null>)).toEqual([0, 0]);
    },
    SCENARIO_MS,
  );

  it(
    'Redis maxmemory: 503 with Retry-After at ingest, nothing lost, pushes taken again once memory frees',
    async () => {
      const r = await run('redis-maxmemory');
      refusedWith503(r);
      // Most, not all: a loaded machine's 500 ms Redis deadline may refuse a push now and then.
      expect(r.details.acceptedAfterFault as number).toBeGreaterThan(0.5);
    },
    SCENARIO_MS,
  );

  it(
    'flaky receivers: nothing lost; the healthy triggers get every delivery',
    async () => {
      const r = await run('flaky-receivers');
      // The fault showed: the flaky receiver had more requests than deliveries to answer.
      expect(r.details.receiverRequests as number).toBeGreaterThan(r.expected);
      expect(r.failed).toBe(0);
    },
    SCENARIO_MS,
  );

  it(
    'live tail with stalled clients: nothing lost; every reader gets every record',
    async () => {
      const r = await run('live-tail');
      const d = r.details as { readersReceived: { min: number; max: number } };
      expect(d.readersReceived.min).toBe(d.readersReceived.max);
      expect(d.readersReceived.min).toBeGreaterThanOrEqual(r.delivered);
    },
    SCENARIO_MS,
  );

  it(
    '50 ms between the apps and Redis: nothing lost',
    async () => {
      const r = await run('redis-latency');
      expect(r.details).toHaveProperty('window');
    },
    SCENARIO_MS,
  );
});
