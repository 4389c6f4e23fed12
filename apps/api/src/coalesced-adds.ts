/**
 * The jobs that concurrent requests add in the same turn of the event loop, sent to Redis in
 * one socket write instead of one write per request. Each request's body is read in its own
 * I/O callback, and the connection's write batching (store/write-batching.ts) flushes at the
 * end of each callback; deferred to `setImmediate`, after every I/O callback of the turn, the
 * adds of all the turn's requests are made in one tick and leave in one write. Profiled on
 * single-event pushes, that write and Redis reading it were the largest single cost of an
 * event on both sides of the socket; shared by the requests of a turn, it is paid once.
 *
 * Each job is its own `Queue.add` (one script, its dedupe key set in it), not BullMQ's
 * `addBulk`: the write is shared either way, and `addBulk` builds an ioredis Pipeline per
 * call, whose constructor copies every script command BullMQ defines (profiled: 2% of the
 * api, plus the pipeline's own bookkeeping). Each request gets its own outcome: a request
 * fails only when one of its own adds failed (503 from the problem handler), and its resend
 * takes exactly what was not taken, as after any failed request (see ingest.ts).
 */
import type { PushEventJob } from '@registry-triggers/store';
import type { Job, JobsOptions, Queue } from 'bullmq';

export interface PushJob {
  name: string;
  data: PushEventJob;
  opts: JobsOptions;
}

export class CoalescedAdds {
  private waiting: Array<() => void> = [];

  /** Adds `jobs` to `partition` with the other adds of this turn; resolves with their jobs, in order. */
  add(partition: Queue<PushEventJob>, jobs: PushJob[]): Promise<Job<PushEventJob>[]> {
    return new Promise((resolve, reject) => {
      // After the I/O callbacks of this turn: the other requests read in it have added theirs.
      if (this.waiting.length === 0) setImmediate(() => this.flush());
      this.waiting.push(() => {
        Promise.all(jobs.map((job) => partition.add(job.name, job.data, job.opts))).then(resolve, reject);
      });
    });
  }

  private flush(): void {
    const turn = this.waiting;
    this.waiting = [];
    for (const send of turn) send();
  }
}
