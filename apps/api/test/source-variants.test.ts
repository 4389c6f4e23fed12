// Every variant case under fixtures/sources/variants/<source>/<case>.json, written from the
// vendors' docs (see the README there), posted over real HTTP with the ingest token: the
// status, the counts, the problem's field, and the pushes that landed in the push-event queue.
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { useRedis } from '@registry-triggers/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './support/api-harness.js';
import { splitContentType } from './support/sent-headers.js';
import { loadVariant as load, variantFiles } from './support/source-variants.js';

const files = variantFiles();

const redisServer = useRedis();
let api: ApiHarness;
let queue: Queue<PushEventJob>;

beforeAll(async () => {
  api = await startApi(redisServer(), { maxBodyBytes: 1024 * 1024 });
  queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
});
afterAll(async () => {
  await api?.close();
});

describe('registry webhook variants', () => {
  it(`every case file (${files.length} found) has the documented shape`, () => {
    for (const file of files) expect(() => load(file), file).not.toThrow();
  });

  it.each(files)('%s', async (file) => {
    const { request, expect: expected } = load(file);
    const { contentType, others: headers } = splitContentType(request.headers);
    const body = request.bodyText ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const response = await api.request('POST', request.path, {
      token: api.ingestToken,
      headers,
      ...(body !== undefined ? { body } : {}),
      contentType,
    });
    expect(response.status, response.text).toBe(expected.status);
    if (response.status >= 400) {
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      if (expected.errorPath !== undefined) {
        const paths = (response.body.errors ?? []).map((error: { path: string }) => error.path);
        expect(paths, response.text).toContain(expected.errorPath);
      }
      return;
    }
    if (expected.ignored !== undefined) expect(response.body.ignored).toBe(expected.ignored);
    if (expected.pushes === undefined) return;
    const { accepted, duplicates, eventIds } = response.body as {
      accepted: number;
      duplicates: number;
      eventIds: string[];
    };
    expect(accepted + duplicates).toBe(expected.pushes.length);
    expect(eventIds).toHaveLength(expected.pushes.length);
    // What is in the queue under each event id (a duplicate: the earlier case's push).
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
    const queued = eventIds.map((eventId, i) => {
      const namespace = expected.pushes![i]!.namespace;
      const job = jobs.find(
        (candidate) => candidate?.data.namespace === namespace && candidate.data.eventId === eventId,
      );
      return (
        job && { namespace, repository: job.data.repository, tag: job.data.tag, digest: job.data.digest }
      );
    });
    expect(queued).toEqual(expected.pushes);
  });
});
