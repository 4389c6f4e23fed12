/**
 * Row 9a: the worker's resident set at steady load. One long phase at a constant push rate
 * the machine sustains (10 matching triggers per push, the fast receiver), RSS sampled
 * every 500 ms. Its first quarter warms the heap up to the load (V8 grows its spaces on
 * demand) and is not judged; flat means the last fifth of the rest is within 10% of its
 * first fifth. The RSS across every
 * earlier row (different loads: hanging receivers, thousands of delayed jobs) is kept in
 * the details as a diagnostic, not judged.
 *
 * Row 9b (issue 19): the same steady load (50 pushes/s x 10 triggers = 500 notifications/s)
 * on the minimal pipeline (bench/agents/minimal-pipeline.ts), right after ours; the median
 * RSS after a quarter of warm-up, ours / its.
 */
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { INGEST_TOKEN, type RssSample } from '../lib/stack.js';
import { median, round, slope } from '../lib/stats.js';
import { MINIMAL_REPOSITORIES, measureLatency, type Topology } from './pipeline.js';

export const STEADY_PHASE = 'steady';
export const STEADY_MINIMAL_PHASE = 'steady-minimal';
const PUSHES_PER_SECOND = 50;

/** Runs the steady phase; the caller's RSS sampler tags its samples with STEADY_PHASE. */
export async function runSteadyLoad(ctx: StackContext, topology: Topology): Promise<Record<string, number>> {
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, 32);
  ctx.setPhase(STEADY_PHASE);
  const result = await measureLatency(ctx, {
    ratePerSec: PUSHES_PER_SECOND,
    target: topology.fan,
    fanout: topology.fan.triggerIds.length,
    labels: ['fast'],
    push: (event) => client.push(event),
    durationMs: ctx.options.quick ? 30_000 : 60_000,
  });
  ctx.setPhase('after');
  await client.close();
  return { deliveries: result.deliveries, lost: result.lost, p99: round(result.p99, 1) };
}

/** The same steady load on the minimal pipeline; the sampler tags its samples STEADY_MINIMAL_PHASE. */
export async function runMinimalSteadyLoad(ctx: StackContext): Promise<Record<string, number>> {
  const client = new PushClient(`http://127.0.0.1:${ctx.minimalPipeline.ports.http}`, INGEST_TOKEN, 32);
  const [namespace, repository] = MINIMAL_REPOSITORIES.fan.split('/') as [string, string];
  ctx.setPhase(STEADY_MINIMAL_PHASE);
  const result = await measureLatency(ctx, {
    ratePerSec: PUSHES_PER_SECOND,
    target: { namespace, repository, triggerIds: [] },
    fanout: 10,
    labels: ['minimal'],
    push: (event) => client.push(event),
    durationMs: ctx.options.quick ? 30_000 : 60_000,
  });
  ctx.setPhase('after');
  await client.close();
  return { deliveries: result.deliveries, lost: result.lost, p99: round(result.p99, 1) };
}

/** RSS (MiB) of one process over a phase, after its first quarter (the heap growing to the load). */
function steadyRss(samples: RssSample[], phase: string, name: string): number[] {
  const inPhase = samples.filter((s) => s.phase === phase && s.rss[name] !== undefined);
  return inPhase.slice(Math.floor(inPhase.length / 4)).map((s) => s.rss[name]!);
}

export function minimalRssRow(
  samples: RssSample[],
  ours: Record<string, number>,
  minimal: Record<string, number>,
  loadAverage: number[],
): RowResult {
  const product = steadyRss(samples, STEADY_PHASE, 'worker');
  const baseline = steadyRss(samples, STEADY_MINIMAL_PHASE, 'minimalPipeline');
  const ratio = median(product) / median(baseline);
  return {
    id: 'worker-rss-minimal',
    figure: `worker RSS at a steady ${PUSHES_PER_SECOND * 10} notifications/s (${PUSHES_PER_SECOND} pushes/s x 10 triggers), median after a quarter of warm-up`,
    value: `${fmt(median(product), 1)} MiB (max ${fmt(Math.max(...product), 1)})`,
    baseline: `minimal pipeline, same load: ${fmt(median(baseline), 1)} MiB (max ${fmt(Math.max(...baseline), 1)})`,
    ratio: round(ratio),
    target: '<= 1.5x',
    met: ratio <= 1.5,
    rounds: [],
    details: { ourLoad: ours, minimalLoad: minimal, loadAverage },
    notes: [
      "The minimal pipeline is one process (its node:http ingest, both BullMQ workers, undici): its RSS includes an ingest that our worker's does not, so the baseline is, if anything, generous to us.",
      'Ours runs from TypeScript through tsx (tsx keeps compiled modules in memory), as `npm start` does; the minimal pipeline is forked through tsx too.',
      'Both phases run in the same process lifetime, ours first; each process had run the same earlier rows of the run (its heap may keep what they grew).',
    ],
  };
}

export function steadyRssRow(samples: RssSample[], load: Record<string, number>): RowResult {
  const phase = samples.filter((s) => s.phase === STEADY_PHASE && s.rss.worker !== undefined);
  const steady = phase.slice(Math.floor(phase.length / 4));
  const t0 = steady[0]?.t ?? 0;
  const points = steady.map((s) => [(s.t - t0) / 60_000, s.rss.worker!] as const);
  const fifth = Math.max(1, Math.floor(points.length / 5));
  const first = median(points.slice(0, fifth).map((p) => p[1]));
  const last = median(points.slice(-fifth).map((p) => p[1]));
  const growth = (last - first) / first;
  const byPhase: Record<string, number> = {};
  for (const s of samples) byPhase[s.phase] = Math.max(byPhase[s.phase] ?? 0, round(s.rss.worker ?? 0, 1));
  return {
    id: 'worker-rss',
    figure: `worker RSS at a steady ${PUSHES_PER_SECOND} pushes/s x 10 triggers (${fmt(points.at(-1)?.[0] ?? 0, 1)} min after a quarter of warm-up), sampled every 500 ms`,
    value: `${fmt(first, 1)} -> ${fmt(last, 1)} MiB (${growth >= 0 ? '+' : ''}${fmt(growth * 100, 1)}%, trend ${fmt(slope(points), 1)} MiB/min)`,
    baseline: 'none',
    ratio: null,
    target: 'flat: last fifth within +10% of the first fifth',
    met: growth < 0.1,
    rounds: [],
    details: {
      steadyLoad: load,
      steadyMiB: {
        min: round(Math.min(...points.map((p) => p[1])), 1),
        max: round(Math.max(...points.map((p) => p[1])), 1),
      },
      maxRssPerPhaseMiB: byPhase,
    },
    notes: [
      'The worker runs from TypeScript sources through tsx, as `npm start` does; tsx keeps compiled modules in memory, so a dist/ build has a lower floor.',
      'maxRssPerPhaseMiB: the largest RSS in every phase of the run, rows with other loads included (a diagnostic).',
    ],
  };
}
