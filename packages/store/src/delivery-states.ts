/**
 * Where a delivery with retries stands, so that a cancel and a worker picking up the next
 * attempt never both win: a worker claims a delivery (`sending`) before each attempt and
 * releases it after (`waiting <attempt>` between retries, nothing once it has ended); a
 * cancel is accepted only while no attempt is being sent, and a claim after it finds
 * `cancelled`. Both are one script on one key, so either the cancel comes first and nothing
 * is sent, or the attempt does and the cancel waits for it to end. Where the key says
 * nothing (the delivery ended, or a state expired), the queue's job decides: a job still
 * waiting is cancellable, any other has ended.
 */
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { defineScript } from './scripts.js';

/**
 * Longer than the longest wait between two attempts (a Retry-After is capped at an hour); a
 * state that expires all the same leaves the decision to the queue's job, as above.
 */
const WAITING_TTL_MS = 2 * 3600 * 1000;
/** Longer than any delivery's retries last: a cancelled delivery must never be sent again. */
const CANCELLED_TTL_MS = 8 * 24 * 3600 * 1000;

export type DeliveryState =
  | { kind: 'unknown' }
  | { kind: 'sending' }
  | { kind: 'waiting'; attempt: number }
  | { kind: 'cancelled' };

// Answers the state found; takes the claim unless the delivery was cancelled. A claim
// outlives its worker only by ARGV[1] ms (a worker that died leaves no lasting `sending`).
const CLAIM_SCRIPT = defineScript(
  'deliveryClaim',
  `
local state = redis.call('GET', KEYS[1])
if state == 'cancelled' then return state end
redis.call('SET', KEYS[1], 'sending', 'PX', ARGV[1])
return state or ''`,
);

// Cancels unless an attempt is being sent, or the delivery was cancelled or has ended (no
// state, and ARGV[2] says its job no longer waits); answers the state found.
const CANCEL_SCRIPT = defineScript(
  'deliveryCancel',
  `
local state = redis.call('GET', KEYS[1])
if state == 'sending' or state == 'cancelled' then return state end
if not state and ARGV[2] ~= 'pending' then return 'ended' end
redis.call('SET', KEYS[1], 'cancelled', 'PX', ARGV[1])
return 'accepted ' .. (state or '')`,
);

function parseState(raw: string | null | undefined): DeliveryState {
  if (raw === 'sending' || raw === 'cancelled') return { kind: raw };
  const waiting = raw ? /^waiting (\d+)$/.exec(raw) : null;
  return waiting ? { kind: 'waiting', attempt: Number(waiting[1]) } : { kind: 'unknown' };
}

export type CancelResult =
  | { accepted: true; before: DeliveryState }
  | { accepted: false; reason: 'sending' | 'cancelled' | 'ended' };

export class DeliveryStates {
  constructor(private readonly redis: RedisConnection) {}

  /**
   * Claims the delivery for one attempt and answers the state before the claim; `cancelled`
   * means no claim: send nothing.
   */
  async claim(namespace: string, deliveryId: string, claimMs: number): Promise<DeliveryState> {
    return parseState(
      String(await CLAIM_SCRIPT.run(this.redis, [keys.deliveryState(namespace, deliveryId)], [claimMs])),
    );
  }

  /** After an attempt that is retried later: cancellable again, its last attempt known. */
  async waitForRetry(namespace: string, deliveryId: string, attempt: number): Promise<void> {
    await this.redis.set(
      keys.deliveryState(namespace, deliveryId),
      `waiting ${attempt}`,
      'PX',
      WAITING_TTL_MS,
    );
  }

  /** After a run that sent nothing (postponed, or an error retried): back to the state before its claim. */
  async restore(namespace: string, deliveryId: string, previous: DeliveryState): Promise<void> {
    if (previous.kind === 'waiting') await this.waitForRetry(namespace, deliveryId, previous.attempt);
    else await this.finish(namespace, deliveryId);
  }

  /** The delivery has ended: nothing to keep (its job, completed or failed, says so). */
  async finish(namespace: string, deliveryId: string): Promise<void> {
    await this.redis.del(keys.deliveryState(namespace, deliveryId));
  }

  async get(namespace: string, deliveryId: string): Promise<DeliveryState> {
    return parseState(await this.redis.get(keys.deliveryState(namespace, deliveryId)));
  }

  /**
   * Cancels the delivery's pending retries unless an attempt is being sent right now or it
   * has ended. `jobPending` says whether its queue job still waits for an attempt.
   */
  async cancel(namespace: string, deliveryId: string, jobPending: boolean): Promise<CancelResult> {
    const found = String(
      await CANCEL_SCRIPT.run(
        this.redis,
        [keys.deliveryState(namespace, deliveryId)],
        [CANCELLED_TTL_MS, jobPending ? 'pending' : 'done'],
      ),
    );
    if (found.startsWith('accepted')) return { accepted: true, before: parseState(found.slice(9)) };
    return { accepted: false, reason: found === 'sending' || found === 'cancelled' ? found : 'ended' };
  }
}
