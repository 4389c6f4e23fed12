/**
 * One scenario: triggers in a namespace of its own, a steady push rate, one fault injected
 * while it runs, a drain, then the account of every event the api accepted: delivered (a
 * receiver answered 2xx), visibly failed (a final `failed` record in the access log), or
 * lost (neither); duplicated (a webhook-id received again after a 2xx answer); the api's
 * answers during the fault; how long the pipeline took to be back at full rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '../../bench/lib/agents.js';
import type { DeliverySeen, ReceiverBehaviour } from '../../bench/lib/protocol.js';
import { nowMs } from '../../bench/lib/protocol.js';
import { AdminClient } from '../../bench/lib/stack.js';
import { percentile, round } from '../../bench/lib/stats.js';
import { type AccessRecordLite, deliveryKey, drain, recordKey } from './drain.js';
import { type PushOutcome, SteadyPusher } from './pusher.js';
import { ADMIN_TOKEN, type FaultStack, INGEST_TOKEN } from './stack.js';

/** The drain may go on this many times its no-progress deadline while the backlog shrinks. */
const DRAIN_CAP_FACTOR = 10;

export interface SuiteParams {
  short: boolean;
  /** Pushes per second during every scenario (unless it says otherwise). */
  rate: number;
  /** Load before the fault, and after it ends. */
  preMs: number;
  postMs: number;
  /** Longest the drain waits after the load stops while nothing moves (see drain.ts). */
  drainMs: number;
  /** The workers' WORKER_LOCK_DURATION_MS: how soon a killed worker's jobs come back. */
  lockMs: number;
}

export interface SuiteContext {
  params: SuiteParams;
  stack: FaultStack;
  receiver: Agent;
  log: (line: string) => void;
}

/** Triggers of every repository of a scenario, by receiver label. */
export interface ScenarioTopology {
  repositories: number;
  labels: string[];
}

export interface FaultControl {
  ctx: SuiteContext;
  /** Marks a moment by name (the fault's start and end are marked by the runner). */
  mark(name: string): void;
  /** Resolves after `ms` (the fault's own timing: a kill 5 s long, a hang of 10 s). */
  hold(ms: number): Promise<void>;
  pusher: SteadyPusher;
}

export interface ScenarioDefinition {
  id: string;
  title: string;
  expectation: string;
  topology?: ScenarioTopology;
  rate?: number;
  /** Load before the fault at least this long (a window to measure the no-fault rate in). */
  minPreMs?: number;
  /** Drain deadline over the suite's (a killed worker's jobs wait for their lock to expire). */
  drainMs?: number;
  /** Runs before the load starts (its triggers exist). */
  before?(ctx: SuiteContext, scenario: ScenarioSetup): Promise<void>;
  /** The fault: resolves once it has been removed (Redis back, apps restarted, ...). */
  inject(control: FaultControl): Promise<void>;
  /** After the drain, before the account. */
  after?(ctx: SuiteContext, scenario: ScenarioSetup): Promise<Record<string, unknown>>;
  /** Adds figures of its own to `result.details` from the raw view (before judge). */
  enrich?(result: ScenarioResult, view: RunView): void;
  judge(result: ScenarioResult): { met: boolean; notes: string[] };
}

export interface RunView {
  outcomes: PushOutcome[];
  /** This scenario's webhook-ids as the receivers saw them. */
  deliveries: DeliverySeen[];
  /** Epoch ms of every mark. */
  marks: Record<string, number>;
}

export interface WindowStats {
  /** First 2xx deliveries per second received in the window: the throughput. */
  rate: number;
  /** Push sent -> first 2xx at the receiver, p99 ms, of those. */
  p99: number;
  /** Push sent -> api's answer, p99 ms. */
  ingestP99: number;
}

/** Deliveries (optionally of some receiver labels) of the pushes sent in [from, to). */
export function windowStats(view: RunView, from: number, to: number, labels?: string[]): WindowStats {
  const sent = new Map(
    view.outcomes.filter((o) => o.sentAt >= from && o.sentAt < to).map((o) => [o.tag, o] as const),
  );
  const latencies: number[] = [];
  let arrived = 0;
  for (const delivery of view.deliveries) {
    if (delivery.okAt === undefined || (labels && !labels.includes(delivery.label))) continue;
    if (delivery.okAt >= from && delivery.okAt < to) arrived++;
    const push = sent.get(delivery.tag);
    if (push) latencies.push(delivery.okAt - push.sentAt);
  }
  const answers = [...sent.values()].map((o) => o.answeredAt - o.sentAt);
  return {
    rate: round((arrived * 1000) / Math.max(1, to - from), 1),
    p99: round(percentile(latencies, 99), 1),
    ingestP99: round(percentile(answers, 99), 1),
  };
}

export interface ScenarioSetup {
  namespace: string;
  repositories: string[];
  /** Per repository: trigger ids and the path its deliveries arrive at. */
  triggers: Array<Array<{ id: string; label: string; path: string }>>;
}

export interface ScenarioResult {
  id: string;
  title: string;
  expectation: string;
  met: boolean;
  notes: string[];
  rate: number;
  durationS: number;
  faultS: number;
  pushes: number;
  accepted: number;
  expected: number;
  delivered: number;
  failed: number;
  /** Not delivered, no final record, but a `retrying` record says its next attempt is scheduled. */
  retrying: number;
  /** Unsettled when the drain gave up while jobs were still queued: not judged lost or not. */
  pending: number;
  lost: number;
  /** Events with at least one delivery lost. */
  lostEvents: number;
  duplicated: number;
  /** Deliveries of events the api did not answer 202 (a 503 after Redis took the write). */
  deliveredUnacknowledged: number;
  /** Answers to pushes sent while the fault lasted, by status (0: no answer). */
  answersDuringFault: Record<string, number>;
  /** Non-202 answers outside the fault. */
  errorsOutsideFault: Record<string, number>;
  /** Time to answer pushes sent during the fault, ms. */
  answerMsDuringFault: { p50: number; p99: number; max: number };
  /** From the fault's end until 202s came at the offered rate and the backlog was under 1 s of work. */
  recoverS: number | null;
  /** Push sent → first 2xx at the receiver, over the whole run: p50 / p99 ms. */
  latencyMs: { p50: number; p99: number };
  marks: Record<string, number>;
  details: Record<string, unknown>;
}

const DEFAULT_TOPOLOGY: ScenarioTopology = { repositories: 3, labels: ['a', 'b'] };

/** Namespaces follow the distribution name rules: lower-case letters, digits, separators. */
const namespaceOf = (id: string) => `f-${id.replaceAll(/[^a-z0-9]+/g, '-')}`;

async function setUp(ctx: SuiteContext, def: ScenarioDefinition): Promise<ScenarioSetup> {
  const topology = def.topology ?? DEFAULT_TOPOLOGY;
  const namespace = namespaceOf(def.id);
  const repositories = Array.from({ length: topology.repositories }, (_, i) => `r${i}`);
  const triggers: ScenarioSetup['triggers'] = [];
  const admin = new AdminClient(ctx.stack.apiUrls[0]!);
  for (const repository of repositories) {
    const list: ScenarioSetup['triggers'][number] = [];
    for (const [i, label] of topology.labels.entries()) {
      const path = `/hook/${namespace}.${repository}.${i}`;
      const url = `http://127.0.0.1:${ctx.receiver.ports[label]}${path}`;
      const id = await admin.createTrigger(namespace, repository, {
        name: `t${i}-${label}`,
        url,
        type: 'ALL',
        enabled: true,
      });
      list.push({ id, label, path });
    }
    triggers.push(list);
  }
  return { namespace, repositories, triggers };
}

export function setReceiverMode(ctx: SuiteContext, label: string, behaviour: ReceiverBehaviour): void {
  ctx.receiver.send({ type: 'mode', label, behaviour });
}

interface Sample {
  t: number;
  accepted: number;
  delivered: number;
}

export async function runScenario(ctx: SuiteContext, def: ScenarioDefinition): Promise<ScenarioResult> {
  const { params, receiver, log } = ctx;
  const rate = def.rate ?? params.rate;
  const setup = await setUp(ctx, def);
  const labels = [...new Set(setup.triggers.flat().map((t) => t.label))];
  const fanout = setup.triggers[0]!.length;
  await def.before?.(ctx, setup);
  receiver.send({ type: 'forget' });
  const deliveredLabels = labels.map((label) => `${label}:delivered`);
  const deliveredBase = receiver.total(deliveredLabels);
  const delivered = () => receiver.total(deliveredLabels) - deliveredBase;

  const pusher = new SteadyPusher(
    ctx.stack.apiUrls,
    INGEST_TOKEN,
    setup.repositories.map((repository) => ({ namespace: setup.namespace, repository })),
    `${setup.namespace}-${Date.now()}`,
  );
  const marks: Record<string, number> = {};
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: nowMs(), accepted: pusher.accepted, delivered: delivered() });
      await sleep(250);
    }
  })();

  log(`${def.id}: ${def.title} (${rate} pushes/s to ${setup.repositories.length} x ${fanout} triggers)`);
  marks.loadStart = nowMs();
  pusher.start(rate);
  await sleep(Math.max(params.preMs, def.minPreMs ?? 0));
  marks.faultStart = nowMs();
  await def.inject({
    ctx,
    pusher,
    mark: (name) => {
      marks[name] = nowMs();
    },
    hold: (ms) => sleep(ms),
  });
  marks.faultEnd = nowMs();
  await sleep(params.postMs);
  await pusher.stop();
  marks.loadEnd = nowMs();
  await pusher.close();

  const drained = await drain(
    {
      stack: ctx.stack,
      receiver,
      namespace: setup.namespace,
      repositories: setup.repositories,
      paths: setup.triggers.map((list) => list.map((trigger) => trigger.path)),
      outcomes: pusher.outcomes,
    },
    ADMIN_TOKEN,
    def.drainMs ?? params.drainMs,
    DRAIN_CAP_FACTOR * (def.drainMs ?? params.drainMs),
  );
  marks.drainEnd = nowMs();
  sampling = false;
  await sampler;
  const extra = (await def.after?.(ctx, setup)) ?? {};

  const { seen } = drained;
  const result = account(def, setup, pusher.outcomes, seen, { rate, fanout, marks, samples });
  applyRecords(result, setup, pusher.outcomes, drained, drained.backlogAtEnd !== 0);
  result.details.drain = {
    settled: drained.settled,
    backlogAtEnd: drained.backlogAtEnd,
    unsettledAtEnd: drained.unsettledAtEnd,
    seconds: round((marks.drainEnd - marks.loadEnd) / 1000, 1),
  };
  if (!drained.settled)
    result.notes.push(
      drained.backlogAtEnd === 0
        ? `the queues emptied with ${drained.unsettledAtEnd} deliveries unsettled`
        : `the drain reached its deadline with ${drained.backlogAtEnd} jobs queued and ${drained.unsettledAtEnd} deliveries unsettled`,
    );
  const failedJobs = await ctx.stack.failedJobsSince(marks.loadStart!).catch(() => ({}));
  if (Object.keys(failedJobs).length > 0) result.details.failedJobs = failedJobs;
  Object.assign(result.details, extra);
  def.enrich?.(result, { outcomes: pusher.outcomes, deliveries: seen, marks });
  const verdict = def.judge(result);
  result.met = verdict.met;
  result.notes.push(...verdict.notes);
  log(
    `${def.id}: accepted ${result.accepted}, expected ${result.expected}, delivered ${result.delivered}, failed ${result.failed}, retrying ${result.retrying}, lost ${result.lost}, duplicated ${result.duplicated}, recover ${result.recoverS ?? 'n/a'} s: ${result.met ? 'met' : 'MISSED'}`,
  );
  return result;
}

interface Timing {
  rate: number;
  fanout: number;
  marks: Record<string, number>;
  samples: Sample[];
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function account(
  def: ScenarioDefinition,
  setup: ScenarioSetup,
  outcomes: PushOutcome[],
  seen: DeliverySeen[],
  timing: Timing,
): ScenarioResult {
  const { marks, fanout, rate } = timing;
  const prefix = `/hook/${setup.namespace}.`;
  const mine = seen.filter((delivery) => delivery.path.startsWith(prefix));
  const okByKey = new Map<string, DeliverySeen>();
  for (const delivery of mine) {
    if (delivery.ok > 0) okByKey.set(deliveryKey(delivery.path, delivery.tag), delivery);
  }
  const acceptedTags = new Set(outcomes.filter((o) => o.status === 202).map((o) => o.tag));
  const duringFault = outcomes.filter((o) => o.sentAt >= marks.faultStart! && o.sentAt <= marks.faultEnd!);
  const outside = outcomes.filter((o) => !duringFault.includes(o) && o.status !== 202);
  const answerMs = duringFault.map((o) => o.answeredAt - o.sentAt);
  const sentAtOf = new Map(outcomes.map((o) => [o.tag, o.sentAt]));
  const latencies = [...okByKey.values()]
    .map((d) => (d.okAt ?? 0) - (sentAtOf.get(d.tag) ?? Number.NaN))
    .filter(Number.isFinite);
  return {
    id: def.id,
    title: def.title,
    expectation: def.expectation,
    met: false,
    notes: [],
    rate,
    durationS: round((marks.loadEnd! - marks.loadStart!) / 1000, 1),
    faultS: round((marks.faultEnd! - marks.faultStart!) / 1000, 1),
    pushes: outcomes.length,
    accepted: acceptedTags.size,
    expected: acceptedTags.size * fanout,
    delivered: 0,
    failed: 0,
    retrying: 0,
    pending: 0,
    lost: 0,
    lostEvents: 0,
    duplicated: mine.filter((d) => d.afterOk > 0).length,
    deliveredUnacknowledged: [...okByKey.values()].filter((d) => !acceptedTags.has(d.tag)).length,
    answersDuringFault: countBy(duringFault, (o) => String(o.status)),
    errorsOutsideFault: countBy(outside, (o) => String(o.status)),
    answerMsDuringFault: {
      p50: round(percentile(answerMs, 50), 1),
      p99: round(percentile(answerMs, 99), 1),
      max: round(percentile(answerMs, 100), 1),
    },
    recoverS: recovery(timing),
    latencyMs: { p50: round(percentile(latencies, 50), 1), p99: round(percentile(latencies, 99), 1) },
    marks: Object.fromEntries(
      Object.entries(marks).map(([name, t]) => [name, round((t - marks.loadStart!) / 1000, 2)]),
    ),
    details: {
      networkRetries: outcomes.reduce((sum, o) => sum + o.retries, 0),
      retryAfterOn503: countBy(
        outcomes.filter((o) => o.status === 503),
        (o) => o.retryAfter ?? 'missing',
      ),
      receiverRequests: mine.reduce((sum, d) => sum + d.received, 0),
      // When the first copies of duplicated deliveries came, s from the load's start.
      duplicateExamples: mine
        .filter((d) => d.afterOk > 0)
        .slice(0, 10)
        .map(
          (d) =>
            `${d.id} ${d.path} x${d.received}, first at +${round((d.firstAt - marks.loadStart!) / 1000, 2)} s`,
        ),
      okByKey,
    },
  };
}

/** Fills delivered / failed / retrying / lost, from the receivers' view and the access log. */
function applyRecords(
  result: ScenarioResult,
  setup: ScenarioSetup,
  outcomes: PushOutcome[],
  records: { failed: AccessRecordLite[]; retrying: AccessRecordLite[] },
  stillQueued: boolean,
): void {
  const okByKey = result.details.okByKey as Map<string, DeliverySeen>;
  delete result.details.okByKey;
  const failed = new Set(records.failed.map(recordKey));
  const retrying = new Set(records.retrying.map(recordKey));
  const lostExamples: string[] = [];
  const lostEvents = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.status !== 202) continue;
    for (const trigger of setup.triggers[outcome.target]!) {
      const key = deliveryKey(trigger.path, outcome.tag);
      if (okByKey.has(key)) result.delivered++;
      else if (failed.has(key)) result.failed++;
      else if (retrying.has(key)) result.retrying++;
      else if (stillQueued) result.pending++;
      else {
        result.lost++;
        lostEvents.add(outcome.eventId);
        if (lostExamples.length < 10)
          lostExamples.push(
            `${outcome.eventId} (tag ${outcome.tag}, answered 202 at +${round((outcome.answeredAt - outcomes[0]!.sentAt) / 1000, 2)} s) to ${trigger.path}`,
          );
      }
    }
  }
  result.lostEvents = lostEvents.size;
  if (lostExamples.length > 0) result.details.lostExamples = lostExamples;
}

/**
 * Seconds from the fault's end to the first moment after which, until the load stopped,
 * the api accepted at least 90% of the offered pushes over each second and the backlog
 * (deliveries owed to accepted events, not yet received) stayed under one second of work.
 * null: not back at full rate before the load stopped.
 */
function recovery({ samples, marks, rate, fanout }: Timing): number | null {
  const end = marks.faultEnd!;
  const loadEnd = marks.loadEnd!;
  const inLoad = samples.filter((s) => s.t <= loadEnd);
  const backlogLimit = rate * fanout;
  const healthy = (i: number): boolean => {
    const s = inLoad[i]!;
    const second = inLoad.findLast((earlier) => earlier.t <= s.t - 1000);
    if (!second) return false;
    const acceptedRate = ((s.accepted - second.accepted) * 1000) / (s.t - second.t);
    return acceptedRate >= 0.9 * rate && s.accepted * fanout - s.delivered <= backlogLimit;
  };
  let candidate: number | null = null;
  for (let i = 0; i < inLoad.length; i++) {
    if (inLoad[i]!.t < end) continue;
    if (healthy(i)) candidate ??= inLoad[i]!.t;
    else candidate = null;
  }
  return candidate === null ? null : round(Math.max(0, candidate - end) / 1000, 1);
}
