// The console in a real browser against the real stack: Redis, the api, a worker and the
// logs app (forwarding the api's routes, CONSOLE_API_URL) as processes, a receiver on
// loopback. What a user does: sign in, create a trigger (a bad URL first), push, watch the
// record arrive live, open and redeliver it, reload a deep link, issue and revoke a token.
// One browser, one page, the tests in order.
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
/** Markup in data the page shows: it must arrive as text, and run nothing. */
const XSS = (n: number) => `<img src=x onerror="window.__xss=${n}">`;

/** Waits for what the page shows: live records and list answers take a moment, more on busy CI. */
const WAIT_MS = 10_000;
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: WAIT_MS, interval: 50 });

describe.skipIf(!existsSync(CHROMIUM))('the console', () => {
  const adminToken = randomBytes(24).toString('hex');
  const ingestToken = randomBytes(24).toString('hex');
  const namespace = uniqueName('web');
  const apps: AppProcess[] = [];
  const pageErrors: string[] = [];
  let redis: RedisHandle | undefined;
  let receiver: Receiver | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let apiUrl: string;
  let logsUrl: string;

  async function call(method: string, path: string, body?: unknown, token = adminToken) {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  const push = (tag: string) =>
    call(
      'POST',
      '/v1/events/push',
      { namespace, repository: REPOSITORY, tag, digest: `sha256:${randomBytes(32).toString('hex')}` },
      ingestToken,
    );

  const rowTags = () => page.locator('#rows tr td.tag').allTextContents();
  const xssRan = () => page.evaluate('window.__xss');

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
      CONSOLE_API_URL: apiUrl,
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

    await call('PUT', `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}`, {
      repoType: 'PRIVATE',
    });
    // The receiver answers with markup, which the record's detail must show as text.
    receiver.respondWith(() => ({ status: 200, headers: { 'X-Echo': XSS(3) }, body: `ok ${XSS(4)}` }));

    const context = await browser!.newContext({
      viewport: { width: 1280, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // A refusal (a bad URL, a wrong token) is an answer the page shows, not a fault of the page;
      // a policy violation or an exception is.
      if (message.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(message.text()))
        pageErrors.push(message.text());
    });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${logsUrl}/`);
    // About 15 s on an idle machine; three app start-ups on two busy cores can take far longer.
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(apps.map((app) => app.stop()));
    await receiver?.close();
    await redis?.stop();
  });

  it('signs in with the admin token (a wrong one is refused beside its field) and lists the namespaces', async () => {
    const response = await page.request.get(`${logsUrl}/`);
    expect(response.headers()['content-security-policy']).toContain("require-trusted-types-for 'script'");
    expect(response.headers()['content-security-policy']).toContain("script-src 'self';");

    await page.getByLabel('Token', { exact: true }).fill('not-the-right-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.locator('#token-error').textContent()).toContain('not accepted');
    expect(await page.getByLabel('Token', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    // By keyboard alone: the token field has the focus, Enter signs in.
    await page.getByLabel('Token', { exact: true }).fill('');
    await page.getByLabel('Token', { exact: true }).focus();
    await page.keyboard.type(adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: namespace }).waitFor();
    expect(await page.locator('#who').textContent()).toBe('global admin');
    // The token stays in this tab only, and never in the address.
    // (Expressions as strings: this file is typed for Node, not for the DOM.)
    expect(await page.evaluate('Object.values(sessionStorage)')).toContain(adminToken);
    expect(await page.evaluate('Object.values(localStorage)')).not.toContain(adminToken);
    expect(page.url()).not.toContain(adminToken);

    // The colours follow the system's dark mode.
    const background = () => page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).not.toBe(light);
    await page.emulateMedia({ colorScheme: null });
  });

  it("creates a trigger: the server's field error stands next to the URL, then it is created", async () => {
    await page.getByRole('link', { name: namespace }).click();
    await page.getByRole('link', { name: REPOSITORY }).click();
    // The nested repository reads as typed in the address, and reached the API as one segment.
    expect(new URL(page.url()).search).toContain(`repo=${REPOSITORY}`);
    await page.getByText('Add a trigger').click();
    const form = page.locator('#new-trigger-form');
    await form.getByLabel('Name').fill(`deploy ${XSS(1)}`);
    await form.getByLabel('URL').fill('ftp://127.0.0.1/hook');
    await form.getByRole('button', { name: 'Create trigger' }).click();
    const urlError = page.locator('#new-trigger-url-error');
    await poll(() => urlError.isVisible()).toBe(true);
    expect(await urlError.textContent()).toMatch(/http/i);
    expect(await form.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#new-trigger-name-error').isVisible()).toBe(false);

    await form.getByLabel('URL').fill(receiver!.url);
    await form.getByLabel('Extra headers').fill(`X-Note: ${XSS(2)}`);
    await form.getByRole('button', { name: 'Create trigger' }).click();
    const row = page.locator('#trigger-rows tr');
    await poll(() => row.locator('.trigger-name').allTextContents()).toEqual([`deploy ${XSS(1)}`]);
    expect(await urlError.isVisible()).toBe(false);

    // Disable and enable again: the api holds what the switch shows.
    const [trigger] = (
      await call('GET', `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}/triggers`)
    ).triggers;
    const enabled = row.getByRole('checkbox', { name: /^Enabled/ });
    await enabled.uncheck();
    await poll(() => page.locator('#triggers-message').textContent()).toContain('is disabled');
    const path = `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}/triggers/${trigger.id}`;
    expect((await call('GET', path)).enabled).toBe(false);
    await enabled.check();
    await poll(() => page.locator('#triggers-message').textContent()).toContain('is enabled');
    expect((await call('GET', path)).enabled).toBe(true);

    // A test delivery reaches the receiver.
    await row.getByRole('button', { name: 'Send test' }).click();
    await poll(() => page.locator('#triggers-message').textContent()).toContain('Succeeded (200)');
    expect(receiver!.requests.some((request) => request.body.includes('"tag":"test"'))).toBe(true);
    expect(await xssRan()).toBeUndefined();
  });

  it('follows live: a push appears at the top without a reload; its record shows both sides as text', async () => {
    await page.evaluate('window.notReloaded = true');
    await page.getByLabel('Follow live').check();
    await poll(() => page.locator('#live-state').textContent()).toContain('Live');
    const before = receiver!.requests.length;
    await push('v1');
    await poll(rowTags).toContain('v1');
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    await page.locator('#rows tr').filter({ hasText: 'v1' }).first().getByRole('button').click();
    const dialog = page.getByRole('dialog');
    await poll(() => dialog.isVisible()).toBe(true);
    const [delivered] = receiver!.requests.slice(before);
    const shown = await dialog.getByRole('region', { name: 'Request body' }).textContent();
    expect(JSON.parse(shown ?? '')).toEqual(JSON.parse(delivered!.body));
    expect(await dialog.getByRole('region', { name: 'Response body' }).textContent()).toBe(`ok ${XSS(4)}`);
    expect(await dialog.textContent()).toContain(XSS(3));
    expect(await dialog.textContent()).toContain(`deploy ${XSS(1)}`);
    expect(await dialog.textContent()).toContain('webhook-id');
    // The markup is text: no image element came of it, and nothing ran.
    expect(await page.evaluate('document.querySelectorAll("img").length')).toBe(0);
    expect(await xssRan()).toBeUndefined();
    // An api without delivery cancel shows no Cancel button (nor does a finished delivery).
    expect(await dialog.getByRole('button', { name: /cancel/i }).count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('record')).toMatch(/^\d+-\d+$/);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-record.png') });
  });

  it('redelivers the record: the receiver gets it again and the new record arrives live', async () => {
    const dialog = page.getByRole('dialog');
    const before = receiver!.requests.length;
    await dialog.getByRole('button', { name: 'Redeliver' }).click();
    await poll(() => page.locator('#detail-outcome').textContent()).toContain('Redelivery queued');
    await receiver!.waitForRequests(before + 1);
    await page.keyboard.press('Escape');
    await poll(() => dialog.isVisible()).toBe(false);
    // The dialog's close event (a task after it hides) takes the record out of the address.
    await poll(() => new URL(page.url()).searchParams.get('record')).toBeNull();
    await poll(rowTags).toEqual(['v1', 'v1', 'test']);
  });

  it('a deep link survives a reload: the same repository, status filter and record', async () => {
    await page.getByLabel('Status').selectOption('succeeded');
    await poll(rowTags).toEqual(['v1', 'v1', 'test']);
    await page.locator('#rows tr').first().getByRole('button').click();
    await poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    const recordId = new URL(page.url()).searchParams.get('record');
    await page.reload();
    await poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    expect(await page.locator('#detail-body').textContent()).toContain(recordId);
    expect(await page.getByLabel('Status').inputValue()).toBe('succeeded');
    expect(new URL(page.url()).searchParams.get('repo')).toBe(REPOSITORY);
    await page.keyboard.press('Escape');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No records match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await poll(rowTags).toHaveLength(3);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'console-repository-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: null });
  });

  it('edits and deletes the trigger on its own screen', async () => {
    await page.locator('#trigger-rows .trigger-name a').click();
    const form = page.locator('#edit-trigger-form');
    expect(await form.getByLabel('Name').inputValue()).toBe(`deploy ${XSS(1)}`);
    expect(await form.getByLabel('URL').inputValue()).toBe(receiver!.url);
    await form.getByLabel('Name').fill('deploy-renamed');
    await form.getByRole('button', { name: 'Save' }).click();
    await poll(() => page.locator('#trigger-heading').textContent()).toBe('deploy-renamed');
    expect(await page.locator('#crumbs [aria-current="page"]').textContent()).toBe('deploy-renamed');
    await page.reload();
    await poll(() => page.locator('#trigger-heading').textContent()).toBe('deploy-renamed');
    await poll(rowTags).toEqual(['v1', 'v1', 'test']);
    expect(await xssRan()).toBeUndefined();

    // Deleted (after the confirmation), it is gone from the repository and from the api.
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No triggers yet: add one below.').waitFor();
    const { triggers } = await call(
      'GET',
      `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(REPOSITORY)}/triggers`,
    );
    expect(triggers).toEqual([]);
  });

  it('adds a repository; issues a token shown once with a copy button, rotates it; revoked, the page goes back to sign-in', async () => {
    const crumb = page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: namespace });
    await crumb.click();
    // A repository typed with its slash, refused first for its capitals beside the field.
    await page.getByText('Add a repository').click();
    await page.getByLabel('Repository').fill('Team/API');
    await page.getByRole('button', { name: 'Add repository' }).click();
    await poll(() => page.locator('#repository-name-error').textContent()).toMatch(/repo/);
    await page.getByLabel('Repository').fill('team/api');
    await page.getByRole('button', { name: 'Add repository' }).click();
    await poll(() => new URL(page.url()).searchParams.get('repo')).toBe('team/api');
    expect((await call('GET', `/v1/namespaces/${namespace}/repositories/team%2Fapi`)).name).toBe('team/api');
    await crumb.click();

    await page.getByText('Create a token').click();
    await page.locator('#token-name').fill('ci');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.locator('#token-secret');
    await secret.waitFor();
    const issued = await secret.inputValue();
    expect(issued.length).toBeGreaterThan(20);
    await page.locator('#token-copy').click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(issued);
    await poll(() => page.locator('#token-rows tr').count()).toBe(1);
    expect(await page.locator('#token-rows').textContent()).not.toContain(issued);

    await page.getByRole('button', { name: 'Rotate ci' }).click();
    await poll(() => secret.inputValue()).not.toBe(issued);
    const rotated = await secret.inputValue();
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.locator('#token-secret').count()).toBe(0);

    // Another one, revoked with its button (after the confirmation): the list loses it.
    await page.locator('#token-name').fill('temp');
    await page.getByRole('button', { name: 'Create token' }).click();
    await poll(() => page.locator('#token-rows tr').count()).toBe(2);
    await page.getByRole('button', { name: 'Revoke temp' }).click();
    await poll(() => page.locator('#token-rows tr').count()).toBe(1);
    expect(await page.locator('#token-rows').textContent()).not.toContain('temp');

    // Signed in with the namespace token, following the repository's log.
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The namespace of the address is filled in: a namespace token needs it.
    expect(await page.getByLabel('Namespace').inputValue()).toBe(namespace);
    await page.getByLabel('Token', { exact: true }).fill(rotated);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: REPOSITORY }).click();
    expect(await page.locator('#who').textContent()).toBe(`namespace token of ${namespace}`);
    await page.getByLabel('Follow live').check();
    await poll(() => page.locator('#live-state').textContent()).toContain('Live');

    const { tokens } = await call('GET', `/v1/namespaces/${namespace}/tokens`);
    await call('DELETE', `/v1/namespaces/${namespace}/tokens/${tokens[0].id}`);
    await page.locator('#sign-in-screen').waitFor({ state: 'visible' });
    expect(await page.locator('#sign-in-message').textContent()).toContain('no longer accepted');
    expect(await page.evaluate('Object.values(sessionStorage)')).not.toContain(rotated);
    expect(pageErrors).toEqual([]);
  });
});
