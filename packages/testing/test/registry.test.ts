import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTinyImage,
  type DistributionRegistry,
  pushImage,
  type Receiver,
  registryToolsAvailable,
  startDistributionRegistry,
  startReceiver,
} from '../src/index.js';

// Recorded by hand with docker-registry 2.8.2 and skopeo 1.9.3 (copy of the shared spec fixture).
const fixturePath = fileURLToPath(new URL('./fixtures/distribution-2.8-skopeo-push.json', import.meta.url));

interface Envelope {
  events: Array<{
    action: string;
    target: {
      mediaType: string;
      size: number;
      digest: string;
      repository: string;
      url: string;
      tag?: string;
    };
    request: { method: string; useragent: string };
  }>;
}

describe.skipIf(!registryToolsAvailable())('distribution registry with a real push', () => {
  let registry: DistributionRegistry;
  let receiver: Receiver;
  let workDir: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    registry = await startDistributionRegistry({ notifyUrl: receiver.url, notifyToken: 'secret-token' });
    workDir = await mkdtemp(join(tmpdir(), 'rt-registry-test-'));
  });

  afterAll(async () => {
    await registry?.stop();
    await receiver?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('answers GET /v2/ on loopback', async () => {
    expect(registry.url).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`http://${registry.url}/v2/`)).status).toBe(200);
  });

  it('posts two blob pushes and one tagged manifest push, like the recorded fixture', async () => {
    const layout = await buildTinyImage(workDir);
    const { digest } = await pushImage(layout, `${registry.url}/myns/app:release-v1.2`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const requests = await receiver.waitForRequests(3, 15_000);
    expect(requests).toHaveLength(3);
    const envelopes = requests.map((request) => JSON.parse(request.body) as Envelope);

    // The same shape as the fixture recorded by hand on this kind of machine.
    const fixture = JSON.parse(await readFile(fixturePath, 'utf8')) as {
      requests: Array<{ contentType: string; authorization: string; envelope: Envelope }>;
    };
    expect(
      requests.map((r) => [r.method, r.url, r.headers['content-type'], r.headers['authorization']]),
    ).toEqual(fixture.requests.map((f) => ['POST', '/hook', f.contentType, f.authorization]));
    const shape = (envelope: Envelope) =>
      envelope.events.map((event) => ({
        action: event.action,
        mediaType: event.target.mediaType,
        repository: event.target.repository,
        tag: event.target.tag,
        method: event.request.method,
      }));
    expect(envelopes.map(shape)).toEqual(fixture.requests.map((f) => shape(f.envelope)));

    const manifest = envelopes[2]?.events[0]?.target;
    expect(manifest).toMatchObject({ tag: 'release-v1.2', digest, repository: 'myns/app' });
    expect(manifest?.url).toBe(`http://${registry.url}/v2/myns/app/manifests/${digest}`);
    expect(envelopes[0]?.events[0]?.request.useragent).toMatch(/^skopeo\//);
  });

  it('builds a new image each time, so every push carries new blobs', async () => {
    const first = await buildTinyImage(workDir);
    const second = await buildTinyImage(workDir);
    const index = async (layout: string) => readFile(join(layout, 'index.json'), 'utf8');
    expect(await index(first)).not.toBe(await index(second));
  });
});
