import { defineConfig } from 'vitest/config';

// One run for the whole monorepo. Internal packages resolve to their TypeScript
// sources through the `source` export condition, so no build is needed first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // apps/logs/public/js: the console's plain modules, tested beside themselves in JS.
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/public/**/*.test.js'],
          // Units first: they are fast and fail fast.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            'e2e/**/*.test.ts',
            // The short fault suite: every scenario, lost = 0 and what is not about time.
            'faults/**/*.test.ts',
          ],
          // The delivery gates' races run once, on the cluster (e2e-cluster): the same code on one
          // server, and there every gate's keys must also share their slot.
          exclude: ['e2e/delivery-gates.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration suites start real servers and processes: two at a time fits 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // The end-to-end suites again, on a Redis Cluster (3 masters, 3 replicas, three
          // queue partitions): e2e/support/stack.ts reads E2E_REDIS. The cluster-only suites
          // already run in `integration`; replica-waits brings its own server and replica,
          // redis-outage kills and restarts its own single server.
          name: 'e2e-cluster',
          include: ['e2e/**/*.test.ts'],
          exclude: [
            'e2e/cluster-*.test.ts',
            'e2e/settings.test.ts',
            'e2e/replica-waits.test.ts',
            'e2e/redis-outage.test.ts',
            // The deploy files and the CLI (a client of the API) do not change with the Redis topology.
            'e2e/deploy-*.test.ts',
            'e2e/cli.test.ts',
            // On a Redis of their own: the topology is not what they test.
            'e2e/tracing.test.ts',
            'e2e/local-stack.test.ts',
            // Decided before or beside Redis, and the path after them runs on the cluster in
            // thin-path: the SSRF guard refuses a URL before anything is sent; each registry's
            // webhook format is parsed by the api before it is queued; request logging and
            // the request id are lines of the apps and a field of the job they carry.
            'e2e/worker-ssrf.test.ts',
            'e2e/registry-sources.test.ts',
            'e2e/request-logs.test.ts',
          ],
          env: { E2E_REDIS: 'cluster' },
          testTimeout: 90_000,
          hookTimeout: 90_000,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
