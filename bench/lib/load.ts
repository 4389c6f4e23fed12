/** Load generators: closed loops (N clients, each sends when its last answer came) and open loops (a fixed rate). */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { nowMs } from './protocol.js';

export interface ClosedLoopOptions {
  concurrency: number;
  /** One request; resolves with the number of units (events, jobs) it completed. */
  op: (seq: number) => Promise<number>;
  /** Awaited before every request: a bound on the backlog downstream. */
  gate?: () => Promise<void>;
}

export class ClosedLoop {
  completed = 0;
  started = 0;
  errors = 0;
  lastError: string | undefined;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly options: ClosedLoopOptions) {
    this.loops = Array.from({ length: options.concurrency }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.options.gate) await this.options.gate();
      if (!this.running) break;
      const seq = this.started++;
      try {
        // Not `+= await`: that reads the field before the await and loses other loops' updates.
        const units = await this.options.op(seq);
        this.completed += units;
      } catch (error) {
        this.errors++;
        this.lastError = error instanceof Error ? error.message : String(error);
        await sleep(20);
      }
    }
  }

  /** Units completed per second over the next `windowMs`. */
  async measure(windowMs: number): Promise<number> {
    const c1 = this.completed;
    const t1 = nowMs();
    await sleep(windowMs);
    return ((this.completed - c1) * 1000) / (nowMs() - t1);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

export interface OpenLoopResult {
  sent: number;
  /** How late each request left against its schedule, ms: the generator's own noise. */
  scheduleLagMs: number[];
}

/** Sends `op` at `ratePerSec` for `durationMs` without waiting for answers (no coordinated omission). */
export async function openLoop(
  ratePerSec: number,
  durationMs: number,
  op: (seq: number) => Promise<unknown>,
): Promise<OpenLoopResult> {
  const start = nowMs();
  const interval = 1000 / ratePerSec;
  const total = Math.floor((durationMs / 1000) * ratePerSec);
  const pending = new Set<Promise<unknown>>();
  const scheduleLagMs: number[] = [];
  let sent = 0;
  while (sent < total) {
    const now = nowMs();
    while (sent < total && start + sent * interval <= now) {
      scheduleLagMs.push(now - (start + sent * interval));
      const request = op(sent).catch(() => undefined);
      pending.add(request);
      void request.finally(() => pending.delete(request));
      sent++;
    }
    await sleep(1);
  }
  await Promise.all(pending);
  return { sent, scheduleLagMs };
}

export interface PushEvent {
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
}

export const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A registry posting push events to the api over keep-alive connections. */
export class PushClient {
  readonly pool: Pool;
  accepted = 0;
  failed = 0;
  lastFailure: string | undefined;

  constructor(
    apiUrl: string,
    private readonly token: string,
    connections: number,
  ) {
    this.pool = new Pool(apiUrl, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  /** Posts one event or a batch; resolves with the number accepted (throws on anything but 202). */
  async push(events: PushEvent | PushEvent[]): Promise<number> {
    return this.post(
      '/v1/events/push',
      'application/json',
      events,
      Array.isArray(events) ? events.length : 1,
    );
  }

  /** Posts any ingest body (a registry's webhook) that carries `count` pushes; throws on anything but 202. */
  async post(path: string, contentType: string, body: unknown, count: number): Promise<number> {
    const response = await this.pool.request({
      path,
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
    });
    if (response.statusCode !== 202) {
      const text = await response.body.text();
      this.failed++;
      this.lastFailure = `${response.statusCode} ${text.slice(0, 200)}`;
      throw new Error(`${path} answered ${this.lastFailure}`);
    }
    await response.body.dump();
    this.accepted += count;
    return count;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
