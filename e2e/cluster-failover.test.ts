/**
 * A master failover under load: a registry keeps pushing while the Redis master that owns
 * the repository's push-events partition is SIGKILLed and its replica takes over. Every
 * event the api answered 202 must reach each matching trigger exactly once, and the access
 * log must hold one record per delivery and one untriggered record per non-matching event.
 */
import { keys, partitionFor, queueNames } from '@registry-triggers/store';
import { type Receiver, sleep, startReceiver } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterStack, startClusterStack } from './support/cluster-stack.js';
import { INGEST_TOKEN } from './support/stack.js';

const REPOSITORY = 'team/app';
const EVENTS = 300;
const PACE_MS = 20; // 300 events over 6 s
const KILL_AT = 100; // the master dies 2 s into the load
const RETRY_DEADLINE_MS = 30_000;
const LOCK_MS = 20_000;

interface PushOutcome {
  eventId: string;
  tag: string;
  digest: string;
  /** Status of every try, in order (0: no answer at all). */
  statuses: number[];
  /** The problem `code` of each 503 (or 'no-answer'). */
  refusals: string[];
  accepted: boolean;
  latencyMs: number[];
}

function tally(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Records as `<eventId> <status>` against the expected ones, both ways, duplicates counted. */
function difference(
  records: Array<{ eventId: string; status: string; attempt: number; id: string }>,
  expected: string[],
) {
  const left = tally(expected);
  const extra: string[] = [];
  for (const record of records) {
    const key = `${record.eventId} ${record.status}`;
    const n = left.get(key) ?? 0;
    if (n > 0) left.set(key, n - 1);
    else extra.push(`${key} (attempt ${record.attempt}, record ${record.id})`);
  }
  const missing = [...left].flatMap(([key, n]) => Array.from({ length: n }, () => key));
  return { extra, missing };
}

const digestFor = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

describe('Redis Cluster: a master failover under load', () => {
  let stack: ClusterStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startClusterStack({
      partitions: 3,
      workerEnv: {
        // Longer than a failover (a job whose commands wait the failover out is still the
        // worker's when they go through), shorter than the 30 s default: a job a worker
        // fetched as the master died, whose reply was lost, is active with nobody's lock
        // and runs once that lock expires (plus up to half of it for the stall check).
        WORKER_LOCK_DURATION_MS: String(LOCK_MS),
        SHUTDOWN_DEADLINE_MS: '5000',
      },
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  /** One push as a registry sends it: retried with the same eventId on 503 or no answer. */
  async function pushUntilAccepted(namespace: string, i: number): Promise<PushOutcome> {
    const event = {
      namespace,
      repository: REPOSITORY,
      tag: i % 2 === 0 ? 'stable' : `build-${i}`,
      digest: digestFor(i),
      eventId: `evt-${i}`,
    };
    const outcome: PushOutcome = { ...event, statuses: [], refusals: [], accepted: false, latencyMs: [] };
    const deadline = Date.now() + RETRY_DEADLINE_MS;
    for (;;) {
      const started = Date.now();
      let retryAfterMs = 250;
      try {
        const response = await fetch(`${stack.apiUrl}/v1/events/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(5000),
        });
        const text = await response.text();
        outcome.statuses.push(response.status);
        if (response.status !== 202) outcome.refusals.push(String(JSON.parse(text).code));
        const retryAfter = Number(response.headers.get('retry-after'));
        if (retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch {
        outcome.statuses.push(0);
        outcome.refusals.push('no-answer');
      }
      outcome.latencyMs.push(Date.now() - started);
      const status = outcome.statuses.at(-1)!;
      if (status === 202) {
        outcome.accepted = true;
        return outcome;
      }
      if (status !== 503 && status !== 0) return outcome;
      if (Date.now() + retryAfterMs > deadline) return outcome;
      await sleep(retryAfterMs);
    }
  }

  it('delivers every accepted event exactly once per matching trigger and logs all of it', async () => {
    // A namespace whose access log lives on the master of its repository's partition: the
    // kill takes down everything the event touches (queues, triggers, records) at once.
    let namespace = '';
    let partitionKey = '';
    let owner = { slot: 0, port: 0 };
    for (let k = 0; !namespace; k++) {
      const candidate = `failover-${k}`;
      partitionKey = keys.queuePrefix(
        queueNames.pushEvents,
        partitionFor(candidate, REPOSITORY, stack.partitions),
      );
      owner = await stack.slotOwner(partitionKey);
      if ((await stack.slotOwner(keys.recordLog(candidate))).port === owner.port) namespace = candidate;
    }

    const all = await stack.createTrigger(namespace, REPOSITORY, {
      name: 'all',
      url: `${receiver.origin}/all`,
      type: 'ALL',
    });
    const list = await stack.createTrigger(namespace, REPOSITORY, {
      name: 'stable-only',
      url: `${receiver.origin}/list`,
      type: 'TAG_LIST',
      tags: ['stable'],
    });

    // The load: one push every PACE_MS, each retried on its own like a registry does; the
    // master of the repository's partition is killed mid-load.
    const started = Date.now();
    const pushes: Array<Promise<PushOutcome>> = [];
    let failover: Promise<{ killedPort: number; killedAfterMs: number; failoverMs: number }> | undefined;
    let killedAt = 0;
    for (let i = 0; i < EVENTS; i++) {
      await sleep(Math.max(0, started + i * PACE_MS - Date.now()));
      pushes.push(pushUntilAccepted(namespace, i));
      if (i === KILL_AT) {
        failover = (async () => {
          const killedAfterMs = Date.now() - started;
          const killed = await stack.cluster.killMaster(partitionKey);
          killedAt = Date.now();
          await stack.cluster.waitForFailover(30_000);
          return { killedPort: killed.port, killedAfterMs, failoverMs: Date.now() - killedAt };
        })();
        failover.catch(() => {}); // awaited below; no unhandled rejection meanwhile
      }
    }
    const outcomes = await Promise.all(pushes);
    const failed = await failover!;
    expect(failed.killedPort).toBe(owner.port);
    expect((await stack.slotOwner(partitionKey)).port).not.toBe(owner.port);

    const accepted = outcomes.filter((outcome) => outcome.accepted);
    const matching = accepted.filter((outcome) => outcome.tag === 'stable');
    const nonMatching = accepted.filter((outcome) => outcome.tag !== 'stable');

    // Every delivery arrived, then nothing is left to run: no later duplicate can come.
    await receiver.waitForRequests(accepted.length + matching.length, LOCK_MS * 2);
    const lastDeliveryAfterKillMs = Math.max(...receiver.requests.map((r) => r.receivedAt)) - killedAt;
    await stack.waitForIdleQueues(30_000);

    const duplicates = (values: string[]) => [...tally(values)].filter(([, n]) => n > 1);
    const duplicateWebhookIds = duplicates(
      receiver.requests.map((request) => request.headers['webhook-id']!),
    );
    const duplicateEvents = duplicates(
      receiver.requests.map((request) => `${request.url} ${JSON.parse(request.body).push_data.digest}`),
    );
    const allRecords = await stack.allRecords(namespace, REPOSITORY, all.id);
    const listRecords = await stack.allRecords(namespace, REPOSITORY, list.id);

    const figures = {
      events: EVENTS,
      accepted: accepted.length,
      answered503: outcomes.reduce((sum, o) => sum + o.statuses.filter((status) => status === 503).length, 0),
      refusals: Object.fromEntries(tally(outcomes.flatMap((outcome) => outcome.refusals))),
      refusedBeforeKill: outcomes.slice(0, KILL_AT).reduce((sum, o) => sum + o.refusals.length, 0),
      eventsRetried: outcomes.filter((o) => o.statuses.length > 1).length,
      retries: outcomes.reduce((sum, o) => sum + o.statuses.length - 1, 0),
      // How long the api took to answer, 202s and 503s apart (a 0 is the client giving up at 5 s).
      maxMsTo202: Math.max(...outcomes.flatMap((o) => o.latencyMs.filter((_, i) => o.statuses[i] === 202))),
      maxMsTo503: Math.max(
        0,
        ...outcomes.flatMap((o) => o.latencyMs.filter((_, i) => o.statuses[i] === 503)),
      ),
      deliveries: receiver.requests.length,
      expectedDeliveries: accepted.length + matching.length,
      duplicateWebhookIds: duplicateWebhookIds.length,
      duplicateEvents: duplicateEvents.length,
      records: allRecords.length + listRecords.length,
      ...failed,
      lastDeliveryAfterKillMs,
    };
    console.log(`[cluster-failover] ${JSON.stringify(figures)}`);
    if (duplicateWebhookIds.length > 0) {
      // When each copy arrived (ms after the kill) and the attempts the access log holds for it.
      const detail = duplicateWebhookIds.map(([id]) => ({
        id,
        receivedAfterKillMs: receiver.requests
          .filter((request) => request.headers['webhook-id'] === id)
          .map((request) => request.receivedAt - killedAt),
        records: [...allRecords, ...listRecords]
          .filter((record) => record.deliveryId === id)
          .map((record) => ({
            attempt: record.attempt,
            status: record.status,
            at: record.requestTime - killedAt,
          })),
      }));
      console.log(`[cluster-failover] duplicates ${JSON.stringify(detail)}`);
    }

    expect(outcomes.filter((o) => !o.accepted).map((o) => [o.eventId, o.refusals])).toEqual([]);
    expect(duplicateWebhookIds).toEqual([]);
    expect(duplicateEvents).toEqual([]);
    expect(receiver.requests.filter((r) => r.url === '/all')).toHaveLength(accepted.length);
    expect(receiver.requests.filter((r) => r.url === '/list')).toHaveLength(matching.length);

    // The access log: one succeeded record per delivery, one untriggered record per non-matching event.
    const as = (status: string) => (outcome: PushOutcome) => `${outcome.eventId} ${status}`;
    expect(difference(allRecords, accepted.map(as('succeeded')))).toEqual({ extra: [], missing: [] });
    expect(
      difference(listRecords, [...matching.map(as('succeeded')), ...nonMatching.map(as('untriggered'))]),
    ).toEqual({ extra: [], missing: [] });
  });
});
