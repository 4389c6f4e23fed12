/**
 * Operating a running stack (api, worker and logs as processes on a throwaway Redis):
 * secrets stay out of every log line and every /metrics page; a real Prometheus scraping the
 * three apps with deploy/prometheus/alerts.yml loaded answers every query of the Grafana
 * dashboard with series; and with every worker killed, the api's /readyz says no worker is
 * alive while the backlog it reports rises.
 *
 * Not in the e2e-cluster run (deploy-*): what is checked here does not change with the Redis
 * topology.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppProcess,
  getFreePort,
  type Receiver,
  repoRoot,
  retryOnAddressInUse,
  startProcess,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, INGEST_TOKEN, type Json, type Stack, startStack } from './support/stack.js';
import { digestFor, metricSum, receiverPool, scrapeMetrics } from './support/worker-kit.js';

const NS = 'operated';
const TRIGGER_SECRET = 'whsec-operated-trigger-secret-0123';
const HEADER_VALUE = 'x-api-key-value-operated-0123456789';
const URL_TOKEN = 'url-query-token-operated-0123456789';
const GUESSED_TOKEN = 'guessed-token-operated-0123456789';

describe('operating a running stack', () => {
  let stack: Stack;
  let workerMetricsUrl: string;
  const receivers = receiverPool();

  /** An OTLP/HTTP collector standing in for the operator's: it records what the apps export. */
  let collector: Receiver;

  beforeAll(async () => {
    const metricsPort = await getFreePort();
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    collector = await receivers.start();
    // Debug level everywhere: the most an operator can make the apps say. Traces on, and
    // exported within a fraction of a second.
    stack = await startStack({
      env: {
        LOG_LEVEL: 'debug',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.origin,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      workerEnv: { WORKER_METRICS_PORT: String(metricsPort), LOG_LEVEL: 'debug' },
    });
  }, 90_000);

  /** Every span exported so far, from the OTLP/JSON bodies the collector got. */
  const exportedSpans = (): Json[] =>
    collector.requests
      .filter((request) => request.url === '/v1/traces')
      .flatMap((request) => JSON.parse(request.body).resourceSpans as Json[])
      .flatMap((resource) => resource.scopeSpans.flatMap((scope: Json) => scope.spans as Json[]));

  afterAll(async () => {
    await stack?.stop();
    await receivers.closeAll();
  });

  const metricsPages = () =>
    Promise.all([`${stack.apiUrl}/metrics`, `${stack.logsUrl}/metrics`, workerMetricsUrl].map(scrapeMetrics));

  it('never prints, exports or traces a token, a trigger secret, a custom header value or an ?access_token=', async () => {
    const ok = await receivers.start();
    const issued = await stack.call('POST', `/v1/namespaces/${NS}/tokens`, { name: 'team' });
    expect(issued.status).toBe(201);
    const namespaceToken: string = issued.body.token;
    const trigger = await stack.createTrigger(NS, 'app', {
      name: 'secret-bearing',
      url: `${ok.url}?token=${URL_TOKEN}`,
      type: 'ALL',
      secret: TRIGGER_SECRET,
      headers: { 'X-Api-Key': HEADER_VALUE },
    });
    const base = `/v1/namespaces/${NS}/repositories/app/triggers/${trigger.id}`;
    // Pushes with each token, a test delivery, reads, and refusals of a guessed token.
    expect(
      (await stack.push({ namespace: NS, repository: 'app', tag: 'v1', digest: digestFor(1) })).status,
    ).toBe(202);
    const byTeam = await stack.call(
      'POST',
      '/v1/events/push',
      { namespace: NS, repository: 'app', tag: 'v2', digest: digestFor(2) },
      namespaceToken,
    );
    expect(byTeam.status).toBe(202);
    expect((await stack.call('POST', `${base}/test`)).status).toBeLessThan(300);
    expect((await stack.call('GET', base, undefined, namespaceToken)).body.secret).toBe('***');
    expect((await stack.call('GET', '/v1/namespaces', undefined, GUESSED_TOKEN)).status).toBe(401);
    const records = await stack.records(NS, 'app', trigger.id, 3);
    expect(records.every((record: Json) => record.status === 'succeeded')).toBe(true);
    for (const token of [namespaceToken, GUESSED_TOKEN]) {
      const withQuery = await fetch(`${stack.logsUrl}/v1/namespaces/${NS}/records?access_token=${token}`);
      await withQuery.arrayBuffer();
      const apiQuery = await fetch(`${stack.apiUrl}/v1/namespaces/${NS}/repositories?access_token=${token}`);
      await apiQuery.arrayBuffer();
    }
    // A live tail with the token in the query as well is refused (the query takes a token on
    // POST /v1/events/* only), and logged without it; one with the header is followed.
    const refusedTail = await fetch(
      `${stack.logsUrl}/v1/namespaces/${NS}/records/stream?access_token=${namespaceToken}`,
      { headers: { authorization: `Bearer ${namespaceToken}` } },
    );
    expect(refusedTail.status).toBe(400);
    await refusedTail.arrayBuffer();
    const tail = new AbortController();
    const stream = await fetch(`${stack.logsUrl}/v1/namespaces/${NS}/records/stream`, {
      headers: { authorization: `Bearer ${namespaceToken}`, accept: 'text/event-stream' },
      signal: tail.signal,
    });
    expect(stream.status).toBe(200);
    tail.abort();
    await ok.waitForRequests(3);
    // The receiver got the secrets it was meant to get: they were really in play.
    expect(ok.requests[0]!.headers['x-api-key']).toBe(HEADER_VALUE);

    const secrets = [
      ADMIN_TOKEN,
      INGEST_TOKEN,
      namespaceToken,
      GUESSED_TOKEN,
      TRIGGER_SECRET,
      HEADER_VALUE,
      URL_TOKEN,
    ];
    const apps = { api: stack.api, logs: stack.logs, worker: stack.workers[0]! } satisfies Record<
      string,
      AppProcess
    >;
    // Lines the apps do print about these requests: the check reads real logs.
    await waitFor(() => stack.api.output().some((line) => line.includes('"request refused"')), {
      message: 'the api logging the refused guessed token',
    });
    await waitFor(() => apps.worker.output().some((line) => line.includes('"delivered"')), {
      message: 'the worker logging a delivery',
    });
    for (const [name, app] of Object.entries(apps)) {
      const printed = app.output().join('\n');
      for (const secret of secrets) expect(printed, `${name} output`).not.toContain(secret);
    }
    for (const page of await metricsPages()) {
      expect(page).toContain('redis_up');
      for (const secret of secrets) expect(page).not.toContain(secret);
    }
    // The traces as exported over OTLP: a delivery attempt of the push is a child of its ingest span.
    const spans = await waitFor(
      () => {
        const exported = exportedSpans();
        return exported.some((span) => span.name === 'deliver') ? exported : undefined;
      },
      { timeoutMs: 10_000, message: 'the delivery spans exported' },
    );
    const ingest = spans.find((span) => span.name === 'ingest push');
    expect(spans).toContainEqual(
      expect.objectContaining({ name: 'deliver', traceId: ingest.traceId, parentSpanId: ingest.spanId }),
    );
    expect(ok.requests.some((request) => request.headers.traceparent?.includes(ingest.traceId))).toBe(true);
    const exported = collector.requests.map((request) => request.body).join('\n');
    for (const secret of secrets) expect(exported, 'exported traces').not.toContain(secret);
  });

  it('a real Prometheus scraping the stack has series for every query of the dashboard, and loads the alert rules', async () => {
    const ok = await receivers.start();
    const gone = await receivers.start();
    gone.respondWith(() => ({ status: 410, body: 'gone' }));
    const fine = await stack.createTrigger(NS, 'dash', { name: 'fine', url: ok.url, type: 'ALL' });
    const dead = await stack.createTrigger(NS, 'dash', { name: 'dead', url: gone.url, type: 'ALL' });
    expect(
      (
        await stack.push(
          Array.from({ length: 5 }, (_, i) => ({
            namespace: NS,
            repository: 'dash',
            tag: `t${i}`,
            digest: digestFor(i),
          })),
        )
      ).status,
    ).toBe(202);
    await stack.records(NS, 'dash', fine.id, 5, 'succeeded');
    await stack.records(NS, 'dash', dead.id, 1, 'failed');

    const dashboard = JSON.parse(
      await readFile(join(repoRoot, 'deploy/grafana/registry-triggers.json'), 'utf8'),
    );
    const queries: string[] = dashboard.panels.flatMap((panel: Json) =>
      panel.targets.map((target: Json) => target.expr),
    );
    expect(queries.length).toBeGreaterThan(10);

    const dataDir = await mkdtemp(join(tmpdir(), 'prometheus-'));
    const hostPort = (url: string) => new URL(url).host;
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(repoRoot, 'deploy/prometheus/alerts.yml')],
      scrape_configs: [
        {
          job_name: 'registry-triggers',
          static_configs: [{ targets: [stack.apiUrl, stack.logsUrl, workerMetricsUrl].map(hostPort) }],
        },
      ],
    };
    // JSON is YAML.
    await writeFile(join(dataDir, 'prometheus.yml'), JSON.stringify(config));
    let promUrl: string;
    let prometheus: AppProcess | undefined;
    try {
      // Its port is picked just before it binds, and picked again if another process took it
      // in between (Prometheus exits with "bind: address already in use").
      ({ prometheus, promUrl } = await retryOnAddressInUse(async () => {
        const port = await getFreePort();
        const url = `http://127.0.0.1:${port}`;
        const app = await startProcess({
          command: '/usr/bin/prometheus',
          args: [
            `--config.file=${join(dataDir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dataDir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          label: 'prometheus',
          readyUrl: `${url}/-/ready`,
        });
        return { prometheus: app, promUrl: url };
      }));
      const query = async (expr: string): Promise<Json[]> => {
        const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await response.json()) as Json;
        if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
        return body.data.result;
      };
      // Grafana's $__rate_interval is at least four scrape intervals.
      const resolved = queries.map((expr) => expr.replaceAll('$__rate_interval', '15s'));
      let empty: string[] = resolved;
      await waitFor(
        async () => {
          const results = await Promise.all(resolved.map(query));
          empty = resolved.filter((_, i) => results[i]!.length === 0);
          return empty.length === 0;
        },
        { timeoutMs: 45_000, intervalMs: 1000, message: 'series for every dashboard query' },
      ).catch((error) => {
        throw new Error(`${(error as Error).message}; no series for: ${empty.join(' | ')}`);
      });
      // Every target is scraped, and every rule evaluates without error on the real series.
      const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as Json;
      expect(targets.data.activeTargets.map((t: Json) => t.health)).toEqual(['up', 'up', 'up']);
      const rules = await waitFor(
        async () => {
          const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Json;
          const all = body.data.groups.flatMap((group: Json) => group.rules);
          return all.length > 0 && all.every((rule: Json) => rule.lastEvaluation !== '0001-01-01T00:00:00Z')
            ? all
            : undefined;
        },
        { timeoutMs: 10_000, message: 'every rule evaluated' },
      );
      expect(rules.map((rule: Json) => [rule.name, rule.health])).toEqual(
        rules.map((rule: Json) => [rule.name, 'ok']),
      );
      expect(rules.filter((rule: Json) => rule.type === 'alerting')).toHaveLength(5);
    } finally {
      await prometheus?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('with every worker killed, /readyz says no worker is alive and the backlog rises', async () => {
    const rx = await receivers.start();
    await stack.createTrigger(NS, 'stalled', { name: 'all', url: rx.url, type: 'ALL' });
    const waitingPushes = (text: string) =>
      metricSum(text, 'queue_backlog_jobs', { queue: 'push-events', state: 'waiting' });
    const before = waitingPushes(await scrapeMetrics(`${stack.apiUrl}/metrics`));
    const alive = (await (await fetch(`${stack.apiUrl}/readyz`)).json()) as Json;
    expect(alive.workers.alive).toBeGreaterThanOrEqual(1);

    for (const worker of stack.workers) await worker.kill();
    // A killed worker leaves no goodbye: its heartbeat ages out (15 s).
    const readiness = await waitFor(
      async () => {
        const response = await fetch(`${stack.apiUrl}/readyz`);
        const body = (await response.json()) as Json;
        return body.workers.alive === 0 ? { status: response.status, body } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'the api reporting no live worker' },
    );
    expect(readiness.status).toBe(200);
    expect(readiness.body.warnings.join(' ')).toMatch(/no worker/i);

    const count = 7;
    const pushed = await stack.push(
      Array.from({ length: count }, (_, i) => ({
        namespace: NS,
        repository: 'stalled',
        tag: `s${i}`,
        digest: digestFor(i),
      })),
    );
    expect(pushed.status).toBe(202);
    const metrics = await waitFor(
      async () => {
        const text = await scrapeMetrics(`${stack.apiUrl}/metrics`);
        return metricSum(text, 'queue_oldest_waiting_seconds', { queue: 'push-events' }) > 0
          ? text
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, message: 'the oldest waiting push aging' },
    );
    expect(waitingPushes(metrics)).toBe(before + count);
    expect(metricSum(metrics, 'workers_alive')).toBe(0);
    expect(rx.requests).toHaveLength(0);
  });
});
