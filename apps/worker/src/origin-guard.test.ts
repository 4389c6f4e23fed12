import { describe, expect, it } from 'vitest';
import { OriginGuard } from './origin-guard.js';

const ORIGIN = 'https://hooks.example.com';

function guardAt(start = 1_000_000, maxInFlight = 8) {
  const clock = { now: start };
  const guard = new OriginGuard({
    maxInFlight,
    initialInFlight: 2,
    failureThreshold: 3,
    baseCooldownMs: 1000,
    maxCooldownMs: 4000,
    now: () => clock.now,
    random: () => 0,
  });
  return { guard, clock };
}

function fail(guard: OriginGuard, times: number) {
  for (let i = 0; i < times; i++) {
    const slot = guard.admit(ORIGIN);
    if (slot.admitted) slot.release('unreachable');
  }
}

describe('OriginGuard', () => {
  it('starts an origin at the initial limit and frees the slot on release', () => {
    const { guard } = guardAt();
    const a = guard.admit(ORIGIN);
    const b = guard.admit(ORIGIN);
    expect(a.admitted && b.admitted).toBe(true);
    expect(guard.admit(ORIGIN)).toMatchObject({ admitted: false, reason: 'saturated' });
    expect(guard.admit('https://other.example.com').admitted).toBe(true);
    if (a.admitted) a.release('healthy', 10);
    expect(guard.admit(ORIGIN).admitted).toBe(true);
  });

  it('grows the limit of an origin that answers, up to the maximum', () => {
    const { guard } = guardAt(1_000_000, 8);
    for (let i = 0; i < 20; i++) {
      const slot = guard.admit(ORIGIN);
      if (slot.admitted) slot.release('healthy', 5);
    }
    expect(guard.limitOf(ORIGIN)).toBe(8);
    const slots = Array.from({ length: 9 }, () => guard.admit(ORIGIN));
    expect(slots.filter((slot) => slot.admitted)).toHaveLength(8);
  });

  it('never grows an origin that does not answer: its slots stay few while others get theirs', () => {
    const { guard } = guardAt(1_000_000, 64);
    const hanging = Array.from({ length: 10 }, () => guard.admit(ORIGIN));
    expect(hanging.filter((slot) => slot.admitted)).toHaveLength(2);
    const healthy = Array.from({ length: 2 }, () => guard.admit('https://healthy.example.com'));
    expect(healthy.every((slot) => slot.admitted)).toBe(true);
  });

  it('halves the limit on a failure', () => {
    const { guard } = guardAt(1_000_000, 16);
    for (let i = 0; i < 10; i++) {
      const slot = guard.admit(ORIGIN);
      if (slot.admitted) slot.release('healthy');
    }
    expect(guard.limitOf(ORIGIN)).toBe(12);
    fail(guard, 1);
    expect(guard.limitOf(ORIGIN)).toBe(6);
  });

  it('postpones a saturated origin by about one typical attempt', () => {
    const { guard, clock } = guardAt();
    const first = guard.admit(ORIGIN);
    if (first.admitted) first.release('healthy', 400);
    guard.admit(ORIGIN);
    guard.admit(ORIGIN);
    guard.admit(ORIGIN);
    const refused = guard.admit(ORIGIN);
    expect(refused.admitted).toBe(false);
    // typical = 100 * 0.8 + 400 * 0.2 = 160 ms; random 0 → half of it.
    if (!refused.admitted) expect(refused.retryAt - clock.now).toBe(80);
  });

  it('postpones deliveries to an origin that does not answer by about the age of its oldest attempt', () => {
    const { guard, clock } = guardAt();
    guard.admit(ORIGIN);
    guard.admit(ORIGIN);
    clock.now += 4000;
    const refused = guard.admit(ORIGIN);
    if (refused.admitted) throw new Error('expected a postponement');
    expect(refused.retryAt - clock.now).toBe(2000);
  });

  it('opens after consecutive failures, half-opens after the cooldown and closes on a healthy probe', () => {
    const { guard, clock } = guardAt();
    fail(guard, 3);
    expect(guard.stateOf(ORIGIN)).toBe('open');
    expect(guard.admit(ORIGIN)).toMatchObject({
      admitted: false,
      reason: 'circuit-open',
      retryAt: clock.now + 1000,
    });

    clock.now += 1000;
    expect(guard.stateOf(ORIGIN)).toBe('half-open');
    const probe = guard.admit(ORIGIN);
    expect(probe.admitted).toBe(true);
    expect(guard.admit(ORIGIN)).toMatchObject({ admitted: false, reason: 'circuit-open' });
    if (probe.admitted) probe.release('healthy');
    expect(guard.stateOf(ORIGIN)).toBe('closed');
  });

  it('halves the limit of an endpoint that answers 5xx or 429 but never opens its circuit: it is reachable', () => {
    const { guard } = guardAt(1_000_000, 16);
    for (let i = 0; i < 10; i++) {
      const slot = guard.admit(ORIGIN);
      if (slot.admitted) slot.release('refusing', 5);
    }
    expect(guard.stateOf(ORIGIN)).toBe('closed');
    expect(guard.limitOf(ORIGIN)).toBe(1);
    expect(guard.admit(ORIGIN).admitted).toBe(true);
  });

  it('closes an open circuit when the endpoint answers at all, even 503', () => {
    const { guard, clock } = guardAt();
    fail(guard, 3);
    clock.now += 1000;
    const probe = guard.admit(ORIGIN);
    if (probe.admitted) probe.release('refusing');
    expect(guard.stateOf(ORIGIN)).toBe('closed');
  });

  it('opens the circuit of the unreachable endpoint only, not of the other paths of its origin', () => {
    const { guard } = guardAt();
    fail(guard, 3);
    expect(guard.stateOf(ORIGIN)).toBe('open');
    const otherPath = `${ORIGIN}/other`;
    expect(guard.stateOf(otherPath)).toBe('closed');
    // The origin's in-flight limit, halved by the failures, still lets one attempt through.
    const slot = guard.admit(otherPath);
    expect(slot.admitted).toBe(true);
    if (slot.admitted) slot.release('healthy');
    expect(guard.stateOf(ORIGIN)).toBe('open');
    expect(guard.openCircuits()).toEqual([{ state: 'open' }]);
  });

  it('lets one probe out per half-open endpoint while other endpoints go on', () => {
    const { guard, clock } = guardAt();
    fail(guard, 3);
    clock.now += 1000;
    const probe = guard.admit(ORIGIN);
    expect(probe.admitted).toBe(true);
    expect(guard.admit(ORIGIN)).toMatchObject({ admitted: false, reason: 'circuit-open' });
    if (probe.admitted) probe.release('unreachable');
    expect(guard.stateOf(ORIGIN)).toBe('open');
    expect(guard.admit('https://elsewhere.example.com/hook').admitted).toBe(true);
  });

  it("lets a delivery's first attempt past an open circuit: only retries are rested", () => {
    const { guard } = guardAt();
    fail(guard, 3);
    expect(guard.admit(ORIGIN, { retry: true })).toMatchObject({ admitted: false, reason: 'circuit-open' });
    const first = guard.admit(ORIGIN, { retry: false });
    expect(first.admitted).toBe(true);
    // Still bounded by the origin's in-flight limit, halved to 1 by the failures.
    expect(guard.admit(`${ORIGIN}/other`, { retry: false })).toMatchObject({
      admitted: false,
      reason: 'saturated',
    });
    if (first.admitted) first.release('unreachable');
    expect(guard.stateOf(ORIGIN)).toBe('open');
  });

  it('doubles the cooldown while the probe keeps failing, up to the maximum', () => {
    const { guard, clock } = guardAt();
    fail(guard, 3);
    const cooldowns: number[] = [];
    for (let round = 0; round < 4; round++) {
      const refused = guard.admit(ORIGIN);
      if (refused.admitted) throw new Error('expected the circuit to be open');
      cooldowns.push(refused.retryAt - clock.now);
      clock.now = refused.retryAt;
      const probe = guard.admit(ORIGIN);
      if (probe.admitted) probe.release('unreachable');
    }
    expect(cooldowns).toEqual([1000, 2000, 4000, 4000]);
  });
});
