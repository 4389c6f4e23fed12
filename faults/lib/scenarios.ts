/** The scenarios of issue 21, each with its expectation as a judgement on the account. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { keys } from '@registry-triggers/store';
import { type Agent, forkAgent } from '../../bench/lib/agents.js';
import { rssMiB } from '../../bench/lib/machine.js';
import { nowMs } from '../../bench/lib/protocol.js';
import { median, percentile, round } from '../../bench/lib/stats.js';
import type { SseReport } from './protocol.js';
import {
  type FaultControl,
  type ScenarioDefinition,
  type ScenarioResult,
  type SuiteContext,
  setReceiverMode,
  windowStats,
} from './scenario.js';
import { ADMIN_TOKEN } from './stack.js';

/** Nothing lost, and nothing left unjudged: a drain that gave up with jobs queued proves nothing. */
const lostZero = (r: ScenarioResult, notes: string[]) => {
  if (r.lost > 0) notes.push(`${r.lost} deliveries of ${r.lostEvents} accepted events lost`);
  if (r.pending > 0) notes.push(`${r.pending} deliveries still queued when the drain gave up`);
  return r.lost === 0 && r.pending === 0;
};

/** A scenario whose fault never happened proves nothing. */
const faultSeen = (seen: boolean, what: string, notes: string[]) => {
  if (!seen) notes.push(`the fault did not show: ${what}`);
  return seen;
};

const nonAccepted = (r: ScenarioResult) =>
  Object.entries(r.answersDuringFault)
    .filter(([status]) => status !== '202')
    .reduce((sum, [, n]) => sum + n, 0);

/** SIGKILL, down for 5 s (1 s in the short run), started again on the same port and data. */
async function redisKill(control: FaultControl): Promise<void> {
  const { ctx } = control;
  control.mark('kill');
  await ctx.stack.redis.kill!();
  await control.hold(ctx.params.short ? 1000 : 5000);
  control.mark('restart');
  // The fault ends when Redis answers again; the apps reconnect on their own.
  await ctx.stack.redis.start!();
}

function redisKillScenario(fsync: 'always' | 'everysec'): ScenarioDefinition {
  return {
    id: `redis-kill-${fsync}`,
    title: `Redis SIGKILL mid-load, restarted 5 s later (appendfsync ${fsync})`,
    expectation:
      fsync === 'always'
        ? 'lost = 0'
        : 'lost events <= events acknowledged in the last second before the kill (reported)',
    before: async (ctx) => {
      await ctx.stack.redisCall('CONFIG', 'SET', 'appendfsync', fsync);
    },
    inject: redisKill,
    enrich(r, view) {
      const kill = view.marks.kill!;
      r.details.ackedInLastSecond = view.outcomes.filter(
        (o) => o.status === 202 && o.answeredAt >= kill - 1000 && o.answeredAt <= kill,
      ).length;
    },
    after: async (ctx) => {
      await ctx.stack.redisCall('CONFIG', 'SET', 'appendfsync', 'always');
      return {};
    },
    judge(r) {
      const notes: string[] = [];
      const lastSecond = (r.details.ackedInLastSecond as number | undefined) ?? 0;
      let ok: boolean;
      if (fsync === 'always') ok = lostZero(r, notes);
      else {
        ok = r.lostEvents <= lastSecond && r.pending === 0;
        if (!ok)
          notes.push(
            `${r.lostEvents} events lost, more than the ${lastSecond} acknowledged in the second before the kill`,
          );
      }
      if (fsync === 'everysec')
        notes.push(
          `${lastSecond} events were acknowledged in the second before the kill; ${r.lostEvents} lost`,
        );
      return {
        met: faultSeen(nonAccepted(r) > 0, 'no push was refused while Redis was down', notes) && ok,
        notes,
      };
    },
  };
}

const redisStop: ScenarioDefinition = {
  id: 'redis-sigstop',
  title: 'Redis SIGSTOP for 10 s (a hung server), then SIGCONT',
  expectation: 'lost = 0; the api answers 503 fast (every push answered within 2 s) and never hangs',
  inject: async (control) => {
    const pid = control.ctx.stack.redisPid();
    process.kill(pid, 'SIGSTOP');
    try {
      await control.hold(control.ctx.params.short ? 2000 : 10_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  },
  judge(r) {
    const notes: string[] = [];
    const unanswered = r.answersDuringFault['0'] ?? 0;
    const fast = r.answerMsDuringFault.max <= 2000 && unanswered === 0;
    if (!fast)
      notes.push(
        `answers during the hang: max ${r.answerMsDuringFault.max} ms, ${unanswered} never answered (10 s client timeout)`,
      );
    const other = Object.keys(r.answersDuringFault).filter((s) => !['202', '503'].includes(s));
    if (other.length > 0) notes.push(`answers other than 202/503 during the hang: ${other.join(', ')}`);
    return {
      met:
        faultSeen((r.answersDuringFault['503'] ?? 0) > 0, 'no 503 while Redis hung', notes) &&
        fast &&
        other.length === 0 &&
        lostZero(r, notes),
      notes,
    };
  },
};

const workerKill: ScenarioDefinition = {
  id: 'worker-sigkill',
  title: 'worker SIGKILL x5 at random moments, each restarted',
  expectation: 'lost = 0; duplicates reported',
  inject: async (control) => {
    const { ctx } = control;
    const kills = ctx.params.short ? 2 : 5;
    const killed: string[] = [];
    for (let i = 0; i < kills; i++) {
      await control.hold((ctx.params.short ? 300 : 1000) + Math.random() * (ctx.params.short ? 700 : 3000));
      const running = ctx.stack.of('worker').filter((app) => app.running);
      const victim = running[Math.floor(Math.random() * running.length)]!;
      control.mark(`kill${i + 1}`);
      await ctx.stack.kill(victim.name);
      killed.push(victim.name);
      await ctx.stack.startAgain(victim.name);
    }
    ctx.log(`  killed ${killed.join(', ')}`);
  },
  judge(r) {
    const notes: string[] = [];
    if (r.duplicated > 0)
      notes.push(
        `${r.duplicated} deliveries received again after a 2xx (a worker killed while its request was out: same webhook-id, as documented)`,
      );
    return { met: lostZero(r, notes), notes };
  },
};

const rollingRestart: ScenarioDefinition = {
  id: 'rolling-restart',
  title: 'rolling restart of every app (SIGTERM, one at a time)',
  expectation: 'lost = 0, duplicates = 0, no 5xx',
  inject: async (control) => {
    const { ctx } = control;
    const order = ['api', 'logs', 'worker'];
    const everyApp = [...ctx.stack.apps]
      .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name))
      .map((app) => app.name);
    // Short: one api and one worker, the two whose shutdown holds requests and deliveries.
    const names = ctx.params.short ? everyApp.filter((n) => n === 'api1' || n === 'worker1') : everyApp;
    const exits: Record<string, number | null> = {};
    rollingOutput = {};
    for (const name of names) {
      control.mark(`stop-${name}`);
      exits[name] = await ctx.stack.terminate(name);
      // An unclean exit says why in its last lines.
      if (exits[name] !== 0) rollingOutput[name] = ctx.stack.app(name).process.output().slice(-12);
      await ctx.stack.startAgain(name);
      await ctx.stack.waitReady(120_000);
    }
    ctx.log(`  exit codes: ${JSON.stringify(exits)}`);
    rollingExits = exits;
  },
  after: async () => ({ exitCodes: rollingExits, uncleanExitOutput: rollingOutput }),
  judge(r) {
    const notes: string[] = [];
    const fivexx = Object.entries(r.answersDuringFault)
      .concat(Object.entries(r.errorsOutsideFault))
      .filter(([status]) => Number(status) >= 500)
      .reduce((sum, [, n]) => sum + n, 0);
    const unanswered = (r.answersDuringFault['0'] ?? 0) + (r.errorsOutsideFault['0'] ?? 0);
    if (fivexx > 0) notes.push(`${fivexx} answers 5xx`);
    if (unanswered > 0) notes.push(`${unanswered} pushes no api answered, even retried on the other api`);
    if (r.duplicated > 0) notes.push(`${r.duplicated} deliveries received again after a 2xx`);
    const exits = (r.details.exitCodes ?? {}) as Record<string, number | null>;
    const unclean = Object.entries(exits).filter(([, code]) => code !== 0);
    if (unclean.length > 0) notes.push(`exits not 0: ${JSON.stringify(Object.fromEntries(unclean))}`);
    const retries = r.details.networkRetries as number;
    if (retries > 0)
      notes.push(`${retries} requests retried on the other api after a refused or reset connection`);
    return {
      met:
        lostZero(r, notes) && r.duplicated === 0 && fivexx === 0 && unanswered === 0 && unclean.length === 0,
      notes,
    };
  },
};
let rollingExits: Record<string, number | null> = {};
let rollingOutput: Record<string, string[]> = {};

async function usedMemory(ctx: SuiteContext): Promise<number> {
  const info = String(await ctx.stack.redisCall('INFO', 'memory'));
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const maxMemory: ScenarioDefinition = {
  id: 'redis-maxmemory',
  title: 'Redis maxmemory reached (noeviction)',
  expectation: '503 with Retry-After at ingest, lost = 0, recovers when memory frees',
  enrich(r, view) {
    const from = view.marks.faultEnd! + 1000;
    const after = view.outcomes.filter((o) => o.sentAt >= from && o.sentAt < view.marks.loadEnd!);
    r.details.acceptedAfterFault = round(
      after.filter((o) => o.status === 202).length / Math.max(1, after.length),
      3,
    );
  },
  inject: async (control) => {
    const { ctx } = control;
    await ctx.stack.redisCall('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const used = await usedMemory(ctx);
    // Just above what is used: the load itself reaches the limit within a moment.
    await ctx.stack.redisCall('CONFIG', 'SET', 'maxmemory', String(used + 512 * 1024));
    control.mark('limitSet');
    const deadline = nowMs() + 15_000;
    while (
      nowMs() < deadline &&
      !control.pusher.outcomes.some((o) => o.status === 503 && o.sentAt >= nowMs() - 1000)
    )
      await sleep(50);
    control.mark('full');
    await control.hold(ctx.params.short ? 2000 : 10_000);
    control.mark('freed');
    await ctx.stack.redisCall('CONFIG', 'SET', 'maxmemory', '0');
  },
  judge(r) {
    const notes: string[] = [];
    const refused = r.answersDuringFault['503'] ?? 0;
    const retryAfter = r.details.retryAfterOn503 as Record<string, number>;
    const missing = retryAfter.missing ?? 0;
    if (missing > 0) notes.push(`${missing} of the 503s had no Retry-After`);
    const other = Object.keys(r.answersDuringFault).filter((s) => !['202', '503'].includes(s));
    if (other.length > 0) notes.push(`answers other than 202/503 while memory was full: ${other.join(', ')}`);
    const after = r.details.acceptedAfterFault as number;
    // Recovered: the api takes the offered pushes again (the backlog's catching up is recoverS).
    const recovered = after >= 0.9;
    if (!recovered)
      notes.push(
        `only ${Math.round(after * 100)} % of the pushes after the fault's first second answered 202`,
      );
    if (r.duplicated > 0)
      notes.push(
        `${r.duplicated} deliveries received again after a 2xx: sent, then their completion refused by the full Redis, so sent again (same webhook-id)`,
      );
    return {
      met:
        faultSeen(refused > 0, 'no 503 while memory was full', notes) &&
        missing === 0 &&
        other.length === 0 &&
        lostZero(r, notes) &&
        recovered,
      notes,
    };
  },
};

const FLAKY = { mode: 'flaky', flaky: { error: 0.3, hang: 0.1, reset: 0.05 } } as const;

function windowRate(r: ScenarioResult, key: 'healthyNoFault' | 'healthyFault') {
  return (r.details[key] as { rate: number; p99: number } | undefined) ?? { rate: 0, p99: Number.NaN };
}

const flakyReceivers: ScenarioDefinition = {
  id: 'flaky-receivers',
  title: 'receivers: 30 % answer 500, 10 % hang, 5 % reset the connection',
  expectation: 'healthy triggers >= 0.8x their no-fault rate',
  // Per repository: two healthy triggers and one to the flaky receiver.
  topology: { repositories: 3, labels: ['a', 'b', 'flaky'] },
  // The no-fault window is the load before the fault, past its first second.
  minPreMs: 3000,
  drainMs: 60_000,
  before: async (ctx) => setReceiverMode(ctx, 'flaky', { mode: 'fast' }),
  enrich(r, view) {
    const { loadStart, faultStart, faultEnd } = view.marks;
    // The first second warms up; each window is judged by the pushes sent in it.
    r.details.healthyNoFault = windowStats(view, loadStart! + 1000, faultStart!, ['a', 'b']);
    r.details.healthyFault = windowStats(view, faultStart!, faultEnd!, ['a', 'b']);
    r.details.flakyFault = windowStats(view, faultStart!, faultEnd!, ['flaky']);
  },
  inject: async (control) => {
    const { ctx } = control;
    setReceiverMode(ctx, 'flaky', FLAKY);
    await control.hold(ctx.params.short ? 3000 : 15_000);
    setReceiverMode(ctx, 'flaky', { mode: 'fast' });
    ctx.receiver.send({ type: 'release' });
  },
  judge(r) {
    const notes: string[] = [];
    const before = windowRate(r, 'healthyNoFault');
    const during = windowRate(r, 'healthyFault');
    // Without a fault the healthy triggers take what is offered (two deliveries a push): that
    // is their no-fault rate. The window before the fault says whether this run kept up at all.
    const offered = r.rate * 2;
    const ratio = during.rate / offered;
    r.details.healthyRatio = round(ratio, 2);
    r.details.healthyNoFaultRatio = round(before.rate / offered, 2);
    notes.push(
      `healthy deliveries ${round(during.rate)}/s during the fault, ${round(before.rate)}/s before it, ${offered}/s offered (${round(ratio, 2)}x during); healthy push -> delivery p99 ${round(during.p99)} ms during vs ${round(before.p99)} ms before`,
    );
    if (r.retrying > 0)
      notes.push(
        `${r.retrying} flaky deliveries still retrying at the end (next attempt scheduled, not lost)`,
      );
    return { met: ratio >= 0.8 && lostZero(r, notes), notes };
  },
};

/** Established server-side connections of the logs app towards these client ports, from /proc/net/tcp. */
function establishedTowards(
  serverPort: number,
  clientPorts: number[],
): { open: number; sendQueueBytes: number } {
  const wanted = new Set(clientPorts);
  let open = 0;
  let sendQueueBytes = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5) continue;
      const local = Number.parseInt(fields[1]!.split(':')[1] ?? '', 16);
      const remote = Number.parseInt(fields[2]!.split(':')[1] ?? '', 16);
      if (local !== serverPort || !wanted.has(remote) || fields[3] !== '01') continue;
      open++;
      sendQueueBytes += Number.parseInt(fields[4]!.split(':')[0] ?? '0', 16);
    }
  }
  return { open, sendQueueBytes };
}

export const sseProbe = { establishedTowards };

let sseReports = 0;

/** The SSE clients' figures so far. */
function sseReport(agent: Agent): Promise<SseReport> {
  const id = ++sseReports;
  return new Promise((resolve) => {
    const listener = (message: { type: string; id?: number; report?: SseReport }) => {
      if (message.type !== 'sse-report' || message.id !== id) return;
      agent.child.off('message', listener);
      resolve(message.report!);
    };
    agent.child.on('message', listener);
    agent.child.send({ type: 'report', id });
  });
}

export function liveTailScenario(clients: number): ScenarioDefinition {
  const stalled = Math.floor(clients / 3);
  let agent: Agent | undefined;
  const rss: Array<[number, number]> = [];
  let sampling = false;
  let sampler: Promise<void> | undefined;
  return {
    id: 'live-tail',
    title: `${clients} SSE clients following the log, a third of them never reading`,
    expectation: "the logs app's memory stays bounded, other clients keep up, slow ones are cut off",
    topology: { repositories: 1, labels: ['a'] },
    before: async (ctx, setup) => {
      // Records of some 2.5 KB (3.5 KB in the short run: the log keeps that much of each answer),
      // so that the stalled clients fall behind within the run.
      setReceiverMode(ctx, 'a', { mode: 'fast', bodyBytes: ctx.params.short ? 2048 : 1024 });
      agent = await forkAgent('../../faults/agents/sse-clients.ts', {
        url: `${ctx.stack.logsUrl}/v1/namespaces/${setup.namespace}/records/stream`,
        token: ADMIN_TOKEN,
        clients,
        stalled,
        short: ctx.params.short,
      });
      const logsPid = ctx.stack.app('logs').process.pid;
      sampling = true;
      sampler = (async () => {
        const start = nowMs();
        while (sampling) {
          const value = rssMiB(logsPid);
          if (value !== undefined) rss.push([round((nowMs() - start) / 1000, 1), round(value, 1)]);
          await sleep(500);
        }
      })();
    },
    // The "fault" is the stalled clients themselves: they are there from the start; the
    // window is the load's middle, as long as the other scenarios' faults.
    inject: async (control) => {
      // Full run: 40 s, long enough for a stalled client to fall past the loopback buffers
      // (some 4 MB a connection on this kernel) and the logs app's 10 s of patience.
      await control.hold(control.ctx.params.short ? 4000 : 40_000);
    },
    after: async (ctx, setup) => {
      setReceiverMode(ctx, 'a', { mode: 'fast' });
      sampling = false;
      await sampler;
      // Readers catch up before the account: until each has every record of the namespace's
      // log (a reader cut off for falling behind resumes with Last-Event-ID), or 20 s.
      const written = Number(await ctx.stack.redisCall('XLEN', keys.recordLog(setup.namespace)));
      const deadline = nowMs() + 20_000;
      let report = await sseReport(agent!);
      while (Math.min(...report.received) < written && nowMs() < deadline) {
        await sleep(250);
        report = await sseReport(agent!);
      }
      // The stalled clients are cut off once they have taken nothing for the logs app's 10 s:
      // followed until none is connected, or 30 s.
      // (A short run sends them too little for a cut-off to be due: nothing to wait for.)
      const logsPort = Number(new URL(ctx.stack.logsUrl).port);
      const cutBy = nowMs() + (ctx.params.short ? 0 : 30_000);
      let server = establishedTowards(logsPort, report.stalledPorts);
      while (server.open > 0 && nowMs() < cutBy) {
        await sleep(250);
        server = establishedTowards(logsPort, report.stalledPorts);
      }
      await agent!.close();
      const values = rss.map(([, v]) => v);
      const half = Math.floor(values.length / 2);
      return {
        clients,
        stalled,
        short: ctx.params.short,
        readersReceived: {
          min: Math.min(...report.received),
          median: median(report.received),
          max: Math.max(...report.received),
        },
        readersReconnected: report.reconnects.filter((n) => n > 0).length,
        readerReconnects: report.reconnects.reduce((sum, n) => sum + n, 0),
        readerLagP99Ms: { median: median(report.lagP99Ms), max: Math.max(...report.lagP99Ms) },
        stalledStillOpen: server.open,
        stalledServerSendQueueBytes: server.sendQueueBytes,
        logsRssMiB: {
          first: values[0],
          midpoint: values[half],
          peak: Math.max(...values),
          last: values.at(-1),
          secondHalfGrowth: round((values.at(-1) ?? 0) - (values[half] ?? 0), 1),
          p90: percentile(values, 90),
        },
        logsRssSeries: rss.filter((_, i) => i % 4 === 0),
      };
    },
    judge(r) {
      const notes: string[] = [];
      const d = r.details as {
        readersReceived: { min: number; max: number };
        stalledStillOpen: number;
        stalledServerSendQueueBytes: number;
        clients: number;
        stalled: number;
        logsRssMiB: { first: number; peak: number; secondHalfGrowth: number };
        readersReconnected: number;
        readerReconnects: number;
        readerLagP99Ms: { median: number; max: number };
      };
      // Every reader has every record (a reader cut off came back with Last-Event-ID), and the
      // median reader had them within 2 s.
      const complete =
        d.readersReceived.min === d.readersReceived.max && d.readersReceived.min >= r.delivered;
      const keptUp = complete && d.readerLagP99Ms.median < 2000;
      // Nothing is due to be cut off until a client's unsent bytes pass the loopback buffers:
      // a short run's stalled clients are sent less than that (the logs app's tests prove the cut).
      const behind = d.stalledServerSendQueueBytes / Math.max(1, d.stalled);
      const cutOffDue = !r.details.short;
      const cutOff = d.stalledStillOpen === 0 || !cutOffDue;
      if (!cutOffDue)
        notes.push(
          `short run: the stalled clients hold ${Math.round(behind / 1024)} KiB each in the kernel's buffers, under what makes the logs app wait; no cut-off is due yet`,
        );
      // Each stream holds at most 256 KiB unsent plus one batch: half a MiB a client over a base.
      const growth = d.logsRssMiB.peak - d.logsRssMiB.first;
      const bound = 64 + 0.5 * d.clients;
      const bounded = growth <= bound;
      notes.push(
        `readers received ${d.readersReceived.min}..${d.readersReceived.max} records (${r.delivered} deliveries; lag p99 median ${d.readerLagP99Ms.median} ms, max ${d.readerLagP99Ms.max} ms; ${d.readersReconnected} readers reconnected, ${d.readerReconnects} times); ${d.stalledStillOpen} of ${d.stalled} stalled clients still connected; logs RSS ${d.logsRssMiB.first} -> peak ${d.logsRssMiB.peak} MiB (+${d.logsRssMiB.secondHalfGrowth} MiB in the second half)`,
      );
      if (!cutOff) notes.push('stalled clients are never cut off');
      if (!bounded)
        notes.push(`the logs app grew by ${round(growth)} MiB, more than ${bound} MiB (64 + 0.5 a client)`);
      if (!complete) notes.push('some reading clients missed records');
      else if (!keptUp) notes.push('reading clients fell behind (median lag p99 over 2 s)');
      return { met: keptUp && cutOff && bounded && lostZero(r, notes), notes };
    },
  };
}

export function latencyScenario(delayEachWayMs: number, setDelay: (ms: number) => void): ScenarioDefinition {
  return {
    id: 'redis-latency',
    title: `network latency of ${delayEachWayMs * 2} ms round trip between the apps and Redis (a TCP proxy, ${delayEachWayMs} ms each way)`,
    expectation: 'throughput and p99 reported (lost = 0)',
    minPreMs: 3000,
    enrich(r, view) {
      const { loadStart, faultStart, faultEnd } = view.marks;
      r.details.baseline = windowStats(view, loadStart! + 1000, faultStart!);
      r.details.window = windowStats(view, faultStart! + 1000, faultEnd!);
    },
    inject: async (control) => {
      setDelay(delayEachWayMs);
      try {
        await control.hold(control.ctx.params.short ? 4000 : 20_000);
      } finally {
        setDelay(0);
      }
    },
    judge(r) {
      const notes: string[] = [];
      const w = r.details.window as { rate: number; p99: number; ingestP99: number } | undefined;
      const b = r.details.baseline as { rate: number; p99: number; ingestP99: number } | undefined;
      if (w && b)
        notes.push(
          `with the latency: ${round(w.rate)} deliveries/s, push -> delivery p99 ${round(w.p99)} ms, push answer p99 ${round(w.ingestP99)} ms; without (same stack, before): ${round(b.rate)}/s, p99 ${round(b.p99)} ms, answer p99 ${round(b.ingestP99)} ms`,
        );
      return { met: lostZero(r, notes), notes };
    },
  };
}

export const sharedStackScenarios = (): ScenarioDefinition[] => [
  redisKillScenario('always'),
  redisKillScenario('everysec'),
  redisStop,
  workerKill,
  rollingRestart,
  maxMemory,
  flakyReceivers,
];
