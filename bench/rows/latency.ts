/** Row 6: latency from push to receiver at a steady 300 pushes/s (open loop), one ALL trigger per push. */
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { INGEST_TOKEN } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { measureLatency, type Topology } from './pipeline.js';

export const LATENCY_RATE = 300;

export async function latencyRow(ctx: StackContext, topology: Topology): Promise<RowResult> {
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, 32);
  const rounds: Array<Record<string, number | string>> = [];
  for (let r = 0; r < ctx.options.rounds; r++) {
    ctx.setPhase(`latency r${r + 1}`);
    const result = await measureLatency(ctx, {
      ratePerSec: LATENCY_RATE,
      target: topology.one,
      fanout: 1,
      labels: ['fast'],
      push: (event) => client.push(event),
      durationMs: ctx.options.warmupMs + ctx.options.windowMs + 1000,
    });
    rounds.push({
      round: r + 1,
      deliveries: result.deliveries,
      lost: result.lost,
      p50: round(result.p50, 1),
      p90: round(result.p90, 1),
      p99: round(result.p99, 1),
      max: round(result.max, 1),
      acceptedP50: round(result.acceptedP50, 1),
      acceptedP99: round(result.acceptedP99, 1),
      ingestP99: round(result.ingestP99, 1),
      generatorLagP99: round(result.scheduleLagP99, 1),
    });
    ctx.log(
      `  latency round ${r + 1}: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms (${result.deliveries} deliveries, generator lag p99 ${result.scheduleLagP99.toFixed(1)} ms)`,
    );
  }
  await client.close();
  const p50 = median(rounds.map((x) => x.p50 as number));
  const p99 = median(rounds.map((x) => x.p99 as number));
  return {
    id: 'latency',
    figure: `latency push sent -> receiver got it, steady ${LATENCY_RATE} pushes/s, p50 / p99`,
    value: `p50 ${fmt(p50, 1)} ms / p99 ${fmt(p99, 1)} ms`,
    baseline: 'absolute',
    ratio: null,
    target: 'p99 < 50 ms',
    met: p99 < 50,
    rounds,
    notes: [
      'Measured from the moment the generator sent the push request (its time is in the tag) to the arrival of the delivery request head at the receiver; "accepted" columns measure from the 202 instead.',
    ],
  };
}
