/**
 * How long the api takes to answer a distribution envelope of 100 to 10,000 events, which is
 * what MAX_EVENTS_PER_ENVELOPE's default rests on: the largest envelope taken must be answered
 * well inside the registry's 1 s notification timeout (docs/registries.md). The api runs as
 * its own process (npm start) against a throwaway Redis; the limit and deadlines are lifted so
 * that every size is taken.
 * Run: node --conditions=source --import tsx bench/envelope-size.bench.ts
 */
import { cpus, loadavg } from 'node:os';
import { getFreePort, startApp, startRedis } from '@registry-triggers/testing';

const SIZES = (process.env.SIZES ?? '100,500,1000,5000,10000').split(',').map(Number);
const ROUNDS = 5;
const NAMESPACES = 10;
const TOKEN = 'bench-ingest-token-0123456789';

const redis = await startRedis();
const port = await getFreePort();
const api = await startApp({
  name: 'api',
  readyUrl: `http://127.0.0.1:${port}/readyz`,
  env: {
    REDIS_URL: redis.url,
    API_PORT: String(port),
    API_HOST: '127.0.0.1',
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    INGEST_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
    MAX_BODY_BYTES: String(50 * 1024 * 1024),
    MAX_EVENTS_PER_ENVELOPE: '10000',
    REPOSITORIES_PER_NAMESPACE: '100000',
    INGEST_DEADLINE_MS: '60000',
    REDIS_COMMAND_TIMEOUT_MS: '60000',
  },
});

let namespaceSeq = 0;
/** Distinct repositories over NAMESPACES namespaces, as a registry of many images would send. */
function envelope(namespaces: string[], size: number, idPrefix: string): string {
  return JSON.stringify({
    events: Array.from({ length: size }, (_, i) => ({
      id: `${idPrefix}-${i}`,
      action: 'push',
      timestamp: new Date().toISOString(),
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        repository: `${namespaces[i % namespaces.length]}/repo-${i}`,
        tag: 'v1',
        digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      },
    })),
  });
}

async function post(body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/v1/events/distribution`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  });
  await response.text();
  if (response.status !== 202) throw new Error(`answered ${response.status}`);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cell = (values: number[]) => `${median(values).toFixed(0)} (${Math.max(...values).toFixed(0)})`;

try {
  // Warm-up: scripts loaded, code paths compiled.
  await post(envelope(['warm-a', 'warm-b'], 200, 'warm'));
  console.log(`${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the start`);
  console.log('| events | new repositories | known repositories | resend (all duplicates) |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const size of SIZES) {
    const runs = { fresh: [] as number[], known: [] as number[], resend: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const namespaces = Array.from({ length: NAMESPACES }, () => `bench-${++namespaceSeq}`);
      runs.fresh.push(await post(envelope(namespaces, size, 'a')));
      const second = envelope(namespaces, size, 'b');
      runs.known.push(await post(second));
      runs.resend.push(await post(second));
    }
    console.log(`| ${size} | ${cell(runs.fresh)} | ${cell(runs.known)} | ${cell(runs.resend)} |`);
  }
  console.log(
    `ms to the answer, median (max) of ${ROUNDS}; load average ${loadavg()[0]!.toFixed(1)} at the end`,
  );
} finally {
  await api.stop();
  await redis.stop();
}
