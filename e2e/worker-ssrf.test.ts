/**
 * DELIVERY_ALLOW_PRIVATE_NETWORKS as a user sees it: with `false` a worker refuses to
 * send to loopback, link-local (cloud metadata) and names that resolve to them, logs
 * `SSRF_BLOCKED` and sends nothing; a worker started with `true` delivers the same
 * triggers to the same loopback receivers.
 */
import { type Receiver, startReceiver } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';
import { digestFor, type LoopbackServer, startLoopbackServer } from './support/worker-kit.js';

const NS = 'ssrf';
const REPO = 'internal';

describe('worker: private networks', () => {
  let stack: Stack;
  let v4: Receiver;
  let v6: LoopbackServer;
  let triggers: Record<'v4' | 'v6' | 'metadata' | 'localhost' | 'mapped' | 'decimal', { id: string }>;

  beforeAll(async () => {
    [v4, v6, stack] = await Promise.all([
      startReceiver(),
      startLoopbackServer({ host: '::1' }),
      startStack({
        workerEnv: { DELIVERY_ALLOW_PRIVATE_NETWORKS: 'false', SHUTDOWN_DEADLINE_MS: '5000' },
      }),
    ]);
    triggers = {
      v4: await stack.createTrigger(NS, REPO, { name: 'v4', url: v4.url, type: 'ALL' }),
      v6: await stack.createTrigger(NS, REPO, {
        name: 'v6',
        url: `http://[::1]:${v6.port}/hook`,
        type: 'ALL',
      }),
      metadata: await stack.createTrigger(NS, REPO, {
        name: 'metadata',
        url: 'http://169.254.169.254/latest/meta-data',
        type: 'ALL',
      }),
      // A host name: only the address it resolves to (127.0.0.1) tells that it is private.
      localhost: await stack.createTrigger(NS, REPO, {
        name: 'localhost',
        url: `http://localhost:${v4.port}/by-name`,
        type: 'ALL',
      }),
      // Other spellings of 127.0.0.1: IPv4-mapped IPv6, and one 32-bit decimal number.
      mapped: await stack.createTrigger(NS, REPO, {
        name: 'mapped',
        url: `http://[::ffff:127.0.0.1]:${v4.port}/mapped`,
        type: 'ALL',
      }),
      decimal: await stack.createTrigger(NS, REPO, {
        name: 'decimal',
        url: `http://2130706433:${v4.port}/decimal`,
        type: 'ALL',
      }),
    };
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([v4?.close(), v6?.close()]);
  });

  it('with false: every private target is refused as SSRF_BLOCKED, final, and nothing is sent', async () => {
    const pushed = await stack.push({
      namespace: NS,
      repository: REPO,
      tag: 'blocked',
      digest: digestFor(1),
      eventId: 'evt-ssrf-blocked',
    });
    expect(pushed.status).toBe(202);

    for (const [name, trigger] of Object.entries(triggers)) {
      const [record] = await stack.records(NS, REPO, trigger.id, 1);
      expect(record, name).toMatchObject({
        eventId: 'evt-ssrf-blocked',
        status: 'failed',
        statusCode: 'SSRF_BLOCKED',
        attempt: 1,
      });
    }
    // A tenant reads that the destination is in a blocked range, never what a name resolved
    // to (an internal name would otherwise reveal its private address); the operator's log
    // line says which address it was.
    const [byName] = await stack.records(NS, REPO, triggers.localhost.id, 1);
    expect(byName!.note).toMatch(/^refused to connect to localhost: its address is in a blocked range/);
    expect(byName!.note).not.toMatch(/127\.0\.0\.1|::1\b/);
    const logged = stack.workers[0]!.output().find((line) => line.includes('"host":"localhost"'));
    expect(JSON.parse(logged!)).toMatchObject({
      msg: expect.stringMatching(/blocked/),
      addresses: expect.arrayContaining(['127.0.0.1']),
    });
    // The records are written after the attempt, and SSRF_BLOCKED is final (no retry to wait for).
    expect(v4.requests).toHaveLength(0);
    expect(v6.connections).toBe(0);
    expect(v6.requests).toHaveLength(0);
  });

  it('with true: the same loopback triggers are delivered', async () => {
    // Swap the worker for one allowed to reach private networks; the metadata address is not
    // served here, so that trigger goes before it could only time out.
    const stopped = await stack.workers[0]!.stop('SIGTERM', 15_000);
    expect(stopped).toBe(0);
    const deleted = await stack.call(
      'DELETE',
      `/v1/namespaces/${NS}/repositories/${REPO}/triggers/${triggers.metadata.id}`,
    );
    expect(deleted.status).toBe(204);
    const worker = await stack.startWorker({ DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true' });
    expect(worker.output().join('\n')).toContain('DELIVERY_ALLOW_PRIVATE_NETWORKS=true');

    await stack.push({
      namespace: NS,
      repository: REPO,
      tag: 'allowed',
      digest: digestFor(2),
      eventId: 'evt-ssrf-ok',
    });
    const received = await v4.waitForRequests(4, 20_000);
    expect(received.map((r) => r.url).sort()).toEqual(['/by-name', '/decimal', '/hook', '/mapped']);
    for (const request of received) expect(JSON.parse(request.body).push_data.tag).toBe('allowed');
    const { metadata: _gone, ...delivered } = triggers;
    for (const trigger of Object.values(delivered)) {
      const [record] = await stack.records(NS, REPO, trigger.id, 1, 'succeeded');
      expect(record).toMatchObject({ eventId: 'evt-ssrf-ok', statusCode: '200', attempt: 1 });
    }
    expect(v6.requests).toHaveLength(1);
    expect(JSON.parse(v6.requests[0]!.body).push_data.tag).toBe('allowed');
  });
});
