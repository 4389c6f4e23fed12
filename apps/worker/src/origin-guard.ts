/**
 * Keeps one bad receiver from hurting the others. Per origin (scheme://host:port) it
 * bounds the attempts in flight and runs a circuit breaker: after `failureThreshold`
 * failures in a row the origin is left alone for a cooldown that doubles while it keeps
 * failing; then one probe at a time decides whether it is healthy again. A delivery that
 * is turned away is postponed, not attempted, so it costs no attempt and holds no slot.
 * State is per process: every worker learns for itself, with no coordination.
 */

export type AttemptHealth = 'healthy' | 'failing';

export type OriginAdmission =
  | { admitted: true; release: (health: AttemptHealth) => void }
  | { admitted: false; reason: 'saturated' | 'circuit-open'; retryAt: number };

export interface OriginGuardOptions {
  maxInFlight: number;
  failureThreshold?: number;
  baseCooldownMs?: number;
  maxCooldownMs?: number;
  now?: () => number;
  random?: () => number;
}

interface OriginState {
  inFlight: number;
  consecutiveFailures: number;
  openUntil: number;
  cooldownMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class OriginGuard {
  private readonly origins = new Map<string, OriginState>();
  private readonly failureThreshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: OriginGuardOptions) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.baseCooldownMs = options.baseCooldownMs ?? 5_000;
    this.maxCooldownMs = options.maxCooldownMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  stateOf(origin: string): CircuitState {
    const state = this.origins.get(origin);
    if (!state || state.consecutiveFailures < this.failureThreshold) return 'closed';
    return state.openUntil > this.now() ? 'open' : 'half-open';
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
    const limit = circuit === 'half-open' ? 1 : this.options.maxInFlight;
    if (state.inFlight >= limit) {
      const wait = circuit === 'half-open' ? state.cooldownMs / 2 : 100 + this.random() * 200;
      return {
        admitted: false,
        reason: circuit === 'half-open' ? 'circuit-open' : 'saturated',
        retryAt: now + Math.round(wait),
      };
    }
    state.inFlight++;
    let released = false;
    return {
      admitted: true,
      release: (health) => {
        if (released) return;
        released = true;
        state.inFlight--;
        this.record(origin, state, health);
      },
    };
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
      state = { inFlight: 0, consecutiveFailures: 0, openUntil: 0, cooldownMs: this.baseCooldownMs };
      this.origins.set(origin, state);
    }
    return state;
  }

  private record(origin: string, state: OriginState, health: AttemptHealth): void {
    if (health === 'healthy') {
      // Forget healthy idle origins so the map stays as small as the set of busy ones.
      if (state.inFlight === 0) this.origins.delete(origin);
      else {
        state.consecutiveFailures = 0;
        state.cooldownMs = this.baseCooldownMs;
        state.openUntil = 0;
      }
      return;
    }
    state.consecutiveFailures++;
    if (state.consecutiveFailures >= this.failureThreshold) {
      state.openUntil = this.now() + state.cooldownMs;
      state.cooldownMs = Math.min(state.cooldownMs * 2, this.maxCooldownMs);
    }
  }
}
