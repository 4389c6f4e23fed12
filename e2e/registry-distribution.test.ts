/**
 * The real CNCF distribution registry notifying the api. skopeo pushes tiny OCI images
 * built here; the registry posts its notification envelopes through a proxy that fails
 * two of them once, so the registry retries; the right triggers fire once each with the
 * digest the registry stored, and everything that is not a tagged push is ignored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTinyImage,
  type DistributionRegistry,
  pushImage,
  type Receiver,
  registryToolsAvailable,
  startDistributionRegistry,
  startReceiver,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NotificationProxy,
  type ProxyAction,
  startNotificationProxy,
} from './support/notification-proxy.js';
import { INGEST_TOKEN, type Stack, startStack } from './support/stack.js';

interface RegistryEvent {
  id: string;
  timestamp: string;
  action: string;
  target: { mediaType?: string; digest?: string; repository: string; tag?: string; url?: string };
}

const NS = 'team';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Tagged pushes that the api counts, in push order. */
const PUSHES = [
  { repository: 'app', tag: 'release-v1.2' },
  { repository: 'app', tag: 'dev' },
  { repository: 'app', tag: 'latest' },
  { repository: 'tools/cli', tag: 'v1' },
] as const;
type PushedTag = (typeof PUSHES)[number]['tag'];
type TriggerName = 'appAll' | 'appList' | 'appRegExp' | 'cliAll';
/** Refused before it reaches the api: the registry must send it again. */
const REFUSED_TAG: PushedTag = 'release-v1.2';
/** Reaches the api, but the registry gets a 503 instead of the 202: its retry is a duplicate. */
const ANSWER_LOST_TAG: PushedTag = 'dev';

const eventsOf = (body: string): RegistryEvent[] => (JSON.parse(body) as { events: RegistryEvent[] }).events;
const isTaggedPush = (event: RegistryEvent) => event.action === 'push' && Boolean(event.target.tag);
/** The contract's rule, restated independently of the api's code. */
const counts = (event: RegistryEvent) => isTaggedPush(event) && event.target.repository.includes('/');
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** The api's `push_events_total` for one outcome (other labels, such as `app`, may follow). */
function metricValue(text: string, outcome: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('push_events_total{') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe.skipIf(!registryToolsAvailable())('distribution registry → api → triggers', () => {
  let stack: Stack;
  let proxy: NotificationProxy;
  let registry: DistributionRegistry;
  let workDir: string;
  let receivers: Record<TriggerName, Receiver>;
  const triggerIds = {} as Record<TriggerName, string>;
  /** Manifest digests as skopeo reported them, by tag. */
  const digests: Partial<Record<PushedTag, string>> = {};
  const registryUrl = (path: string) => `http://${registry.url}/v2/${path}`;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'rt-e2e-registry-'));
    // One fresh image per push, so every push uploads its own blobs and has its own digest.
    const [started, images, appAll, appList, appRegExp, cliAll] = await Promise.all([
      startStack(),
      Promise.all(Array.from({ length: PUSHES.length + 1 }, () => buildTinyImage(workDir))),
      startReceiver(),
      startReceiver(),
      startReceiver(),
      startReceiver(),
    ]);
    stack = started;
    receivers = { appAll, appList, appRegExp, cliAll };

    const failed = new Set<string>();
    proxy = await startNotificationProxy({
      target: stack.apiUrl,
      decide: (body): ProxyAction => {
        const tag = eventsOf(body).find(isTaggedPush)?.target.tag;
        if (tag !== REFUSED_TAG && tag !== ANSWER_LOST_TAG) return 'forward';
        if (failed.has(tag)) return 'forward';
        failed.add(tag);
        return tag === REFUSED_TAG ? 'fail-before-forwarding' : 'fail-after-forwarding';
      },
    });
    registry = await startDistributionRegistry({
      notifyUrl: `${proxy.origin}/v1/events/distribution`,
      notifyToken: INGEST_TOKEN,
    });

    triggerIds.appAll = (
      await stack.createTrigger(NS, 'app', { name: 'all', url: receivers.appAll.url, type: 'ALL' })
    ).id;
    triggerIds.appList = (
      await stack.createTrigger(NS, 'app', {
        name: 'list',
        url: receivers.appList.url,
        type: 'TAG_LIST',
        tags: ['latest', 'v9'],
      })
    ).id;
    triggerIds.appRegExp = (
      await stack.createTrigger(NS, 'app', {
        name: 'releases',
        url: receivers.appRegExp.url,
        type: 'TAG_REG_EXP',
        expression: 'release-v.*',
      })
    ).id;
    triggerIds.cliAll = (
      await stack.createTrigger(NS, 'tools/cli', { name: 'cli', url: receivers.cliAll.url, type: 'ALL' })
    ).id;

    const [soloImage, ...layouts] = images;
    for (const [i, push] of PUSHES.entries()) {
      const { digest } = await pushImage(layouts[i]!, `${registry.url}/${NS}/${push.repository}:${push.tag}`);
      digests[push.tag] = digest;
    }
    // A repository without a namespace segment: the registry notifies, the api ignores it.
    await pushImage(soloImage!, `${registry.url}/solo:v1`);

    // A pull, a manifest pushed by digest (no tag) and a delete: all notified, all ignored.
    const pulled = await fetch(registryUrl(`${NS}/app/manifests/latest`), {
      headers: { accept: OCI_MANIFEST },
    });
    expect(pulled.status).toBe(200);
    const manifest = Buffer.from(await pulled.arrayBuffer());
    const byDigest = await fetch(registryUrl(`${NS}/app/manifests/${digests.latest}`), {
      method: 'PUT',
      headers: { 'content-type': OCI_MANIFEST },
      body: manifest,
    });
    expect(byDigest.status).toBe(201);
    const deleted = await fetch(registryUrl(`${NS}/app/manifests/${digests.dev}`), { method: 'DELETE' });
    expect(deleted.status).toBe(202);

    // The registry notifies asynchronously: wait until the delete (the last action) got
    // through: one event for the manifest, one for the tag that pointed at it.
    await waitFor(
      () =>
        proxy.exchanges.filter(
          (exchange) =>
            exchange.answeredStatus === 202 &&
            eventsOf(exchange.body).some((event) => event.action === 'delete'),
        ).length >= 2,
      { timeoutMs: 20_000, message: 'the registry to notify the delete' },
    );
    // About 15 s on an idle 2-core machine; the margin is for a loaded CI runner.
  }, 90_000);

  afterAll(async () => {
    await registry?.stop();
    await proxy?.close();
    await Promise.all(Object.values(receivers ?? {}).map((receiver) => receiver.close()));
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** Every event the registry sent, once per event id (a retry repeats the id). */
  function registryEvents(): RegistryEvent[] {
    const byId = new Map<string, RegistryEvent>();
    for (const exchange of proxy.exchanges)
      for (const event of eventsOf(exchange.body)) byId.set(event.id, event);
    return [...byId.values()];
  }

  function taggedPushEvent(repository: string, tag: string): RegistryEvent {
    const found = registryEvents().filter(
      (event) =>
        isTaggedPush(event) && event.target.repository === `${NS}/${repository}` && event.target.tag === tag,
    );
    expect(found, `one push event for ${repository}:${tag}`).toHaveLength(1);
    return found[0]!;
  }

  async function expectedBody(repository: string, tag: PushedTag): Promise<string> {
    const event = taggedPushEvent(repository, tag);
    const repo = await stack.call(
      'GET',
      `/v1/namespaces/${NS}/repositories/${encodeURIComponent(repository)}`,
    );
    expect(repo.status).toBe(200);
    return (
      `{"push_data":{"digest":"${digests[tag]}","pushed_at":"${utc(Date.parse(event.timestamp))}","tag":"${tag}"},` +
      `"repository":{"date_created":"${utc(repo.body.createdAt)}","name":"${repository}","namespace":"${NS}",` +
      `"region":"local","repo_authentication_type":"NO_CERTIFIED","repo_full_name":"${NS}/${repository}",` +
      `"repo_origin_type":"NO_CERTIFIED","repo_type":"PRIVATE"}}`
    );
  }

  it('fires ALL, TAG_LIST and TAG_REG_EXP triggers with the digest the registry stored', async () => {
    const expected: Record<TriggerName, { repository: string; tags: PushedTag[] }> = {
      appAll: { repository: 'app', tags: ['dev', 'latest', 'release-v1.2'] },
      appList: { repository: 'app', tags: ['latest'] },
      appRegExp: { repository: 'app', tags: ['release-v1.2'] },
      cliAll: { repository: 'tools/cli', tags: ['v1'] },
    };
    for (const [name, { repository, tags }] of Object.entries(expected)) {
      const receiver = receivers[name as TriggerName];
      const received = await receiver.waitForRequests(tags.length, 20_000);
      const tagOf = (body: string) => JSON.parse(body).push_data.tag as string;
      expect(received.map((request) => tagOf(request.body)).sort(), name).toEqual(tags);
      const byTag = new Map(received.map((request) => [tagOf(request.body), request]));
      for (const tag of tags) {
        // skopeo's digest is the one in the registry's own notification, and the one delivered.
        expect(taggedPushEvent(repository, tag).target.digest).toBe(digests[tag]);
        expect(byTag.get(tag)!.body, `${name} ${tag}`).toBe(await expectedBody(repository, tag));
      }
    }
  });

  it('leaves untriggered records for tags a trigger does not match', async () => {
    const untriggeredTags = async (trigger: TriggerName, repository: string, count: number) => {
      const records = await stack.records(NS, repository, triggerIds[trigger], count, 'untriggered');
      for (const record of records) expect(record).toMatchObject({ statusCode: 'untriggered', attempt: 0 });
      return records.map((record) => `${record.tag} ${record.digest}`).sort();
    };
    expect(await untriggeredTags('appList', 'app', 2)).toEqual([
      `dev ${digests.dev}`,
      `release-v1.2 ${digests['release-v1.2']}`,
    ]);
    expect(await untriggeredTags('appRegExp', 'app', 2)).toEqual([
      `dev ${digests.dev}`,
      `latest ${digests.latest}`,
    ]);
    const succeeded = await stack.records(NS, 'app', triggerIds.appAll, 3, 'succeeded');
    expect(succeeded.map((record) => record.tag).sort()).toEqual(['dev', 'latest', 'release-v1.2']);
    for (const [trigger, repository] of [
      ['appAll', 'app'],
      ['cliAll', 'tools/cli'],
    ] as const) {
      const page = await stack.logsCall(
        `/v1/namespaces/${NS}/repositories/${encodeURIComponent(repository)}/triggers/${triggerIds[trigger]}/records?status=untriggered`,
      );
      expect(page.status).toBe(200);
      expect(page.body.records, trigger).toEqual([]);
    }
  });

  it('ignores blob pushes, pulls, deletes, untagged manifests and repositories without a namespace', async () => {
    const events = registryEvents();
    const blobPushes = events.filter((e) => e.action === 'push' && e.target.url?.includes('/blobs/'));
    const untagged = events.filter(
      (e) => e.action === 'push' && !e.target.tag && e.target.url?.includes('/manifests/'),
    );
    // Two blobs (layer and config) per fresh image.
    expect(blobPushes).toHaveLength(2 * (PUSHES.length + 1));
    expect(untagged.map((e) => e.target.digest)).toEqual([digests.latest]);
    expect(events.filter((e) => e.action === 'pull').map((e) => e.target.tag)).toContain('latest');
    // Deleting a manifest notifies the manifest (by digest) and each tag that pointed at it.
    const deletes = events.filter((e) => e.action === 'delete');
    expect(deletes.map((e) => e.target.digest ?? `tag ${e.target.tag}`).sort()).toEqual([
      digests.dev,
      'tag dev',
    ]);
    expect(events.filter((e) => isTaggedPush(e) && e.target.repository === 'solo')).toHaveLength(1);

    // Every answer of the api, envelope by envelope, agrees with the contract's rule.
    let ignoredTotal = 0;
    for (const exchange of proxy.exchanges) {
      expect(exchange.method).toBe('POST');
      expect(exchange.headers['content-type']).toBe('application/vnd.docker.distribution.events.v1+json');
      expect(exchange.headers.authorization).toBe(`Bearer ${INGEST_TOKEN}`);
      if (!exchange.upstream) continue;
      const sent = eventsOf(exchange.body);
      const answer = JSON.parse(exchange.upstream.body);
      expect(exchange.upstream.status, exchange.body).toBe(202);
      expect(answer.ignored, exchange.body).toBe(sent.filter((event) => !counts(event)).length);
      expect(answer.accepted + answer.duplicates, exchange.body).toBe(sent.filter(counts).length);
      ignoredTotal += answer.ignored;
    }
    expect(ignoredTotal).toBe(events.filter((event) => !counts(event)).length);
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(metricValue(metrics, 'ignored')).toBe(ignoredTotal);
    expect(metricValue(metrics, 'accepted')).toBe(PUSHES.length);

    // The receivers got tagged pushes only: one request per matching tag, nothing else.
    const delivered = () => Object.values(receivers).flatMap((receiver) => receiver.requests);
    await waitFor(() => delivered().length >= 6, { timeoutMs: 20_000, message: '6 deliveries' });
    expect(
      delivered()
        .map((request) => JSON.parse(request.body).push_data.tag)
        .sort(),
    ).toEqual(['dev', 'latest', 'latest', 'release-v1.2', 'release-v1.2', 'v1']);
  });

  it('delivers a notification the registry retried exactly once', async () => {
    for (const tag of [REFUSED_TAG, ANSWER_LOST_TAG]) {
      const { id } = taggedPushEvent('app', tag);
      const attempts = proxy.exchanges.filter((exchange) =>
        eventsOf(exchange.body).some((event) => event.id === id),
      );
      // The registry sent the same event (same id) again after our 503.
      expect(
        attempts.map((a) => [a.action, a.answeredStatus]),
        tag,
      ).toEqual([
        [tag === REFUSED_TAG ? 'fail-before-forwarding' : 'fail-after-forwarding', 503],
        ['forward', 202],
      ]);
      const answers = attempts.flatMap((a) => (a.upstream ? [JSON.parse(a.upstream.body)] : []));
      expect(
        answers.map((answer) => [answer.accepted, answer.duplicates]),
        tag,
      ).toEqual(
        tag === REFUSED_TAG
          ? [[1, 0]]
          : [
              [1, 0],
              [0, 1],
            ],
      );
    }
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(metricValue(metrics, 'duplicate')).toBe(1);

    // Each trigger got each retried push once.
    await receivers.appAll.waitForRequests(3, 20_000);
    await receivers.appRegExp.waitForRequests(1, 20_000);
    const tagsAt = (receiver: Receiver) =>
      receiver.requests.map((request) => JSON.parse(request.body).push_data.tag);
    expect(
      tagsAt(receivers.appAll)
        .filter((tag) => tag === REFUSED_TAG || tag === ANSWER_LOST_TAG)
        .sort(),
    ).toEqual(['dev', 'release-v1.2']);
    expect(tagsAt(receivers.appRegExp)).toEqual([REFUSED_TAG]);
    const records = await stack.records(NS, 'app', triggerIds.appAll, 3);
    expect(records.filter((record) => record.tag === ANSWER_LOST_TAG)).toHaveLength(1);
  });
});
