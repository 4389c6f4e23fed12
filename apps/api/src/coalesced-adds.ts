/**
 * The jobs that concurrent requests add to one queue partition in the same turn of the event
 * loop, sent to Redis as one pipeline (BullMQ's addBulk: one script per job, no MULTI) instead
 * of one write per request. Profiled on single-event pushes, that write and Redis reading it
 * were the largest single cost of an event on both sides of the socket; shared by the requests
 * of a turn, it is paid once for all of them.
 *
 * What each job's script does is unchanged (its dedupe key is set in the script that adds it),
 * so what the batch shares is only the round trip: when it fails, every request in it fails
 * (503 from the problem handler) and the resends take exactly what was not taken, as after any
 * failed request (see ingest.ts).
 */
import type { PushEventJob } from '@registry-triggers/store';
import type { Job, JobsOptions, Queue } from 'bullmq';

export interface PushJob {
  name: string;
  data: PushEventJob;
  opts: JobsOptions;
}

interface Waiting {
  jobs: PushJob[];
  resolve: (added: Job<PushEventJob>[]) => void;
  reject: (error: unknown) => void;
}

export class CoalescedAdds {
  private readonly waiting = new Map<Queue<PushEventJob>, Waiting[]>();

  /** Adds `jobs` to `partition` with the other adds of this turn; resolves with their jobs, in order. */
  add(partition: Queue<PushEventJob>, jobs: PushJob[]): Promise<Job<PushEventJob>[]> {
    return new Promise((resolve, reject) => {
      const turn = this.waiting.get(partition);
      if (turn) {
        turn.push({ jobs, resolve, reject });
        return;
      }
      this.waiting.set(partition, [{ jobs, resolve, reject }]);
      // After the I/O callbacks of this turn: the other requests read in it have added theirs.
      setImmediate(() => this.flush(partition));
    });
  }

  private flush(partition: Queue<PushEventJob>): void {
    const turn = this.waiting.get(partition) ?? [];
    this.waiting.delete(partition);
    const jobs = turn.length === 1 ? turn[0]!.jobs : turn.flatMap((request) => request.jobs);
    const only = jobs.length === 1 ? jobs[0]! : undefined;
    // One job is one script: no pipeline around it.
    const added = only
      ? partition.add(only.name, only.data, only.opts).then((job) => [job])
      : partition.addBulk(jobs);
    added.then(
      (added) => {
        let at = 0;
        for (const request of turn) {
          request.resolve(added.slice(at, at + request.jobs.length));
          at += request.jobs.length;
        }
      },
      (error: unknown) => {
        for (const request of turn) request.reject(error);
      },
    );
  }
}
