import { describe, expect, it } from 'vitest';
import { WaitTimeoutError, waitFor } from '../src/index.js';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 5 });
    expect(value).toEqual({ calls: 3 });
  });

  it('treats a throw as "not yet" and reports it at the deadline', async () => {
    const error = await waitFor(
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 60, intervalMs: 10, message: 'the server' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(String(error)).toContain('waiting for the server');
    expect(String(error)).toContain('connection refused');
  });

  it('names the message and the last value when it times out', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 50, intervalMs: 10, message: 'three jobs' }),
    ).rejects.toThrow(/Timed out after 50 ms waiting for three jobs \(last value: false\)/);
  });

  it('stops early when its signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(waitFor(() => false, { timeoutMs: 5000, signal: controller.signal })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
