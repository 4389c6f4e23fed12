/**
 * Row 5: Redis commands per delivered notification, from INFO commandstats (which counts
 * every command a Lua script runs as well as the EVALSHA), against the same count for one
 * bare BullMQ job added and processed, and for one notification of the minimal two-hop
 * pipeline. Only INFO itself (the benchmark's reads) is dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { keys } from '@registry-triggers/store';
import type { RowResult, StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { perUnit, traceCommands } from '../lib/monitor.js';
import { commandCalls, diffCalls } from '../lib/redis-info.js';
import { INGEST_TOKEN } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { pushFor, type Topology } from './pipeline.js';
import { bareQueue } from './throughput.js';

const CLIENTS = 8;

async function sendN(count: number, concurrency: number, send: (seq: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await send(next++);
    }),
  );
}

function addInto(total: Map<string, number>, diff: Map<string, number>) {
  for (const [command, count] of diff) total.set(command, (total.get(command) ?? 0) + count);
}

const sum = (diff: Map<string, number>) => [...diff.values()].reduce((a, b) => a + b, 0);

/** Top commands per unit, e.g. { evalsha: 6, hget: 1, ... }. */
function breakdown(total: Map<string, number>, units: number, top = 14): Record<string, number> {
  return Object.fromEntries(
    [...total.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([command, count]) => [command, round(count / units, 2)]),
  );
}

export async function commandsRows(ctx: StackContext, topology: Topology): Promise<RowResult[]> {
  const notifications = ctx.options.quick ? 1000 : 2000;
  const client = new PushClient(ctx.apiUrl, INGEST_TOKEN, CLIENTS);
  const minimalClient = new PushClient(
    `http://127.0.0.1:${ctx.minimalPipeline.ports.http}`,
    INGEST_TOKEN,
    CLIENTS,
  );
  const bare = bareQueue(ctx);
  const { receiver, bareWorker } = ctx;

  /** Runs `work` between two commandstats reads, after a quiet moment, and settles before the second. */
  async function measure(work: () => Promise<void>): Promise<Map<string, number>> {
    await sleep(500);
    const before = await commandCalls(ctx.redis);
    await work();
    await sleep(1000); // the record and the job completion follow the receiver's answer
    const diff = diffCalls(before, await commandCalls(ctx.redis));
    diff.delete('info');
    return diff;
  }

  const recordsOf = (namespace: string) => ctx.redis.xlen(keys.recordLog(namespace));
  const rounds: Array<Record<string, number | string>> = [];
  const totals = {
    product: new Map<string, number>(),
    bare: new Map<string, number>(),
    minimal: new Map<string, number>(),
    fan: new Map<string, number>(),
  };
  const notes: string[] = [];
  for (let r = 0; r < ctx.options.rounds; r++) {
    ctx.setPhase(`commands r${r + 1}`);
    const logBefore = await recordsOf(topology.commands.namespace);
    const product = await measure(async () => {
      const base = receiver.count('fast');
      await sendN(notifications, CLIENTS, (seq) => client.push(pushFor(topology.commands, `v${seq}`)));
      await receiver.until(() => receiver.count('fast') - base >= notifications, 60_000);
    });
    const written = (await recordsOf(topology.commands.namespace)) - logBefore;
    if (written !== notifications)
      notes.push(`round ${r + 1}: ${written} records for ${notifications} pushes`);

    const bareDiff = await measure(async () => {
      const base = bareWorker.count('completed');
      await sendN(notifications, CLIENTS, bare.add);
      await bareWorker.until(() => bareWorker.count('completed') - base >= notifications, 60_000);
    });

    const minimal = await measure(async () => {
      const base = receiver.count('minimal');
      await sendN(notifications, CLIENTS, (seq) => minimalClient.push(pushFor(topology.one, `v${seq}`)));
      await receiver.until(() => receiver.count('minimal') - base >= notifications, 60_000);
    });

    const fanPushes = notifications / 10;
    const fan = await measure(async () => {
      const base = receiver.count('fast');
      await sendN(fanPushes, CLIENTS, (seq) => client.push(pushFor(topology.commandsFan, `v${seq}`)));
      await receiver.until(() => receiver.count('fast') - base >= notifications, 60_000);
    });

    addInto(totals.product, product);
    addInto(totals.bare, bareDiff);
    addInto(totals.minimal, minimal);
    addInto(totals.fan, fan);
    const perProduct = sum(product) / notifications;
    const perBare = sum(bareDiff) / notifications;
    const perMinimal = sum(minimal) / notifications;
    const perFan = sum(fan) / notifications;
    rounds.push({
      round: r + 1,
      product: round(perProduct, 1),
      baseline: round(perBare, 1),
      ratio: round(perProduct / perBare),
      minimalPipeline: round(perMinimal, 1),
      ratioToMinimal: round(perProduct / perMinimal),
      fanOutPerDelivery: round(perFan, 1),
    });
    ctx.log(
      `  commands round ${r + 1}: ${perProduct.toFixed(1)} per notification, bare job ${perBare.toFixed(1)}, minimal pipeline ${perMinimal.toFixed(1)}, fan-out ${perFan.toFixed(1)} per delivery`,
    );
  }

  // One more pass of each under MONITOR, to say which connection and which script spent them.
  const traced = Math.min(200, notifications);
  ctx.setPhase('commands trace');
  await sleep(500);
  const productTrace = await traceCommands(ctx.redisUrl, async () => {
    const base = receiver.count('fast');
    await sendN(traced, CLIENTS, (seq) => client.push(pushFor(topology.commands, `m${seq}`)));
    await receiver.until(() => receiver.count('fast') - base >= traced, 60_000);
    await sleep(1000);
  });
  const bareTrace = await traceCommands(ctx.redisUrl, async () => {
    const base = bareWorker.count('completed');
    await sendN(traced, CLIENTS, bare.add);
    await bareWorker.until(() => bareWorker.count('completed') - base >= traced, 60_000);
    await sleep(1000);
  });
  await client.close();
  await minimalClient.close();
  await bare.close();
  const units = notifications * ctx.options.rounds;
  const ratio = median(rounds.map((x) => x.ratio as number));
  const ratioToMinimal = median(rounds.map((x) => x.ratioToMinimal as number));
  const minimalRow: RowResult = {
    id: 'redis-commands-minimal',
    figure: 'Redis commands per delivered notification, against the minimal two-hop pipeline',
    value: `${median(rounds.map((x) => x.product as number))} commands`,
    baseline: `minimal pipeline: ${median(rounds.map((x) => x.minimalPipeline as number))} commands`,
    ratio: round(ratioToMinimal),
    target: '<= 1.5x',
    met: ratioToMinimal <= 1.5,
    rounds: rounds.map((x) => ({
      round: x.round as number,
      product: x.product as number,
      baseline: x.minimalPipeline as number,
      ratio: x.ratioToMinimal as number,
    })),
    details: { perMinimalNotification: breakdown(totals.minimal, units) },
  };
  const bareRow: RowResult = {
    id: 'redis-commands',
    figure:
      'Redis commands per delivered notification (1 ALL trigger; INFO commandstats, script inner commands included)',
    value: `${median(rounds.map((x) => x.product as number))} commands`,
    baseline: `one bare BullMQ job (add + process): ${median(rounds.map((x) => x.baseline as number))} commands`,
    ratio: round(ratio),
    target: '<= 2.5x',
    met: ratio <= 2.5,
    rounds,
    details: {
      notificationsPerRound: notifications,
      perNotification: breakdown(totals.product, units),
      perBareJob: breakdown(totals.bare, units),
      perFanOutDelivery: breakdown(totals.fan, units),
      tracedPerNotification: perUnit(productTrace, traced),
      tracedPerBareJob: perUnit(bareTrace, traced),
    },
    notes,
  };
  return [bareRow, minimalRow];
}
