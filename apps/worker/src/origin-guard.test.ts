import { describe, expect, it } from 'vitest';
import { OriginGuard } from './origin-guard.js';

const ORIGIN = 'https://hooks.example.com';

function guardAt(start = 1_000_000) {
  const clock = { now: start };
  const guard = new OriginGuard({
    maxInFlight: 2,
    failureThreshold: 3,
    baseCooldownMs: 1000,
    maxCooldownMs: 4000,
    now: () => clock.now,
    random: () => 0,
  });
  return { guard, clock };
}

describe('OriginGuard', () => {
  it('bounds attempts in flight per origin and frees the slot on release', () => {
    const { guard } = guardAt();
    const a = guard.admit(ORIGIN);
    const b = guard.admit(ORIGIN);
    const c = guard.admit(ORIGIN);
    expect(a.admitted && b.admitted).toBe(true);
    expect(c).toMatchObject({ admitted: false, reason: 'saturated' });
    expect(guard.admit('https://other.example.com').admitted).toBe(true);
    if (a.admitted) a.release('healthy');
    expect(guard.admit(ORIGIN).admitted).toBe(true);
  });

  it('opens after consecutive failures, half-opens after the cooldown and closes on a healthy probe', () => {
    const { guard, clock } = guardAt();
    for (let i = 0; i < 3; i++) {
      const slot = guard.admit(ORIGIN);
      if (slot.admitted) slot.release('failing');
    }
    expect(guard.stateOf(ORIGIN)).toBe('open');
    const refused = guard.admit(ORIGIN);
    expect(refused).toMatchObject({ admitted: false, reason: 'circuit-open', retryAt: clock.now + 1000 });

    clock.now += 1000;
    expect(guard.stateOf(ORIGIN)).toBe('half-open');
    const probe = guard.admit(ORIGIN);
    expect(probe.admitted).toBe(true);
    expect(guard.admit(ORIGIN)).toMatchObject({ admitted: false, reason: 'circuit-open' });
    if (probe.admitted) probe.release('healthy');
    expect(guard.stateOf(ORIGIN)).toBe('closed');
  });

  it('doubles the cooldown while the probe keeps failing, up to the maximum', () => {
    const { guard, clock } = guardAt();
    for (let i = 0; i < 3; i++) {
      const slot = guard.admit(ORIGIN);
      if (slot.admitted) slot.release('failing');
    }
    const cooldowns: number[] = [];
    for (let round = 0; round < 4; round++) {
      const refused = guard.admit(ORIGIN);
      if (refused.admitted) throw new Error('expected the circuit to be open');
      cooldowns.push(refused.retryAt - clock.now);
      clock.now = refused.retryAt;
      const probe = guard.admit(ORIGIN);
      if (probe.admitted) probe.release('failing');
    }
    expect(cooldowns).toEqual([1000, 2000, 4000, 4000]);
  });
});
