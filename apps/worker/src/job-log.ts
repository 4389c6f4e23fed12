/**
 * One log line per finished job run, with the api's request id it carries: a delivery
 * attempt that failed or will be retried at info, a delivered one and an evaluated push at
 * debug (the busy path stays quiet unless asked for). Never the trigger URL or a header.
 */
import type { Logger } from '@registry-triggers/http-kit';
import { type DeliveryJob, type PushEventJob, queueNames } from '@registry-triggers/store';
import type { Job, Worker } from 'bullmq';

function jobFields(job: Job<DeliveryJob | PushEventJob>) {
  const data = job.data;
  return {
    requestId: data.requestId,
    eventId: data.eventId,
    namespace: data.namespace,
    repository: data.repository,
    ...('deliveryId' in data ? { deliveryId: data.deliveryId, triggerId: data.triggerId } : {}),
    // attemptsMade counts this run once it has ended.
    attempt: job.attemptsMade,
  };
}

export function logJobRuns(workers: Worker[], logger: Logger): void {
  // Checked per job: the level can change at run time, and the fields are not built for nothing.
  const debug = () => logger.isLevelEnabled('debug');
  for (const worker of workers) {
    if (worker.name === queueNames.deliveries) {
      worker.on('completed', (job) => {
        if (debug()) logger.debug(jobFields(job), 'delivered');
      });
      worker.on('failed', (job, error) => {
        if (!job) return;
        const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
        logger.info(
          { ...jobFields(job), reason: error.message.slice(0, 300) },
          final ? 'delivery failed' : 'delivery attempt failed, retrying',
        );
      });
    } else {
      worker.on('completed', (job, result) => {
        if (debug()) logger.debug({ ...jobFields(job), result }, 'push evaluated');
      });
      worker.on('failed', (job, error) => {
        if (job)
          logger.warn({ ...jobFields(job), reason: error.message.slice(0, 300) }, 'push not evaluated');
      });
    }
  }
}
