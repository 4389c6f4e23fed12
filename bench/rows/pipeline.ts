/**
 * Shared by the end-to-end rows: the receivers, the repositories and triggers they use,
 * a saturating closed loop measured at the sink, and an open loop measured per delivery.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '../lib/agents.js';
import type { StackContext } from '../lib/context.js';
import { ClosedLoop, DIGEST, openLoop, type PushEvent } from '../lib/load.js';
import { nowMs, type ReceiverSpec, sentMsOfTag, tagFor } from '../lib/protocol.js';
import type { TriggerBody } from '../lib/stack.js';
import { percentile, round } from '../lib/stats.js';

export const SLOW_MS = 250;
export const SLOW_ORIGINS = 4;

export const receiverSpecs: ReceiverSpec[] = [
  { label: 'fast', mode: 'fast' },
  { label: 'fast-b', mode: 'fast' },
  /** Where the minimal pipeline (the fair baseline) delivers, counted apart from the product's. */
  { label: 'minimal', mode: 'fast' },
  { label: 'hang', mode: 'hang' },
  ...Array.from(
    { length: SLOW_ORIGINS },
    (_, i): ReceiverSpec => ({ label: `slow${i}`, mode: 'delay', delayMs: SLOW_MS }),
  ),
];

/**
 * The repositories the minimal pipeline knows, named as `setupTopology` names the product's
 * `one` and `fan`, so the same pushes drive both.
 */
export const MINIMAL_REPOSITORIES = { one: 'bench/one', fan: 'bench/fan' } as const;

export interface Repo {
  namespace: string;
  repository: string;
  triggerIds: string[];
}

export interface Topology {
  /** One ALL trigger to `fast`. */
  one: Repo;
  /** Ten ALL triggers to `fast`. */
  fan: Repo;
  /** Its own namespace, so its access log counts only the commands row's records. */
  commands: Repo;
  commandsFan: Repo;
  /** One trigger to `slow0`. */
  slowOne: Repo;
  /** One repository per slow origin, one trigger each. */
  slowSpread: Repo[];
  /** Nine triggers to `fast`, the tenth to `fast-b` (no fault) or `hang` (fault). */
  fault: Repo;
}

export const urlOf = (ctx: StackContext, label: string) =>
  `http://127.0.0.1:${ctx.receiver.ports[label]}/hook`;

export const triggerBody = (ctx: StackContext, name: string, label: string): TriggerBody => ({
  name,
  url: urlOf(ctx, label),
  type: 'ALL',
  enabled: true,
});

async function repo(
  ctx: StackContext,
  namespace: string,
  repository: string,
  labels: string[],
): Promise<Repo> {
  const triggerIds: string[] = [];
  for (const [i, label] of labels.entries()) {
    triggerIds.push(await ctx.admin.createTrigger(namespace, repository, triggerBody(ctx, `t${i}`, label)));
  }
  return { namespace, repository, triggerIds };
}

export async function setupTopology(ctx: StackContext): Promise<Topology> {
  const ten = (label: string) => Array.from({ length: 10 }, () => label);
  return {
    one: await repo(ctx, 'bench', 'one', ['fast']),
    fan: await repo(ctx, 'bench', 'fan', ten('fast')),
    commands: await repo(ctx, 'benchcmd', 'one', ['fast']),
    commandsFan: await repo(ctx, 'benchcmdfan', 'fan', ten('fast')),
    slowOne: await repo(ctx, 'bench', 'slow', ['slow0']),
    slowSpread: await Promise.all(
      Array.from({ length: SLOW_ORIGINS }, (_, i) => repo(ctx, 'bench', `slow-spread-${i}`, [`slow${i}`])),
    ),
    fault: await repo(ctx, 'bench', 'fault', [...ten('fast').slice(0, 9), 'fast-b']),
  };
}

export const pushFor = (target: Repo, tag: string): PushEvent => ({
  namespace: target.namespace,
  repository: target.repository,
  tag,
  digest: DIGEST,
});

export interface SaturateOptions {
  concurrency: number;
  /** Bound on the work queued downstream, in sink units: keeps every phase drainable. */
  cap: number;
  /** Sink units each accepted push (or job) produces. */
  fanout: number;
  sink: Agent;
  labels: string[];
  /** Sends one push (or adds one job); resolves with how many were accepted. */
  send: (seq: number) => Promise<number>;
  drainTimeoutMs?: number;
}

export interface SaturateResult {
  /** Sink units per second over the measured window. */
  rate: number;
  accepted: number;
  errors: number;
  drained: boolean;
  /** CPU milliseconds per sink unit in the window, per process (noise-resistant, unlike the rate). */
  cpuMsPerUnit: Record<string, number>;
}

/** Keeps the pipeline full for warm-up + window; the rate is what the sink saw in the window. */
export async function saturate(ctx: StackContext, options: SaturateOptions): Promise<SaturateResult> {
  const { sink, labels, fanout, cap } = options;
  const base = sink.total(labels);
  const delivered = () => sink.total(labels) - base;
  let accepted = 0;
  let inFlight = 0;
  const loop = new ClosedLoop({
    concurrency: options.concurrency,
    gate: async () => {
      while ((accepted + inFlight) * fanout - delivered() > cap) await sink.nextCounts(200);
    },
    op: async (seq) => {
      inFlight++;
      try {
        const count = await options.send(seq);
        accepted += count;
        return count;
      } finally {
        inFlight--;
      }
    },
  });
  await sleep(ctx.options.warmupMs);
  const s1 = sink.snapshot();
  const cpu1 = ctx.cpu();
  const t1 = nowMs();
  await sleep(ctx.options.windowMs);
  const s2 = sink.snapshot();
  const cpu2 = ctx.cpu();
  const elapsed = s2.t - s1.t >= ctx.options.windowMs / 2 ? s2.t - s1.t : nowMs() - t1;
  const sum = (counts: Record<string, number>) =>
    labels.reduce((total, label) => total + (counts[label] ?? 0), 0);
  const units = sum(s2.counts) - sum(s1.counts);
  const rate = (units * 1000) / elapsed;
  const cpuMsPerUnit: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpu2)) {
    const before = cpu1[name];
    if (before !== undefined && units > 0) cpuMsPerUnit[name] = round(((seconds - before) * 1000) / units, 3);
  }
  cpuMsPerUnit.total = round(
    Object.values(cpuMsPerUnit).reduce((a, b) => a + b, 0),
    3,
  );
  await loop.stop();
  const drained = await sink.until(() => delivered() >= accepted * fanout, options.drainTimeoutMs ?? 60_000);
  if (!drained) ctx.log(`  warning: ${accepted * fanout - delivered()} units not drained`);
  if (loop.errors > 0) ctx.log(`  ${loop.errors} failed requests (last: ${loop.lastError})`);
  return { rate, accepted, errors: loop.errors, drained, cpuMsPerUnit };
}

export interface LatencyResult {
  pushes: number;
  deliveries: number;
  lost: number;
  /** push request sent → receiver got the delivery, ms */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** 202 received by the generator → receiver got the delivery, ms (negative: delivered before the 202 arrived) */
  acceptedP50: number;
  acceptedP99: number;
  /** Sent → 202, ms */
  ingestP99: number;
  /** How late the generator sent against its schedule, p99 ms */
  scheduleLagP99: number;
}

/**
 * Pushes at a steady `ratePerSec` (open loop) and measures, per delivery, the time from
 * the push's send (carried in its tag) to the receiver's arrival time. Arrivals whose push
 * left during the warm-up are discarded.
 */
export async function measureLatency(
  ctx: StackContext,
  options: {
    ratePerSec: number;
    target: Repo | ((seq: number) => Repo);
    fanout: number;
    labels: string[];
    push: (event: PushEvent) => Promise<number>;
    durationMs?: number;
  },
): Promise<LatencyResult> {
  const { receiver } = ctx;
  const labels = new Set(options.labels);
  receiver.send({ type: 'record', on: true });
  await receiver.collect(); // forget anything older
  const base = receiver.total(options.labels);
  const acceptedAt = new Map<string, number>();
  const ingest: number[] = [];
  const start = nowMs();
  const measureFrom = start + ctx.options.warmupMs;
  const durationMs = options.durationMs ?? ctx.options.warmupMs + ctx.options.windowMs;
  let accepted = 0;
  const { scheduleLagMs } = await openLoop(options.ratePerSec, durationMs, async (seq) => {
    const target = typeof options.target === 'function' ? options.target(seq) : options.target;
    const sent = nowMs();
    const tag = tagFor(sent, seq);
    const count = await options.push(pushFor(target, tag));
    accepted += count;
    const at = nowMs();
    acceptedAt.set(tag, at);
    if (sent >= measureFrom) ingest.push(at - sent);
  });
  await receiver.until(() => receiver.total(options.labels) - base >= accepted * options.fanout, 30_000);
  await sleep(100);
  const samples = await receiver.collect();
  receiver.send({ type: 'record', on: false });
  const latencies: number[] = [];
  const fromAccepted: number[] = [];
  for (const [label, tag, arrival] of samples) {
    if (!labels.has(label)) continue;
    const sent = sentMsOfTag(tag);
    if (sent === undefined || sent < measureFrom) continue;
    latencies.push(arrival - sent);
    const at = acceptedAt.get(tag);
    if (at !== undefined) fromAccepted.push(arrival - at);
  }
  const expected = [...acceptedAt.keys()].filter((tag) => (sentMsOfTag(tag) ?? 0) >= measureFrom).length;
  return {
    pushes: expected,
    deliveries: latencies.length,
    lost: expected * options.fanout - latencies.length,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    acceptedP50: percentile(fromAccepted, 50),
    acceptedP99: percentile(fromAccepted, 99),
    ingestP99: percentile(ingest, 99),
    scheduleLagP99: percentile(scheduleLagMs, 99),
  };
}
