import { request as httpsRequest } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { type Receiver, startHttpsReceiver, startReceiver } from '../src/index.js';

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(): Promise<Receiver> {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

describe('startReceiver', () => {
  it('records method, path, lower-case headers and the exact body bytes', async () => {
    const hook = await receiver();
    expect(hook.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hook$/);
    const body = '{"tag":"v1.2","note":"caf\u00e9 \u2603"}\n';
    const response = await fetch(`${hook.url}?x=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Trigger-Name': 'Redeploy' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');

    const [request] = await hook.waitForRequests(1, 2000);
    expect(request).toMatchObject({ index: 0, method: 'POST', url: '/hook?x=1', body });
    expect(request?.bodyBytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-trigger-name']).toBe('Redeploy');
    expect(request?.rawHeaders).toContain('X-Trigger-Name');
    expect(Math.abs((request?.receivedAt ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('answers with the status, headers and body the handler chooses, per request index', async () => {
    const hook = await receiver();
    hook.respondWith((index) =>
      index === 0 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : { status: 204 },
    );
    const first = await fetch(hook.url, { method: 'POST', body: 'a' });
    expect([first.status, first.headers.get('retry-after'), await first.text()]).toEqual([503, '1', 'busy']);
    const second = await fetch(hook.url, { method: 'POST', body: 'b' });
    expect(second.status).toBe(204);
    expect(hook.requests.map((r) => r.body)).toEqual(['a', 'b']);
  });

  it('delays the answer by delayMs', async () => {
    const hook = await receiver();
    hook.respondWith(() => ({ status: 200, delayMs: 300 }));
    const started = Date.now();
    const response = await fetch(hook.url);
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('hangs until the client gives up, and close() ends hanging connections', async () => {
    const hook = await receiver();
    hook.respondWith(() => ({ hang: true }));
    await expect(fetch(hook.url, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i);
    const pending = fetch(hook.url, { method: 'POST', body: 'x' });
    await hook.waitForRequests(2, 2000);
    await hook.close();
    await expect(pending).rejects.toThrow();
  });

  it('destroys the connection without an answer', async () => {
    const hook = await receiver();
    hook.respondWith(() => ({ destroy: true }));
    await expect(fetch(hook.url)).rejects.toThrow(/fetch failed/);
    expect(hook.requests).toHaveLength(1);
  });

  it('reports what it got when waitForRequests times out, and reset() forgets', async () => {
    const hook = await receiver();
    await fetch(hook.url, { method: 'PUT' });
    await expect(hook.waitForRequests(2, 100)).rejects.toThrow(
      /waiting for 2 request\(s\).*got 1 \(PUT \/hook\)/,
    );
    hook.reset();
    expect(hook.requests).toHaveLength(0);
  });
});

describe('startHttpsReceiver', () => {
  it('serves TLS with a certificate that clients refuse by default', async () => {
    const hook = await startHttpsReceiver();
    receivers.push(hook);
    expect(hook.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/hook$/);
    const error = await fetch(hook.url, { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(hook.requests).toHaveLength(0);
  });

  it('answers a client that trusts its certificate, with the same API', async () => {
    const hook = await startHttpsReceiver();
    receivers.push(hook);
    hook.respondWith(() => ({ status: 202, body: 'accepted' }));
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(hook.url, { method: 'POST', ca: hook.cert }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end('secure body');
    });
    expect([status, text]).toEqual([202, 'accepted']);
    expect((await hook.waitForRequests(1, 2000))[0]?.body).toBe('secure body');
  });
});
