/**
 * Every Redis key the product uses, in one place. Each key carries a hash tag so
 * that every request and every multi-key script stays inside one Redis Cluster slot:
 * tenant data is tagged by namespace, queues by queue name and partition.
 */
import { partitionSlot, tagInSlot } from './slots.js';

const ROOT = 'rt';

const tenant = (namespace: string) => `${ROOT}:{ns:${namespace}}`;

export const keys = {
  /**
   * Hash: hex sha256(token) → JSON { id, name, scope, createdAt, expiresAt?, prefix }
   * (tokens.ts). Entries of before token scopes hold only { createdAt }: admin tokens.
   */
  namespaceTokens: (namespace: string) => `${tenant(namespace)}:tokens`,
  /** Hash: hex sha256(token) → epoch ms it was last used (written at most once a minute per token). */
  namespaceTokenUse: (namespace: string) => `${tenant(namespace)}:tokens:used`,
  /** Sorted set of repository names (score 0, lexicographic order). */
  repositoryIndex: (namespace: string) => `${tenant(namespace)}:repos`,
  /** Hash of one repository's metadata. */
  repository: (namespace: string, repository: string) => `${tenant(namespace)}:repo:${repository}`,
  /** Hash: trigger id → JSON trigger, for one repository. */
  triggers: (namespace: string, repository: string) => `${tenant(namespace)}:triggers:${repository}`,
  /**
   * Hash: repository name → how many triggers it holds, for the namespace's trigger quota
   * (triggers.ts). A repository's count is rewritten by every trigger create and delete in it.
   */
  triggerCounts: (namespace: string) => `${tenant(namespace)}:trigger-counts`,
  /** Stream holding every access-log record of a namespace (the record id is its entry id). */
  recordLog: (namespace: string) => `${tenant(namespace)}:log`,
  /** Index stream per trigger: same entry ids as the namespace log, with status and tag only. */
  triggerRecordIndex: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:log:trigger:${repository}:${triggerId}`,
  /** Index stream per repository, like the trigger index. */
  repositoryRecordIndex: (namespace: string, repository: string) =>
    `${tenant(namespace)}:log:repo:${repository}`,
  /**
   * Hash: write id → the reply of that access-log write, for the namespace's newest writes
   * (a retried write answers it instead of adding the record twice). Two generations, the
   * current one and the one before it, so the markers are bounded by the log's retention
   * (record-writes.ts says why that is enough).
   */
  recordWrites: (namespace: string, generation: 'current' | 'previous') =>
    `${tenant(namespace)}:log:writes:${generation}`,
  /**
   * String: where one delivery stands while it runs or waits for a retry (`sending`,
   * `waiting <attempt>`, `cancelled`; delivery-states.ts), so a cancel and the next attempt
   * exclude each other. Gone once the delivery has ended.
   */
  deliveryState: (namespace: string, deliveryId: string) => `${tenant(namespace)}:delivery:${deliveryId}`,
  /** Hash: trigger id → epoch ms since which its deliveries have failed with no success in between. */
  triggerHealth: (namespace: string, repository: string) =>
    `${tenant(namespace)}:trigger-health:${repository}`,
  /**
   * Hash: tag → JSON { d: digest, e: the push that set it, p: the digest before it } of one
   * repository, the last digest of each of its tags (tag-digests.ts: capped and expiring).
   */
  tagDigests: (namespace: string, repository: string) => `${tenant(namespace)}:tag-digests:${repository}`,
  /**
   * Delivery gates of one trigger (delivery-gates.ts), all under the namespace's tag so every
   * gate script is one slot. Sorted set: delivery id → its push's acceptance time (ordered).
   */
  gateOrder: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:gate:order:${repository}:${triggerId}`,
  /** Sorted set: delivery id → acceptance time, of one tag's pending deliveries (coalesce). */
  gateCoalesce: (namespace: string, repository: string, triggerId: string, tag: string) =>
    `${tenant(namespace)}:gate:coalesce:${repository}:${triggerId}:${tag}`,
  /** String: the delivery id of the tag's attempt in flight (coalesce), expiring with its lease. */
  gateCoalesceLease: (namespace: string, repository: string, triggerId: string, tag: string) =>
    `${tenant(namespace)}:gate:coalesce-lease:${repository}:${triggerId}:${tag}`,
  /** String "<score> <event id>": the newest push of the tag whose delivery has ended (coalesce). */
  gateCoalesceDone: (namespace: string, repository: string, triggerId: string, tag: string) =>
    `${tenant(namespace)}:gate:coalesce-done:${repository}:${triggerId}:${tag}`,
  /** Hash: delivery id → "<registered at, Redis ms> <event id>" of the registered deliveries. */
  gateMeta: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:gate:meta:${repository}:${triggerId}`,
  /** Hash { tat, r:<delivery id> → reserved slot } of a trigger's rateLimit (GCRA, µs). */
  gateRate: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:gate:rate:${repository}:${triggerId}`,
  /** Sorted set: delivery id → lease expiry (Redis ms) of the trigger's attempts in flight. */
  gateInFlight: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:gate:in-flight:${repository}:${triggerId}`,
  /** Sorted set: delivery id → since when it waits for an in-flight slot of the trigger. */
  gateInFlightWaiters: (namespace: string, repository: string, triggerId: string) =>
    `${tenant(namespace)}:gate:in-flight-waiters:${repository}:${triggerId}`,
  /** Hash like gateRate for DELIVERY_HOST_RATE_LIMIT: one slot per receiver host, shared by all namespaces. */
  hostRate: (host: string) => `${ROOT}:{rate:host:${host}}`,
  /** Hash { pem, sha256 } of a namespace's private CA bundle (ca-bundles.ts). */
  caBundle: (namespace: string) => `${tenant(namespace)}:ca-bundle`,
  /**
   * BullMQ prefix of one queue partition; BullMQ appends `:<queue name>:...`. The tag is
   * `q:<queue name>:<partition>:<salt>`, the salt placing it on the partition's planned slot
   * (slots.ts): partitions spread over the masters, and both queues of a partition share a
   * slot, so one master holds an event's whole way through the queues.
   */
  queuePrefix: (queueName: string, partition: number) =>
    `${ROOT}:{${tagInSlot(`q:${queueName}:${partition}`, partitionSlot(partition))}}`,
  /**
   * String written just before a WAIT on a side connection (durability.ts says why), one per
   * master, expiring a minute after its last use. `salt` picks a slot of that master; none on
   * one server.
   */
  replicaFence: (salt?: string) => `${ROOT}:{wait-fence${salt === undefined ? '' : `:${salt}`}}`,
  /**
   * Sorted set: worker process id → epoch ms of its last heartbeat (liveness.ts). The api's
   * /readyz and metrics count the members seen lately.
   */
  workerHeartbeats: () => `${ROOT}:{workers}:heartbeats`,
  /**
   * Sorted set: the times of a token's latest `POST .../test` requests (rate-limit.ts), by the
   * hex sha256 of the token; one slot per token, shared by every api replica.
   */
  testDeliveryRate: (tokenDigest: string) => `${ROOT}:{rate:test:${tokenDigest}}`,
  /**
   * String: the queue partition count of a cluster's processes, recorded by the first one
   * to start without QUEUE_PARTITIONS, or by an api with it (partitions.ts).
   */
  queuePartitions: () => `${ROOT}:{queues}:partitions`,
  /** String the api's /readyz writes (expiring) to learn that Redis takes writes. */
  readinessProbe: () => `${ROOT}:{readiness}:probe`,
  /** The fence in one given slot, for a master that owns too few slots for a short salt. */
  replicaFenceInSlot: (slot: number) => `${ROOT}:{${tagInSlot('wait-fence', slot)}}`,
} as const;
