/**
 * Deliveries a user asks for by hand: a test push to one trigger, or the redelivery of a
 * record's event. Both go to the worker through the delivery queue like any other.
 */
import { randomUUID } from 'node:crypto';
import { type AccessRecord, deliveryIdFor, type Trigger } from '@registry-triggers/core';
import {
  type DeliveryJob,
  deliveryJobOptions,
  type JobContext,
  keys,
  type PartitionedQueue,
  queueNames,
  type RedisConnection,
} from '@registry-triggers/store';
import { type Job, QueueEvents } from 'bullmq';

/** A well-formed digest for test pushes: sha256 of the empty string. */
export const TEST_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export type TestOutcome =
  | { kind: 'finished'; record: AccessRecord }
  | { kind: 'pending'; deliveryId: string };

export class DeliveryRequests {
  private readonly events = new Map<number, Promise<QueueEvents>>();

  constructor(
    private readonly queue: PartitionedQueue<DeliveryJob>,
    private readonly blockingConnection: () => RedisConnection,
    private readonly waitMs: number,
    private readonly maxAttempts: number,
  ) {}

  async sendTest(trigger: Trigger, context: JobContext = {}): Promise<TestOutcome> {
    const deliveryId = deliveryIdFor(`test-${randomUUID()}`, trigger.id);
    const partition = this.queue.forRepository(trigger.namespace, trigger.repository);
    const events = await this.eventsFor(this.queue.partitions.indexOf(partition));
    const finished = new Promise<AccessRecord | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), this.waitMs);
      const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
        if (jobId === deliveryId) done(returnvalue as AccessRecord);
      };
      const done = (record: AccessRecord | undefined) => {
        clearTimeout(timer);
        events.off('completed', onCompleted);
        resolve(record);
      };
      events.on('completed', onCompleted);
    });
    const job: DeliveryJob = {
      deliveryId,
      eventId: `test-${deliveryId}`,
      namespace: trigger.namespace,
      repository: trigger.repository,
      triggerId: trigger.id,
      tag: 'test',
      digest: TEST_DIGEST,
      pushedAt: Date.now(),
      singleAttempt: true,
      ...context,
    };
    await partition.add('test', job, { ...deliveryJobOptions(1), jobId: deliveryId });
    const record = await finished;
    return record ? { kind: 'finished', record } : { kind: 'pending', deliveryId };
  }

  /** A new delivery (new webhook-id) of the record's event to the trigger, whatever its filter says. */
  async redeliver(trigger: Trigger, record: AccessRecord, context: JobContext = {}): Promise<string> {
    const deliveryId = deliveryIdFor(`redeliver-${randomUUID()}`, trigger.id);
    const job: DeliveryJob = {
      deliveryId,
      eventId: record.eventId,
      namespace: trigger.namespace,
      repository: trigger.repository,
      triggerId: trigger.id,
      tag: record.tag,
      digest: record.digest,
      pushedAt: record.requestTime,
      ...(record.requestBody ? { body: record.requestBody } : {}),
      ...context,
    };
    await this.queue
      .forRepository(trigger.namespace, trigger.repository)
      .add('redeliver', job, { ...deliveryJobOptions(this.maxAttempts), jobId: deliveryId });
    return deliveryId;
  }

  /** The queue job of a delivery of the trigger, while the queue keeps it. */
  async jobOf(trigger: Trigger, deliveryId: string): Promise<Job<DeliveryJob> | undefined> {
    return this.queue.forRepository(trigger.namespace, trigger.repository).getJob(deliveryId);
  }

  private eventsFor(partition: number): Promise<QueueEvents> {
    let events = this.events.get(partition);
    if (!events) {
      events = this.startEvents(partition);
      this.events.set(partition, events);
      events.catch(() => this.events.delete(partition));
    }
    return events;
  }

  /**
   * Follows the partition's events from the stream's current end, not from '$': '$' means
   * "from when the first read reaches Redis", and on a cluster that read first waits for a
   * new node connection, long enough for a fast test delivery to complete unseen.
   */
  private async startEvents(partition: number): Promise<QueueEvents> {
    const connection = this.blockingConnection();
    const eventsKey = this.queue.partitions[partition]!.keys.events!;
    const [newest] = (await connection.xrevrange(eventsKey, '+', '-', 'COUNT', 1)) as Array<
      [string, string[]]
    >;
    const events = new QueueEvents(queueNames.deliveries, {
      connection,
      prefix: keys.queuePrefix(queueNames.deliveries, partition),
      lastEventId: newest?.[0] ?? '0-0',
    });
    await events.waitUntilReady();
    return events;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.events.values()].map((events) =>
        events.then(
          (started) => started.close(),
          () => {},
        ),
      ),
    );
  }
}
