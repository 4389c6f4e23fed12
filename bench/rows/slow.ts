/**
 * Row 7: deliveries/s from one worker process to receivers that answer after 250 ms,
 * against WORKER_CONCURRENCY / 0.25 s (every slot busy all the time). Measured for one
 * receiver origin (the row's definition) and for the same load spread over four origins,
 * which separates the per-origin in-flight bound from the worker's own concurrency.
 */
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { counterDelta, INGEST_TOKEN, scrapeCounters } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { pushFor, SLOW_MS, SLOW_ORIGINS, saturate, type Topology } from './pipeline.js';
import { WORKER_COUNTERS } from './throughput.js';

export async function slowRow(ctx: StackContext, topology: Topology): Promise<RowResult[]> {
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, 8);
  const ideal = ctx.options.workerConcurrency / (SLOW_MS / 1000);
  const spreadLabels = Array.from({ length: SLOW_ORIGINS }, (_, i) => `slow${i}`);
  const rounds: Array<Record<string, number | string>> = [];
  for (let r = 0; r < ctx.options.rounds; r++) {
    const row: Record<string, number | string> = { round: r + 1 };
    for (const variant of ['one', 'spread'] as const) {
      ctx.setPhase(`slow ${variant} r${r + 1}`);
      const before = await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS);
      const result = await saturate(ctx, {
        concurrency: 8,
        cap: 4 * ctx.options.workerConcurrency,
        fanout: 1,
        sink: ctx.receiver,
        labels: variant === 'one' ? ['slow0'] : spreadLabels,
        send: (seq) =>
          client.push(
            pushFor(
              variant === 'one' ? topology.slowOne : topology.slowSpread[seq % SLOW_ORIGINS]!,
              `v${seq % 1000}`,
            ),
          ),
      });
      const delta = counterDelta(before, await scrapeCounters(ctx.workerMetricsUrl, WORKER_COUNTERS));
      const postponed = Object.entries(delta)
        .filter(([key]) => key.startsWith('delivery_postponed_total'))
        .reduce((sum, [, value]) => sum + value, 0);
      row[variant === 'one' ? 'product' : 'spread4'] = Math.round(result.rate);
      row[variant === 'one' ? 'ratio' : 'spread4Ratio'] = round(result.rate / ideal);
      row[variant === 'one' ? 'postponed' : 'spread4Postponed'] = postponed;
    }
    row.baseline = Math.round(ideal);
    rounds.push(row);
    ctx.log(
      `  slow round ${r + 1}: one origin ${fmt(row.product as number)} /s, ${SLOW_ORIGINS} origins ${fmt(row.spread4 as number)} /s, ideal ${fmt(ideal)} /s`,
    );
  }
  await client.close();
  const ratio = median(rounds.map((x) => x.ratio as number));
  const spreadRatio = median(rounds.map((x) => x.spread4Ratio as number));
  const base = {
    baseline: `WORKER_CONCURRENCY ${ctx.options.workerConcurrency} / ${SLOW_MS / 1000} s = ${fmt(ideal)} deliveries/s`,
    target: '>= 0.8x',
    rounds,
  };
  return [
    {
      id: 'slow-receiver',
      figure: `deliveries/s, receiver answers after ${SLOW_MS} ms, one worker process, one receiver origin`,
      value: `${fmt(median(rounds.map((x) => x.product as number)))} deliveries/s`,
      ratio: round(ratio),
      met: ratio >= 0.8,
      ...base,
    },
    {
      id: 'slow-receiver-spread',
      figure: `(diagnostic) the same load over ${SLOW_ORIGINS} receiver origins`,
      value: `${fmt(median(rounds.map((x) => x.spread4 as number)))} deliveries/s`,
      ratio: round(spreadRatio),
      met: spreadRatio >= 0.8,
      ...base,
    },
  ];
}
