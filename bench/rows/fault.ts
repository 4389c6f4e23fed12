/**
 * Row 8: a repository with ten ALL triggers, nine to a healthy receiver and the tenth to a
 * second origin that is healthy (no fault) or never answers (fault): 10% of the triggers.
 * Per mode: healthy deliveries/s with the pipeline kept full, then healthy latency at a
 * steady rate of half the no-fault capacity of the same round.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { counterDelta, INGEST_TOKEN, scrapeCounters } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { measureLatency, pushFor, saturate, type Topology, triggerBody } from './pipeline.js';
import { WORKER_COUNTERS } from './throughput.js';

const HEALTHY_PER_PUSH = 9;

export async function faultRow(ctx: StackContext, topology: Topology): Promise<RowResult> {
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, 16);
  const { fault } = topology;
  const tenth = fault.triggerIds[9]!;
  const pointTenthAt = (label: string) =>
    ctx.admin.replaceTrigger(fault.namespace, fault.repository, tenth, triggerBody(ctx, 't9', label));
  const rounds: Array<Record<string, number | string>> = [];
  const evidence: Record<string, unknown>[] = [];

  for (let r = 0; r < ctx.options.rounds; r++) {
    const row: Record<string, number | string> = { round: r + 1 };
    let rate = 0;
    for (const mode of ['noFault', 'fault'] as const) {
      ctx.setPhase(`fault ${mode} r${r + 1}`);
      await pointTenthAt(mode === 'fault' ? 'hang' : 'fast-b');
      const before = await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS);
      const hangBefore = ctx.receiver.count('hang');
      const saturated = await saturate(ctx, {
        concurrency: 16,
        cap: 2000,
        fanout: HEALTHY_PER_PUSH,
        sink: ctx.receiver,
        labels: ['fast'],
        send: (seq) => client.push(pushFor(fault, `v${seq % 1000}`)),
      });
      if (mode === 'noFault') rate = Math.max(5, (0.5 * saturated.rate) / HEALTHY_PER_PUSH);
      const latency = await measureLatency(ctx, {
        ratePerSec: rate,
        target: fault,
        fanout: HEALTHY_PER_PUSH,
        labels: ['fast'],
        push: (event) => client.push(event),
      });
      const delta = counterDelta(before, await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS));
      evidence.push({
        round: r + 1,
        mode,
        hangRequests: ctx.receiver.count('hang') - hangBefore,
        workerCounters: delta,
      });
      row[`${mode}Rate`] = Math.round(saturated.rate);
      row[`${mode}P99`] = round(latency.p99, 1);
      row[`${mode}P50`] = round(latency.p50, 1);
      ctx.log(
        `  fault round ${r + 1} ${mode}: healthy ${fmt(saturated.rate)} deliveries/s; at ${fmt(rate * HEALTHY_PER_PUSH)} /s p50 ${latency.p50.toFixed(1)} ms p99 ${latency.p99.toFixed(1)} ms`,
      );
    }
    // Back to healthy; hanging requests are cut so their retries go to the healthy origin.
    await pointTenthAt('fast-b');
    ctx.receiver.send({ type: 'release' });
    await sleep(1000);
    row.pushesPerSecForLatency = round(rate, 1);
    row.ratio = round((row.faultRate as number) / (row.noFaultRate as number));
    row.p99Ratio = round((row.faultP99 as number) / (row.noFaultP99 as number));
    rounds.push(row);
  }
  await client.close();
  const ratio = median(rounds.map((x) => x.ratio as number));
  const p99Ratio = median(rounds.map((x) => x.p99Ratio as number));
  const med = (key: string, digits = 0) => fmt(median(rounds.map((x) => x[key] as number)), digits);
  return {
    id: 'fault',
    figure: 'healthy deliveries/s while 10% of triggers point at a receiver that never answers',
    // The p99 is judged by its ratio in each round (both modes measured back to back), so the
    // value shows that median too: medians of the two p99 columns may come from other rounds.
    value: `${med('faultRate')} deliveries/s; healthy p99 ${med('faultP99', 1)} ms, ${fmt(p99Ratio, 2)}x of no-fault (median of rounds)`,
    baseline: `no fault: ${med('noFaultRate')} deliveries/s; p99 ${med('noFaultP99', 1)} ms`,
    ratio: round(ratio),
    target: '>= 0.8x, healthy p99 < 2x no-fault',
    met: ratio >= 0.8 && p99Ratio < 2,
    rounds,
    details: { p99Ratio: round(p99Ratio), evidence },
  };
}
