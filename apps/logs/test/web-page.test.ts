// The access-log page in a real browser against the real stack: Redis, the api, a
// worker and the logs app as processes, a receiver on loopback. What a user does:
// paste a token, pick a repository, read the log, filter it, open a record, follow live.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AppProcess,
  getFreePorts,
  type Receiver,
  type RedisHandle,
  repoRoot,
  startApp,
  startReceiver,
  startRedis,
  uniqueName,
  waitFor,
} from '@registry-triggers/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const ARTIFACTS = join(repoRoot, 'test-artifacts');
const REPOSITORY = 'team/web';

/** Waits for what the page shows: live records and list answers take a moment, more on busy CI. */
const WAIT_MS = 10_000;
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: WAIT_MS, interval: 50 });

interface LoggedRecord {
  id: string;
  tag: string;
  status: string;
  triggerName: string;
  requestBody: string;
}

describe.skipIf(!existsSync(CHROMIUM))('the access-log web page', () => {
  const adminToken = randomBytes(24).toString('hex');
  const ingestToken = randomBytes(24).toString('hex');
  const namespace = uniqueName('web');
  const apps: AppProcess[] = [];
  let redis: RedisHandle | undefined;
  let receiver: Receiver | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let apiUrl: string;
  let logsUrl: string;
  const listRequests: string[] = [];

  async function api(path: string, body: unknown, token = adminToken): Promise<unknown> {
    const response = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`POST ${path} → ${response.status}: ${text}`);
    return JSON.parse(text);
  }

  async function records(): Promise<LoggedRecord[]> {
    const response = await fetch(
      `${logsUrl}/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}/records?limit=200`,
      { headers: { Authorization: `Bearer ${adminToken}` } },
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as { records: LoggedRecord[] }).records;
  }

  /** Pushes one tag and waits until both triggers have logged it, so the log order is known. */
  async function push(tag: string): Promise<void> {
    const before = (await records()).length;
    const digest = `sha256:${randomBytes(32).toString('hex')}`;
    await api('/v1/events/push', { namespace, repository: REPOSITORY, tag, digest }, ingestToken);
    await waitFor(async () => (await records()).length >= before + 2, {
      timeoutMs: 15_000,
      message: `both records of tag ${tag}`,
    });
  }

  const rowTags = () => page.locator('#rows tr td.tag').allTextContents();
  const rowStatuses = () => page.locator('#rows tr td.status').allTextContents();

  beforeAll(async () => {
    const [apiPort, logsPort] = await getFreePorts(2);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    logsUrl = `http://127.0.0.1:${logsPort}`;
    [redis, receiver] = await Promise.all([startRedis(), startReceiver()]);
    const env = {
      REDIS_URL: redis.url,
      ADMIN_TOKEN: adminToken,
      INGEST_TOKEN: ingestToken,
      API_PORT: String(apiPort),
      API_HOST: '127.0.0.1',
      LOGS_PORT: String(logsPort),
      LOGS_HOST: '127.0.0.1',
      DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    const [launched, ...started] = await Promise.allSettled([
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
      startApp({ name: 'api', env, readyUrl: `${apiUrl}/healthz` }),
      startApp({ name: 'worker', env, readyLine: /worker started/ }),
      startApp({ name: 'logs', env, readyUrl: `${logsUrl}/healthz` }),
    ]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
    for (const result of [launched, ...started]) if (result.status === 'rejected') throw result.reason;

    const triggers = `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}/triggers`;
    await api(triggers, { name: 'every-tag', url: receiver.url, type: 'ALL', enabled: true });
    await api(triggers, {
      name: 'prod-only',
      url: receiver.url,
      type: 'TAG_LIST',
      tags: ['prod'],
      enabled: true,
    });
    // v1: one delivery and one untriggered; prod: two deliveries; v2: like v1.
    for (const tag of ['v1', 'prod', 'v2']) await push(tag);

    page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => {
      if (request.url().includes('/records?')) listRequests.push(request.url());
    });
    await page.goto(`${logsUrl}/`);
    // About 15 s on an idle machine; three app start-ups on two busy cores can take far longer.
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(apps.map((app) => app.stop()));
    await receiver?.close();
    await redis?.stop();
  });

  it('lists the records of a repository newest first, with status words beside the colours', async () => {
    await page.getByLabel('Token').fill(adminToken);
    await page.getByLabel('Namespace').fill(namespace);
    await page.getByLabel('Repository').fill(REPOSITORY);
    await page.getByRole('button', { name: 'Show log' }).click();

    await poll(rowTags).toEqual(['v2', 'v2', 'prod', 'prod', 'v1', 'v1']);
    const statuses = await rowStatuses();
    expect(statuses.filter((s) => s.includes('Succeeded'))).toHaveLength(4);
    expect(statuses.filter((s) => s.includes('Untriggered'))).toHaveLength(2);
    // The nested repository travels as one path segment.
    expect(listRequests.at(-1)).toContain(
      `/v1/namespaces/${namespace}/repositories/team%2Fweb/records?limit=50`,
    );
    // The token stays in this tab only.
    // (Expressions as strings: this file is typed for Node, not for the DOM.)
    expect(await page.evaluate('Object.values(sessionStorage)')).toContain(adminToken);
    expect(await page.evaluate('Object.values(localStorage)')).not.toContain(adminToken);
  });

  it('filters by status', async () => {
    await page.getByLabel('Status').selectOption('untriggered');
    await poll(rowTags).toEqual(['v2', 'v1']);
    expect(await rowStatuses()).toEqual(['–Untriggered', '–Untriggered']);
    // In place of a status code, why the trigger did not fire.
    expect(await page.locator('#rows tr td.code').allTextContents()).toEqual(['filter', 'filter']);
    expect(listRequests.at(-1)).toContain('status=untriggered');

    await page.getByLabel('Status').selectOption('');
    await poll(rowTags).toHaveLength(6);
  });

  it("opens a record and shows the request body the receiver got, and the receiver's answer", async () => {
    const prodRows = page.locator('#rows tr').filter({ has: page.locator('td.tag', { hasText: /^prod$/ }) });
    const recordId = await prodRows.first().getAttribute('data-id');
    await prodRows.first().getByRole('button').click();

    const dialog = page.getByRole('dialog');
    await poll(() => dialog.isVisible()).toBe(true);
    const logged = (await records()).find((record) => record.id === recordId)!;
    const shown = await dialog.getByRole('region', { name: 'Request body' }).textContent();
    expect(JSON.parse(shown ?? '')).toEqual(JSON.parse(logged.requestBody));
    // The record's body is what the receiver got, byte for byte.
    expect(receiver!.requests.map((request) => request.body)).toContain(logged.requestBody);
    expect(await dialog.getByRole('region', { name: 'Response body' }).textContent()).toBe('ok');
    expect(await dialog.textContent()).toContain('webhook-id');
    expect(new URL(page.url()).searchParams.get('record')).toBe(recordId);

    await page.keyboard.press('Escape');
    await poll(() => dialog.isVisible()).toBe(false);
  });

  it('follows live: new records appear at the top without a reload, filtered', async () => {
    // A reload would lose this mark.
    await page.evaluate('window.notReloaded = true');
    await page.getByLabel('Follow live').check();
    await poll(() => page.locator('#live-state').textContent()).toContain('Live');

    await push('prod');
    await poll(rowTags).toEqual(['prod', 'prod', 'v2', 'v2', 'prod', 'prod', 'v1', 'v1']);
    await poll(() => page.locator('#announcer').textContent()).toMatch(/new record/i);

    // Following with a status filter: only matching records arrive.
    await page.getByLabel('Status').selectOption('untriggered');
    await poll(rowTags).toEqual(['v2', 'v1']);
    await poll(() => page.locator('#live-state').textContent()).toContain('Live');
    await push('v3');
    await poll(rowTags).toEqual(['v3', 'v2', 'v1']);
    expect(await page.locator('#rows tr').first().getAttribute('class')).toContain('new');
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    await page.getByLabel('Status').selectOption('');
    await poll(rowTags).toHaveLength(10);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'logs-page.png'), fullPage: true });
    await page.locator('#rows tr').first().getByRole('button').click();
    await poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'logs-page-record.png') });
    await page.keyboard.press('Escape');
  });

  it("shows the problem's detail when the API refuses", async () => {
    const other = await browser!.newPage();
    other.setDefaultTimeout(WAIT_MS);
    try {
      await other.goto(`${logsUrl}/?ns=${namespace}&repo=${encodeURIComponent(REPOSITORY)}`);
      await other.getByLabel('Token').fill('not-the-right-token');
      await other.getByRole('button', { name: 'Show log' }).click();
      const alert = other.getByRole('alert');
      await alert.waitFor();
      await poll(() => alert.textContent()).toContain('a valid bearer token is required. Check the token.');
      // The error alone: no "no records match" beside it.
      expect(await other.getByText('No records match these filters.').isVisible()).toBe(false);

      // A detail that is the problem's one error is said once, not again as a list.
      await other.getByLabel('Token').fill(adminToken);
      await other.getByLabel('Namespace').fill('Not_Valid');
      await other.getByRole('button', { name: 'Show log' }).click();
      await poll(() => alert.textContent()).toContain('path.ns: namespace must be');
      const text = (await alert.textContent()) ?? '';
      expect(text.split('path.ns:')).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});
