/**
 * A registry pushing at a steady rate (an open loop: requests leave on schedule whether or
 * not earlier ones were answered), one event per request, each with its own `eventId`.
 * Like a load balancer in front of several apis, a request whose connection failed before
 * any answer (refused, reset) is sent again, with the same eventId, to the next api; an
 * HTTP answer is final (a 503 is counted, not retried, so every 503 is visible).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { DIGEST } from '../../bench/lib/load.js';
import { nowMs } from '../../bench/lib/protocol.js';

export interface PushTarget {
  namespace: string;
  repository: string;
}

export interface PushOutcome {
  seq: number;
  eventId: string;
  target: number;
  tag: string;
  sentAt: number;
  answeredAt: number;
  /** HTTP status, or 0 when no api answered (every try failed, or the answer timed out). */
  status: number;
  retryAfter?: string;
  /** Connection-level failures retried on another api. */
  retries: number;
  error?: string;
}

const NETWORK_RETRIES = 4;
/** An answer later than this counts as a hang (status 0). */
const ANSWER_TIMEOUT_MS = 10_000;

export class SteadyPusher {
  readonly outcomes: PushOutcome[] = [];
  private readonly pools: Pool[];
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();
  sent = 0;
  accepted = 0;

  constructor(
    apiUrls: string[],
    private readonly token: string,
    private readonly targets: PushTarget[],
    private readonly eventPrefix: string,
  ) {
    this.pools = apiUrls.map(
      (url) =>
        new Pool(url, {
          connections: 256,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          headersTimeout: ANSWER_TIMEOUT_MS,
          bodyTimeout: ANSWER_TIMEOUT_MS,
          connectTimeout: 2000,
        }),
    );
  }

  /** Starts pushing `ratePerSec` until stop(). */
  start(ratePerSec: number): void {
    this.running = true;
    this.loop = this.run(ratePerSec);
  }

  private async run(ratePerSec: number): Promise<void> {
    const start = nowMs();
    const interval = 1000 / ratePerSec;
    let due = 0;
    while (this.running) {
      const now = nowMs();
      while (this.running && start + due * interval <= now) {
        const request = this.pushOne(this.sent++);
        this.pending.add(request);
        void request.finally(() => this.pending.delete(request));
        due++;
      }
      await sleep(2);
    }
  }

  private async pushOne(seq: number): Promise<void> {
    const target = seq % this.targets.length;
    const { namespace, repository } = this.targets[target]!;
    const tag = `e${seq}`;
    const eventId = `${this.eventPrefix}-${seq}`;
    const body = JSON.stringify({ namespace, repository, tag, digest: DIGEST, eventId });
    const outcome: PushOutcome = {
      seq,
      eventId,
      target,
      tag,
      sentAt: nowMs(),
      answeredAt: 0,
      status: 0,
      retries: 0,
    };
    for (let attempt = 0; attempt <= NETWORK_RETRIES; attempt++) {
      const pool = this.pools[(seq + attempt) % this.pools.length]!;
      try {
        const response = await pool.request({
          path: '/v1/events/push',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
          body,
        });
        await response.body.dump();
        outcome.status = response.statusCode;
        const retryAfter = response.headers['retry-after'];
        if (typeof retryAfter === 'string') outcome.retryAfter = retryAfter;
        break;
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        outcome.error = code || String(error);
        // A timed-out answer may still be processed: not retried, it is a hang.
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') break;
        outcome.retries++;
        await sleep(50);
      }
    }
    outcome.answeredAt = nowMs();
    if (outcome.status === 202) this.accepted++;
    this.outcomes.push(outcome);
  }

  /** Stops sending; resolves once every request has its answer. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}
