/**
 * The drain after a scenario's load: it follows the system, not a clock. It ends once the
 * queues are empty (nothing waiting, delayed or active in any partition: no work is left
 * that could still deliver or fail anything) and every delivery owed to an accepted event
 * is settled (a receiver answered it 2xx, or a final `failed` record says why not); or at
 * the deadline. Counting receiver requests instead is wrong: deliveries of events the api
 * answered 503 after Redis had taken the write arrive too, and made a drain end while
 * accepted deliveries were still on their way (the "lost 1" of a loaded machine).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '../../bench/lib/agents.js';
import { type DeliverySeen, nowMs } from '../../bench/lib/protocol.js';
import type { PushOutcome } from './pusher.js';
import type { FaultStack } from './stack.js';

/** The part of an access record the account reads. */
export interface AccessRecordLite {
  triggerUrl: string;
  tag: string;
  status: string;
  deliveryId: string;
  attempt: number;
}

export interface DrainSubject {
  stack: FaultStack;
  receiver: Agent;
  namespace: string;
  repositories: string[];
  /** Per repository (a push's `target`): the path each of its triggers' deliveries arrive at. */
  paths: string[][];
  outcomes: PushOutcome[];
}

export interface DrainResult {
  /** Queues empty and every expected delivery settled before the deadline. */
  settled: boolean;
  /** Jobs still waiting, delayed or active when the drain ended. */
  backlogAtEnd: number;
  /** Expected deliveries neither received 2xx nor failed when the drain ended. */
  unsettledAtEnd: number;
  seen: DeliverySeen[];
  failed: AccessRecordLite[];
  retrying: AccessRecordLite[];
}

/**
 * A `failed` record of a delivery BullMQ gave up on because its workers kept dying is
 * written by the worker's failed-event handler, just after the job left the active set:
 * once the queues are empty, what is unsettled must stay so this long before it counts.
 */
const SETTLE_AFTER_EMPTY_MS = 2000;
const POLL_MS = 250;

export const deliveryKey = (path: string, tag: string) => `${path} ${tag}`;

/** The delivery a record is about: its trigger's path and the event's tag. */
export const recordKey = (record: AccessRecordLite) =>
  deliveryKey(new URL(record.triggerUrl).pathname, record.tag);

/** The deliveries owed to the events answered 202: one per trigger of the event's repository. */
export function expectedKeys(subject: Pick<DrainSubject, 'paths' | 'outcomes'>): string[] {
  return subject.outcomes
    .filter((outcome) => outcome.status === 202)
    .flatMap((outcome) => subject.paths[outcome.target]!.map((path) => deliveryKey(path, outcome.tag)));
}

/** Every record of a repository with one status, through the logs app as a user reads them. */
export async function recordsOf(
  logsUrl: string,
  token: string,
  namespace: string,
  repository: string,
  status: string,
): Promise<AccessRecordLite[]> {
  const records: AccessRecordLite[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const query = new URLSearchParams({ status, limit: '200', ...(cursor ? { cursor } : {}) });
    const response = await fetch(
      `${logsUrl}/v1/namespaces/${namespace}/repositories/${repository}/records?${query}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (response.status !== 200)
      throw new Error(`records answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { records: AccessRecordLite[]; nextCursor: string | null };
    records.push(...body.records);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return records;
}

/** The settled view at one moment: the receivers' deliveries and the access log's final records. */
async function look(subject: DrainSubject, token: string, expected: string[]) {
  const prefix = `/hook/${subject.namespace}.`;
  const seen = (await subject.receiver.deliveries()).filter((d) => d.path.startsWith(prefix));
  const failed: AccessRecordLite[] = [];
  const retrying: AccessRecordLite[] = [];
  for (const repository of subject.repositories) {
    const logs = subject.stack.logsUrl;
    failed.push(...(await recordsOf(logs, token, subject.namespace, repository, 'failed')));
    retrying.push(...(await recordsOf(logs, token, subject.namespace, repository, 'retrying')));
  }
  const settled = new Set([
    ...seen.filter((d) => d.ok > 0).map((d) => deliveryKey(d.path, d.tag)),
    ...failed.map(recordKey),
  ]);
  const unsettled = expected.filter((key) => !settled.has(key));
  return { seen, failed, retrying, unsettled };
}

/**
 * `stallMs` is the longest the drain waits while nothing moves (the backlog does not shrink,
 * no delivery settles): a slow machine drains a large backlog for as long as it makes progress,
 * up to `capMs` in all.
 */
export async function drain(
  subject: DrainSubject,
  token: string,
  stallMs: number,
  capMs: number,
): Promise<DrainResult> {
  const expected = expectedKeys(subject);
  const started = nowMs();
  let deadline = started + stallMs;
  let lowestBacklog = Number.POSITIVE_INFINITY;
  let emptySince: number | undefined;
  let unsettledWhenEmpty = -1;
  for (;;) {
    // The backlog first: empty now, nothing can change what is read after it.
    const backlog = await subject.stack.backlog().catch(() => Number.NaN);
    if (backlog < lowestBacklog) {
      lowestBacklog = backlog;
      deadline = Math.min(started + capMs, nowMs() + stallMs);
    }
    const empty = backlog === 0;
    if (!empty) emptySince = undefined;
    // The receivers and the log are read only when they can be final: queues empty, or the end.
    if (empty || nowMs() >= deadline) {
      const view = await look(subject, token, expected);
      const done = view.unsettled.length === 0;
      if (empty && !done && (emptySince === undefined || view.unsettled.length !== unsettledWhenEmpty)) {
        emptySince = nowMs();
        unsettledWhenEmpty = view.unsettled.length;
      }
      const quiet = emptySince !== undefined && nowMs() - emptySince >= SETTLE_AFTER_EMPTY_MS;
      if ((empty && (done || quiet)) || nowMs() >= deadline) {
        return {
          settled: empty && done,
          backlogAtEnd: Number.isNaN(backlog) ? -1 : backlog,
          unsettledAtEnd: view.unsettled.length,
          ...view,
        };
      }
    }
    await sleep(POLL_MS);
  }
}
