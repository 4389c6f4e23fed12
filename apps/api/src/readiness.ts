/**
 * The api's /readyz: ready while Redis takes a write (an api that cannot queue a push must
 * not get traffic), and a body that counts the live workers, so a stack whose pushes queue
 * up with no worker to deliver them says so. No worker is a warning, not unreadiness: the
 * api still takes pushes, and they are delivered once a worker comes.
 */
import { type Readiness, withDeadline } from '@registry-triggers/http-kit';
import {
  HEARTBEAT_TTL_MS,
  type LayoutReport,
  liveWorkers,
  probeWrite,
  type RedisConnection,
} from '@registry-triggers/store';

export function apiReadiness(
  redis: RedisConnection,
  timeoutMs = 500,
  layout?: () => Promise<LayoutReport>,
): () => Promise<Readiness> {
  return async () => {
    const write = await withDeadline(
      probeWrite(redis).then(
        () => 'writable',
        (error: Error) =>
          /READONLY|OOM|NOREPLICAS/.test(error.message) ? error.message.split(' ')[0]! : 'unreachable',
      ),
      timeoutMs,
      'unreachable',
    );
    if (write !== 'writable') {
      return {
        ready: false,
        body: {
          status: write === 'unreachable' ? 'redis unreachable' : 'redis refuses writes',
          redis: write,
        },
      };
    }
    const [alive, queues] = await Promise.all([
      withDeadline(liveWorkers(redis), timeoutMs, -1),
      layout && withDeadline(layout(), timeoutMs, undefined),
    ]);
    const body: Readiness['body'] = {
      status: 'ready',
      redis: 'writable',
      workers: { alive: Math.max(alive, 0) },
    };
    const warnings: string[] = [];
    if (alive <= 0) {
      warnings.push(
        `no worker has sent a heartbeat in the last ${HEARTBEAT_TTL_MS / 1000} s: pushes are queued but not delivered`,
      );
    }
    if (queues) {
      // The partition count and the masters it spreads over; a mismatch warns, the api still takes pushes.
      const { warnings: layoutWarnings, ...facts } = queues;
      body.queues = facts;
      warnings.push(...layoutWarnings);
    }
    if (warnings.length > 0) body.warnings = warnings;
    return { ready: true, body };
  };
}
