/**
 * Keeps one bad receiver from hurting the others, without slowing the good ones.
 *
 * Per origin (scheme://host:port) the attempts in flight are bounded by a limit that adapts
 * like TCP congestion control: an origin starts at `initialInFlight`, every answered
 * attempt raises its limit by one (so a healthy origin reaches `maxInFlight` within a few
 * round trips), every failed one halves it. A receiver that hangs never answers, so it
 * never grows past its first few slots. On top, a circuit breaker: after
 * `failureThreshold` failures in a row the origin is left alone for a cooldown that
 * doubles while it keeps failing; then one probe at a time decides whether it is back.
 *
 * A delivery that is turned away is postponed, not attempted: it costs no attempt and
 * holds no worker slot. State is per process; every worker learns for itself.
 */

export type AttemptHealth = 'healthy' | 'failing';

export type OriginAdmission =
  | { admitted: true; release: (health: AttemptHealth, durationMs?: number) => void }
  | { admitted: false; reason: 'saturated' | 'circuit-open'; retryAt: number };

export interface OriginGuardOptions {
  /** Ceiling of the adaptive limit; the worker's concurrency by default. */
  maxInFlight: number;
  initialInFlight?: number;
  failureThreshold?: number;
  baseCooldownMs?: number;
  maxCooldownMs?: number;
  /** Origins remembered at most; idle ones are forgotten first. */
  maxOrigins?: number;
  /** The longest a turned-away delivery waits: an attempt cannot hold its slot longer (the delivery timeout). */
  maxPostponeMs?: number;
  now?: () => number;
  random?: () => number;
}

interface OriginState {
  limit: number;
  consecutiveFailures: number;
  openUntil: number;
  cooldownMs: number;
  /** Smoothed duration of answered attempts: how long a freed slot takes to come. */
  typicalMs: number;
  /** The attempts in flight, by start time. */
  started: Set<{ at: number }>;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class OriginGuard {
  private readonly origins = new Map<string, OriginState>();
  private readonly initialInFlight: number;
  private readonly failureThreshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;
  private readonly maxOrigins: number;
  private readonly maxPostponeMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: OriginGuardOptions) {
    this.initialInFlight = Math.min(options.initialInFlight ?? 8, options.maxInFlight);
    this.failureThreshold = options.failureThreshold ?? 5;
    this.baseCooldownMs = options.baseCooldownMs ?? 5_000;
    this.maxCooldownMs = options.maxCooldownMs ?? 60_000;
    this.maxOrigins = options.maxOrigins ?? 10_000;
    this.maxPostponeMs = options.maxPostponeMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  stateOf(origin: string): CircuitState {
    const state = this.origins.get(origin);
    if (!state || state.consecutiveFailures < this.failureThreshold) return 'closed';
    return state.openUntil > this.now() ? 'open' : 'half-open';
  }

  /** The current in-flight limit of an origin. */
  limitOf(origin: string): number {
    return this.origins.get(origin)?.limit ?? this.initialInFlight;
  }

  admit(origin: string): OriginAdmission {
    const state = this.stateFor(origin);
    const now = this.now();
    const circuit = this.stateOf(origin);
    if (circuit === 'open') {
      return {
        admitted: false,
        reason: 'circuit-open',
        retryAt: state.openUntil + Math.round(this.random() * 1000),
      };
    }
    const limit = circuit === 'half-open' ? 1 : state.limit;
    if (state.started.size >= limit) {
      return {
        admitted: false,
        reason: circuit === 'half-open' ? 'circuit-open' : 'saturated',
        retryAt: now + this.postponement(state, now),
      };
    }
    const slot = { at: now };
    state.started.add(slot);
    let released = false;
    return {
      admitted: true,
      release: (health, durationMs) => {
        if (released) return;
        released = true;
        state.started.delete(slot);
        this.record(state, health, durationMs);
      },
    };
  }

  /**
   * How long a turned-away delivery waits: about when a slot should be free. That is one
   * typical attempt for an origin that answers, but as long as its oldest attempt has
   * already been running for one that does not, so a receiver that hangs is asked again
   * a few times per timeout rather than every few milliseconds.
   */
  private postponement(state: OriginState, now: number): number {
    let oldest = now;
    for (const slot of state.started) oldest = Math.min(oldest, slot.at);
    const expected = Math.max(state.typicalMs, now - oldest, 20);
    return Math.round(Math.min(expected, this.maxPostponeMs) * (0.5 + this.random()));
  }

  /** Origins whose circuit is not closed, for metrics. */
  openCircuits(): Array<{ origin: string; state: CircuitState }> {
    return [...this.origins.keys()]
      .map((origin) => ({ origin, state: this.stateOf(origin) }))
      .filter(({ state }) => state !== 'closed');
  }

  private stateFor(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (!state) {
      if (this.origins.size >= this.maxOrigins) this.forgetIdle();
      state = {
        limit: this.initialInFlight,
        consecutiveFailures: 0,
        openUntil: 0,
        cooldownMs: this.baseCooldownMs,
        typicalMs: 100,
        started: new Set(),
      };
      this.origins.set(origin, state);
    }
    return state;
  }

  private forgetIdle(): void {
    for (const [origin, state] of this.origins) {
      if (state.started.size === 0 && state.consecutiveFailures === 0) this.origins.delete(origin);
      if (this.origins.size < this.maxOrigins * 0.9) return;
    }
  }

  private record(state: OriginState, health: AttemptHealth, durationMs: number | undefined): void {
    if (durationMs !== undefined) state.typicalMs = state.typicalMs * 0.8 + durationMs * 0.2;
    if (health === 'healthy') {
      state.consecutiveFailures = 0;
      state.cooldownMs = this.baseCooldownMs;
      state.openUntil = 0;
      state.limit = Math.min(this.options.maxInFlight, state.limit + 1);
      return;
    }
    state.limit = Math.max(1, Math.floor(state.limit / 2));
    state.consecutiveFailures++;
    if (state.consecutiveFailures >= this.failureThreshold) {
      state.openUntil = this.now() + state.cooldownMs;
      state.cooldownMs = Math.min(state.cooldownMs * 2, this.maxCooldownMs);
    }
  }
}
