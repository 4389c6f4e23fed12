/**
 * Keeps one bad receiver from hurting the others, without slowing the good ones.
 *
 * Per origin (scheme://host:port) the attempts in flight are bounded by a limit that adapts
 * like TCP congestion control: an origin starts at `initialInFlight`, every healthy attempt
 * raises its limit by one (so a healthy origin reaches `maxInFlight` within a few round
 * trips), every failed one (refusing or unreachable) halves it. A receiver that hangs never
 * answers, so it never grows past its first few slots.
 *
 * On top, a circuit breaker per endpoint (the trigger's URL) that does not answer: after
 * `failureThreshold` unreachable attempts in a row the endpoint is left alone for a cooldown
 * that doubles while it stays unreachable; then one probe at a time decides whether it is
 * back. An endpoint that answers, even 503, is reachable: its halved limit and each
 * delivery's own backoff (and Retry-After) pace it, and every attempt shows in the access
 * log, where a circuit would hold deliveries back unseen and keep doing so for a cooldown
 * after the receiver recovered. Per endpoint, not per origin: one path of a server that
 * fails says nothing about its other paths.
 *
 * A delivery that is turned away is postponed, not attempted: it costs no attempt and
 * holds no worker slot. State is per process; every worker learns for itself.
 */

/**
 * How an attempt went, for the guard: `healthy` (answered, nothing to retry), `refusing`
 * (answered with a status worth retrying: 5xx, 429, 408, 425) or `unreachable` (no answer:
 * refused or dropped connection, timeout).
 */
export type AttemptHealth = 'healthy' | 'refusing' | 'unreachable';

export type OriginAdmission =
  /**
   * `health` undefined: the attempt ended with no verdict on the receiver (our side failed
   * before or around the send); its slot is freed, the limit and circuit are left as they were.
   */
  | { admitted: true; release: (health: AttemptHealth | undefined, durationMs?: number) => void }
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
  /** Unreachable endpoints remembered at most (an endpoint that answers is not remembered). */
  maxFailingEndpoints?: number;
  /** The longest a turned-away delivery waits: an attempt cannot hold its slot longer (the delivery timeout). */
  maxPostponeMs?: number;
  now?: () => number;
  random?: () => number;
}

interface OriginState {
  limit: number;
  /** Smoothed duration of answered attempts: how long a freed slot takes to come. */
  typicalMs: number;
  /** The attempts in flight, by start time. */
  started: Set<{ at: number }>;
}

/** The circuit of an endpoint that has not answered since its last unreachable attempt. */
interface CircuitBreaker {
  consecutiveFailures: number;
  openUntil: number;
  cooldownMs: number;
  /** Whether its half-open probe is out. */
  probing: boolean;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class OriginGuard {
  private readonly origins = new Map<string, OriginState>();
  private readonly failing = new Map<string, CircuitBreaker>();
  private readonly initialInFlight: number;
  private readonly failureThreshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;
  private readonly maxOrigins: number;
  private readonly maxFailingEndpoints: number;
  private readonly maxPostponeMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: OriginGuardOptions) {
    this.initialInFlight = Math.min(options.initialInFlight ?? 8, options.maxInFlight);
    this.failureThreshold = options.failureThreshold ?? 5;
    this.baseCooldownMs = options.baseCooldownMs ?? 5_000;
    this.maxCooldownMs = options.maxCooldownMs ?? 60_000;
    this.maxOrigins = options.maxOrigins ?? 10_000;
    this.maxFailingEndpoints = options.maxFailingEndpoints ?? 10_000;
    this.maxPostponeMs = options.maxPostponeMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The circuit of an endpoint (a trigger URL). */
  stateOf(endpoint: string): CircuitState {
    const circuit = this.failing.get(endpoint);
    if (!circuit || circuit.consecutiveFailures < this.failureThreshold) return 'closed';
    return circuit.openUntil > this.now() ? 'open' : 'half-open';
  }

  /** The current in-flight limit of an endpoint's origin. */
  limitOf(endpoint: string): number {
    return this.origins.get(originOf(endpoint))?.limit ?? this.initialInFlight;
  }

  /**
   * Asks to send one attempt to `endpoint` (a trigger URL) now. A delivery's first attempt
   * (`retry` false) is not held by the circuit, only by the in-flight limit: every push to an
   * unreachable endpoint then shows in the access log at once (its first attempt, refused or
   * timed out), and the circuit rests the retries.
   */
  admit(endpoint: string, options: { retry?: boolean } = {}): OriginAdmission {
    const origin = this.stateFor(originOf(endpoint));
    const now = this.now();
    const circuit = options.retry === false ? undefined : this.failing.get(endpoint);
    const state = circuit ? this.stateOf(endpoint) : 'closed';
    if (circuit && state === 'open') {
      return {
        admitted: false,
        reason: 'circuit-open',
        retryAt: circuit.openUntil + Math.round(this.random() * 1000),
      };
    }
    if (circuit && state === 'half-open' && circuit.probing) {
      return { admitted: false, reason: 'circuit-open', retryAt: now + this.postponement(origin, now) };
    }
    if (origin.started.size >= origin.limit) {
      return { admitted: false, reason: 'saturated', retryAt: now + this.postponement(origin, now) };
    }
    const probe = circuit !== undefined && state === 'half-open';
    if (probe) circuit.probing = true;
    const slot = { at: now };
    origin.started.add(slot);
    let released = false;
    return {
      admitted: true,
      release: (health, durationMs) => {
        if (released) return;
        released = true;
        origin.started.delete(slot);
        if (probe) circuit.probing = false;
        if (health !== undefined) this.record(origin, endpoint, health, durationMs);
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

  /** Endpoints whose circuit is not closed, for metrics (their URLs stay here: they may hold secrets). */
  openCircuits(): Array<{ state: CircuitState }> {
    return [...this.failing.keys()]
      .map((endpoint) => ({ state: this.stateOf(endpoint) }))
      .filter(({ state }) => state !== 'closed');
  }

  private stateFor(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (!state) {
      if (this.origins.size >= this.maxOrigins) this.forgetIdle();
      state = { limit: this.initialInFlight, typicalMs: 100, started: new Set() };
      this.origins.set(origin, state);
    }
    return state;
  }

  private forgetIdle(): void {
    for (const [origin, state] of this.origins) {
      if (state.started.size === 0) this.origins.delete(origin);
      if (this.origins.size < this.maxOrigins * 0.9) return;
    }
  }

  private record(
    origin: OriginState,
    endpoint: string,
    health: AttemptHealth,
    durationMs: number | undefined,
  ): void {
    if (durationMs !== undefined) origin.typicalMs = origin.typicalMs * 0.8 + durationMs * 0.2;
    if (health === 'healthy') origin.limit = Math.min(this.options.maxInFlight, origin.limit + 1);
    else origin.limit = Math.max(1, Math.floor(origin.limit / 2));
    if (health !== 'unreachable') {
      this.failing.delete(endpoint);
      return;
    }
    let circuit = this.failing.get(endpoint);
    if (!circuit) {
      // The oldest failing endpoint goes first: Map keeps insertion order.
      if (this.failing.size >= this.maxFailingEndpoints) {
        const oldest = this.failing.keys().next().value;
        if (oldest !== undefined) this.failing.delete(oldest);
      }
      circuit = { consecutiveFailures: 0, openUntil: 0, cooldownMs: this.baseCooldownMs, probing: false };
      this.failing.set(endpoint, circuit);
    }
    circuit.consecutiveFailures++;
    if (circuit.consecutiveFailures >= this.failureThreshold) {
      circuit.openUntil = this.now() + circuit.cooldownMs;
      circuit.cooldownMs = Math.min(circuit.cooldownMs * 2, this.maxCooldownMs);
    }
  }
}

/** scheme://host:port of a URL (the URL itself if it does not parse). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
