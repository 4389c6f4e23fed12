/**
 * The concurrency settings bound the whole process, not each partition. One limit shared by
 * all partitions bounds how many jobs run at once; and every partition's BullMQ worker takes
 * jobs only while the process has room: its concurrency is kept at the jobs it holds plus its
 * share of the process's free slots. So one busy partition may use every slot, yet the jobs locked by this
 * process stay near `concurrency` instead of partitions × concurrency (jobs another worker
 * process could have run, held here waiting for a slot, and lost to a stall if this one dies).
 * Each partition's worker may still take one job beyond that (BullMQ's concurrency is at least
 * 1, and a worker waiting on its queue takes the job that arrives).
 */
import type { Job, Worker } from 'bullmq';
import pLimit from 'p-limit';

type Process = (job: Job, token?: string) => Promise<unknown>;

export class ProcessSlots {
  private readonly held = new Map<Worker, number>();
  private total = 0;
  private readonly limit;

  constructor(
    private readonly concurrency: number,
    private readonly partitions: number,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** A partition worker's concurrency before it has run anything: its share of the slots. */
  get initialConcurrency(): number {
    return this.partitions <= 1
      ? this.concurrency
      : Math.max(1, Math.ceil(this.concurrency / this.partitions));
  }

  /** The processor of one partition's worker (`worker()` answers it once constructed). */
  processorFor(worker: () => Worker | undefined, process: Process): Process {
    if (this.partitions <= 1) return process;
    return async (job, token) => {
      const owner = worker();
      if (owner) this.change(owner, 1);
      try {
        return await this.limit(() => process(job, token));
      } finally {
        if (owner) this.change(owner, -1);
      }
    };
  }

  private change(worker: Worker, by: number): void {
    this.held.set(worker, (this.held.get(worker) ?? 0) + by);
    this.total += by;
    // Each worker may take its share of the free slots: all taking every free slot at once
    // would hold partitions × free. A busy partition still grows to every slot, a share at a time.
    const share = Math.ceil(Math.max(0, this.concurrency - this.total) / this.partitions);
    for (const [each, held] of this.held) each.concurrency = Math.max(1, held + share);
  }
}
