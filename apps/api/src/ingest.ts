/**
 * Puts push events durably into the push-event queue. An event id seen again within
 * 24 hours is dropped by BullMQ's deduplication inside the same script that adds the
 * job, so no crash between "remember" and "enqueue" can lose or double an event.
 *
 * A non-2xx answer does not promise that nothing was taken; a retry promises to take only
 * what was not. "Nothing taken" cannot be kept: a request spans many namespaces and queue
 * partitions, i.e. many hash slots (no transaction spans them on a cluster), and a command
 * whose deadline ran out on the client may still run on the server, so even one slot's write
 * can happen after its 503. What holds instead is that every event is marked seen (its dedupe
 * key) in the very script that enqueues it, one event at a time: whatever a failed request
 * left undone, the registry's resend of the same events takes exactly that, and re-takes
 * nothing. That needs the same ids on the resend: a distribution event without an id gets one
 * derived from its content; a push event without an `eventId` gets a random one, so its
 * caller must send ids to retry exactly (the contract says so). Repositories created on the
 * way exist either way and are found by the retry.
 */
import { randomUUID } from 'node:crypto';
import { HttpError } from '@registry-triggers/http-kit';
import {
  EVENT_DEDUPE_TTL_MS,
  type JobContext,
  keys,
  type PartitionedQueue,
  type PushEventJob,
  pushEventJobOptions,
  queueNames,
  type RedisConnection,
  ReplicationTimeoutError,
  type RepositoryStore,
  type RepositoryToEnsure,
  slotMaster,
  waitForReplicas,
} from '@registry-triggers/store';
import type { Queue } from 'bullmq';
import type { CoalescedAdds, PushJob } from './coalesced-adds.js';
import { QUOTA_SETTINGS } from './quotas.js';

export interface IncomingPushEvent {
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
  pushedAt?: number | undefined;
  eventId?: string | undefined;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** One per event, in request order (refused events too). */
  eventIds: string[];
  /**
   * Only when there are any: the events not taken because their repository is new and its
   * namespace is at its quota, and those repositories.
   */
  refused?: number;
  refusedRepositories?: RefusedRepository[];
}

export interface RefusedRepository {
  namespace: string;
  repository: string;
  /** The setting of the quota (REPOSITORIES_PER_NAMESPACE) and its value. */
  quota: string;
  limit: number;
}

/** With replicas > 0, 202 is answered only once that many replicas hold the events. */
export interface Durability {
  redis: RedisConnection;
  replicas: number;
  timeoutMs: number;
}

export interface IngestTarget {
  queue: PartitionedQueue<PushEventJob>;
  /** How the jobs reach the queue: with the other requests' of the same turn (coalesced-adds.ts). */
  adds: CoalescedAdds;
  /** Repositories are created on their first push, so they can be read as soon as 202 is answered. */
  repositories: RepositoryStore;
  durability?: Durability | undefined;
  /** REPOSITORIES_PER_NAMESPACE: a push that would create one more is refused, not taken. */
  repositoriesPerNamespace: number;
  /** INGEST_DEADLINE_MS: a request not taken by then is answered 503 (withinDeadline). */
  deadlineMs?: number | undefined;
}

export function ingestPushEvents(
  target: IngestTarget,
  events: IncomingPushEvent[],
  now: number,
  context: JobContext = {},
): Promise<IngestResult> {
  const work = takeEvents(target, events, now, context);
  return target.deadlineMs === undefined ? work : withinDeadline(work, target.deadlineMs);
}

/**
 * The answer of a request that outlives its deadline: 503 then, rather than after the sender
 * gave up (the distribution registry waits 1 s). Its writes go on; the resend takes exactly
 * what they did not (see the top of this file).
 */
function withinDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  // One promise and one timer per request (no race/finally chain): this runs on every push.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new HttpError(
            503,
            'ingest-deadline',
            `the events were not all taken within ${deadlineMs} ms; send the same events again (only what was not taken is taken)`,
            undefined,
            { 'Retry-After': '1' },
          ),
        ),
      deadlineMs,
    );
    // A failure after the deadline's answer has no one left to tell: reject is then a no-op.
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The job of one event: its data, the retry and removal options, a job id of its own (a
 * deduplicated add answers with the first copy's id) and the 24 h dedupe key of its event id.
 */
export function pushJobFor(
  event: IncomingPushEvent,
  eventId: string,
  now: number,
  context: JobContext = {},
): PushJob {
  const data: PushEventJob = {
    eventId,
    namespace: event.namespace,
    repository: event.repository,
    tag: event.tag,
    digest: event.digest,
    pushedAt: event.pushedAt ?? now,
    receivedAt: now,
    ...(context.requestId ? { requestId: context.requestId } : {}),
    ...(context.traceparent ? { traceparent: context.traceparent } : {}),
  };
  return {
    name: 'push',
    data,
    opts: {
      ...pushEventJobOptions,
      jobId: randomUUID(),
      deduplication: { id: `${event.namespace}/${eventId}`, ttl: EVENT_DEDUPE_TTL_MS },
    },
  };
}

async function takeEvents(
  { queue, adds, repositories, durability, repositoriesPerNamespace }: IngestTarget,
  events: IncomingPushEvent[],
  now: number,
  context: JobContext = {},
): Promise<IngestResult> {
  const eventIds = events.map((event) => event.eventId ?? randomUUID());

  // Each repository once: its first push (date_created is the moment of the first push: the
  // registry's push time, but never later than its arrival here, for a clock ahead or a
  // pushedAt in the future) and its partition.
  const repositoriesOf = new Map<
    string,
    { key: string; first: RepositoryToEnsure; partition: Queue<PushEventJob> }
  >();
  const repositoryOfEvent = events.map((event) => {
    const key = `${event.namespace}/${event.repository}`;
    let repository = repositoriesOf.get(key);
    if (!repository) {
      repository = {
        key,
        first: {
          namespace: event.namespace,
          name: event.repository,
          createdAt: Math.min(event.pushedAt ?? now, now),
        },
        partition: queue.forRepository(event.namespace, event.repository),
      };
      repositoriesOf.set(key, repository);
    }
    return repository;
  });
  // First, so that a push to a repository the quota refuses is not enqueued (and the worker
  // never creates it), and every repository of a 202 can be read at once.
  const { refused } = await repositories.ensureAll(
    [...repositoriesOf.values()].map(({ first }) => first),
    repositoriesPerNamespace,
  );
  const refusedNames = new Set(refused.map(({ namespace, name }) => `${namespace}/${name}`));

  // Group by partition: each group is one script per event on one hash slot (and one replica
  // wait), sent with the other requests' adds of this turn (coalesced-adds.ts).
  const groups = new Map<Queue<PushEventJob>, PushJob[]>();
  let refusedEvents = 0;
  events.forEach((event, index) => {
    const { key, partition } = repositoryOfEvent[index]!;
    if (refusedNames.size > 0 && refusedNames.has(key)) {
      refusedEvents++;
      return;
    }
    const job = pushJobFor(event, eventIds[index]!, now, context);
    const group = groups.get(partition);
    if (group) group.push(job);
    else groups.set(partition, [job]);
  });

  let duplicates = 0;
  await Promise.all(
    [...groups].map(async ([partition, bulk]) => {
      const slotKey = durability
        ? keys.queuePrefix(queueNames.pushEvents, queue.partitions.indexOf(partition))
        : undefined;
      // WAIT only vouches for writes made on its own connection: note the master before writing.
      const wroteVia =
        durability && slotKey !== undefined ? (slotMaster(durability.redis, slotKey) ?? null) : undefined;
      const added = await adds.add(partition, bulk);
      // A deduplicated add answers with the id of the job that already carries the event.
      added.forEach((job, i) => {
        if (job.id !== bulk[i]!.opts.jobId) duplicates++;
      });
      if (durability && slotKey !== undefined) {
        // A duplicate waits too: its first copy may not have reached a replica yet.
        await waitForReplicas(
          durability.redis,
          slotKey,
          durability.replicas,
          durability.timeoutMs,
          wroteVia,
        ).catch((error) => {
          if (!(error instanceof ReplicationTimeoutError)) throw error;
          throw new HttpError(
            503,
            'not-replicated',
            `${error.message}; retry with the same eventId`,
            undefined,
            {
              'Retry-After': '1',
            },
          );
        });
      }
    }),
  );
  if (refusedEvents === 0) return { accepted: events.length - duplicates, duplicates, eventIds };
  return {
    accepted: events.length - refusedEvents - duplicates,
    duplicates,
    eventIds,
    refused: refusedEvents,
    refusedRepositories: refused.map(({ namespace, name }) => ({
      namespace,
      repository: name,
      quota: QUOTA_SETTINGS.repositoriesPerNamespace,
      limit: repositoriesPerNamespace,
    })),
  };
}
