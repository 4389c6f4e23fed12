/**
 * Where a delivery with retries stands, so that a cancel and a worker picking up the next
 * attempt never both win: a worker claims a delivery (`sending`) before its attempt and
 * releases it after (`waiting <attempt>` between retries, `finished` at the end); a cancel
 * is accepted only while no attempt is being sent, and a claim after it finds `cancelled`.
 * Both are one script on one key, so either the cancel comes first and nothing is sent, or
 * the attempt does and the cancel waits for it to end.
 */
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { runScript } from './scripts.js';

/** Longer than any delivery's retries last (12 attempts, at most about 34 minutes, or Retry-After's hour each). */
const STATE_TTL_MS = 8 * 24 * 3600 * 1000;

export type DeliveryState =
  | { kind: 'unknown' }
  | { kind: 'sending' }
  | { kind: 'waiting'; attempt: number }
  | { kind: 'finished' }
  | { kind: 'cancelled' };

// Answers the state found; takes the claim unless the delivery was cancelled. A claim
// outlives its worker only by ARGV[1] ms (a worker that died leaves no lasting `sending`).
const CLAIM_SCRIPT = `
local state = redis.call('GET', KEYS[1])
if state == 'cancelled' then return state end
redis.call('SET', KEYS[1], 'sending', 'PX', ARGV[1])
return state or ''`;

// Cancels unless an attempt is being sent or the delivery ended; answers the state found.
// An unknown delivery (no worker wrote its state) is cancelled only when ARGV[2] says its job waits.
const CANCEL_SCRIPT = `
local state = redis.call('GET', KEYS[1])
if state == 'sending' or state == 'finished' or state == 'cancelled' then return state end
if not state and ARGV[2] ~= 'pending' then return '' end
redis.call('SET', KEYS[1], 'cancelled', 'PX', ARGV[1])
return 'accepted ' .. (state or '')`;

function parseState(raw: string | null | undefined): DeliveryState {
  if (!raw) return { kind: 'unknown' };
  if (raw === 'sending' || raw === 'finished' || raw === 'cancelled') return { kind: raw };
  const waiting = /^waiting (\d+)$/.exec(raw);
  return waiting ? { kind: 'waiting', attempt: Number(waiting[1]) } : { kind: 'unknown' };
}

export type CancelResult =
  | { accepted: true; before: DeliveryState }
  | { accepted: false; state: DeliveryState };

export class DeliveryStates {
  constructor(private readonly redis: RedisConnection) {}

  /**
   * Claims the delivery for one attempt and answers the state before the claim; `cancelled`
   * means no claim: send nothing.
   */
  async claim(namespace: string, deliveryId: string, claimMs: number): Promise<DeliveryState> {
    return parseState(
      String(
        await runScript(this.redis, CLAIM_SCRIPT, [keys.deliveryState(namespace, deliveryId)], [claimMs]),
      ),
    );
  }

  /** After an attempt that is retried later: cancellable again, its last attempt known. */
  async waitForRetry(namespace: string, deliveryId: string, attempt: number): Promise<void> {
    await this.redis.set(keys.deliveryState(namespace, deliveryId), `waiting ${attempt}`, 'PX', STATE_TTL_MS);
  }

  /** After an attempt that was postponed before it was sent: back to what it was before the claim. */
  async restore(namespace: string, deliveryId: string, previous: DeliveryState): Promise<void> {
    const key = keys.deliveryState(namespace, deliveryId);
    if (previous.kind === 'waiting')
      await this.redis.set(key, `waiting ${previous.attempt}`, 'PX', STATE_TTL_MS);
    else await this.redis.del(key);
  }

  async finish(namespace: string, deliveryId: string): Promise<void> {
    await this.redis.set(keys.deliveryState(namespace, deliveryId), 'finished', 'PX', STATE_TTL_MS);
  }

  async get(namespace: string, deliveryId: string): Promise<DeliveryState> {
    return parseState(await this.redis.get(keys.deliveryState(namespace, deliveryId)));
  }

  /**
   * Cancels the delivery's pending retries unless an attempt is being sent right now or it
   * has ended. `jobPending` says whether its queue job still waits, for a delivery whose
   * state no worker wrote (or whose state expired).
   */
  async cancel(namespace: string, deliveryId: string, jobPending: boolean): Promise<CancelResult> {
    const found = String(
      await runScript(
        this.redis,
        CANCEL_SCRIPT,
        [keys.deliveryState(namespace, deliveryId)],
        [STATE_TTL_MS, jobPending ? 'pending' : 'done'],
      ),
    );
    if (found.startsWith('accepted')) return { accepted: true, before: parseState(found.slice(9)) };
    return { accepted: false, state: found === '' ? { kind: 'finished' } : parseState(found) };
  }
}
