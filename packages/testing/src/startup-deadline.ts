// How long a server or app may take to start: the running vitest hook's timeout less a
// margin, so that a slow start on a busy machine gets the whole budget of the hook it runs
// in, and ends in an error that names the process and its output instead of vitest's bare
// "Hook timed out". Outside vitest (bench, faults) a generous default.

/** Outside vitest: nothing else bounds the wait, and a cold start on two busy cores is slow. */
const OUTSIDE_VITEST_MS = 120_000;

export interface StartupDeadline {
  timeoutMs: number;
  /** Where the number comes from, for error messages. */
  reason: string;
}

/**
 * vitest keeps the resolved config of a test file in its worker state (vi.setConfig writes
 * there too); it has no public getter, so it is read where vitest keeps it, defensively.
 */
function vitestHookTimeoutMs(): number | undefined {
  const state = (globalThis as { __vitest_worker__?: { config?: { hookTimeout?: unknown } } })
    .__vitest_worker__;
  const timeout = state?.config?.hookTimeout;
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}

export function startupDeadline(): StartupDeadline {
  const hookTimeoutMs = vitestHookTimeoutMs();
  if (hookTimeoutMs === undefined) return { timeoutMs: OUTSIDE_VITEST_MS, reason: 'outside a vitest hook' };
  // Enough margin for the error to be built and the process killed before vitest gives up.
  const marginMs = Math.min(5000, Math.max(500, Math.round(hookTimeoutMs / 6)));
  return {
    timeoutMs: hookTimeoutMs - marginMs,
    reason: `the hook timeout of ${hookTimeoutMs} ms less ${marginMs} ms`,
  };
}
