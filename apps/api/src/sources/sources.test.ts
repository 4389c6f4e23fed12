// The readers as pure functions: each committed sample read straight, and the helpers'
// rules (placement, ids, base64) at their edges. tests/sources.test.ts drives them over HTTP.
import { readFileSync } from 'node:fs';
import { HttpError } from '@registry-triggers/http-kit';
import { describe, expect, it } from 'vitest';
import { readAzure } from './azure.js';
import { readCloudEvents } from './cloudevents.js';
import {
  decodeBase64Json,
  placeRepository,
  type SourceReader,
  type SourceRequest,
  sourceEventId,
  stableEventId,
} from './common.js';
import { readDockerHub } from './dockerhub.js';
import { readEcr } from './ecr.js';
import { readGar } from './gar.js';
import { readHarbor } from './harbor.js';
import { QUAY_RETRY_WINDOW_MS, readQuay } from './quay.js';

const samples = new URL('../../test/fixtures/sources/samples/', import.meta.url);
const sample = (name: string): unknown => JSON.parse(readFileSync(new URL(name, samples), 'utf8'));

const request = (
  body: unknown,
  extra: Partial<SourceRequest> = {},
  headers: Record<string, string> = {},
) => ({
  body,
  header: (name: string) => headers[name.toLowerCase()],
  placement: {},
  now: Date.parse('2026-12-03T12:00:00Z'),
  ...extra,
});

/** The 400 a reader throws, as its first field error. */
function refusal(read: SourceReader, req: SourceRequest) {
  try {
    read(req);
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, ...error.errors?.[0] };
    throw error;
  }
  throw new Error('no refusal');
}

describe('the committed samples', () => {
  it('Harbor: the untagged push and the delete, in both formats, are one ignored each', () => {
    expect(readHarbor(request(sample('harbor-default-push.json')))).toEqual({ pushes: [], ignored: 1 });
    expect(readHarbor(request(sample('harbor-default-delete.json')))).toEqual({ pushes: [], ignored: 1 });
    const cloudEvent = request(
      sample('harbor-cloudevents-push.json'),
      {},
      {
        'content-type': 'application/cloudevents+json',
      },
    );
    expect(readCloudEvents(cloudEvent)).toEqual({ pushes: [], ignored: 1 });
  });

  it('Docker Hub and Quay: pushes without a digest', () => {
    expect(readDockerHub(request(sample('dockerhub-push.json'))).pushes).toEqual([
      {
        namespace: 'svendowideit',
        repository: 'testhook',
        tag: 'latest',
        digest: '',
        pushedAt: 1417566161000,
        eventId: expect.stringMatching(/^dockerhub-/),
      },
    ]);
    expect(readQuay(request(sample('quay-repo-push.json'))).pushes).toEqual([
      { namespace: 'dgangaia', repository: 'test', tag: 'latest', digest: '', eventId: expect.any(String) },
    ]);
  });

  it('Azure: the push needs a namespace; the delete is ignored', () => {
    expect(refusal(readAzure, request(sample('azure-acr-push.json')))).toMatchObject({
      status: 400,
      path: 'target.repository',
    });
    const placed = readAzure(
      request(sample('azure-acr-push.json'), { placement: { tokenNamespace: 'team' } }),
    );
    expect(placed.pushes).toEqual([
      expect.objectContaining({ namespace: 'team', repository: 'hello-world', tag: 'v1' }),
    ]);
    expect(readAzure(request(sample('azure-acr-delete.json')))).toEqual({ pushes: [], ignored: 1 });
  });

  it('ECR and GAR: the docs\' shortened digests are not digests: the push is taken with digest ""', () => {
    const placement = { namespace: 'ns' };
    const ecr = readEcr(request(sample('ecr-eventbridge-push.json'), { placement }));
    expect(ecr.pushes).toEqual([expect.objectContaining({ tag: 'latest', digest: '' })]);
    const gar = readGar(request(sample('gar-pubsub-push.json')));
    expect(gar.pushes).toEqual([
      expect.objectContaining({
        namespace: 'my-project',
        repository: 'my-repo/hello-world',
        tag: '1.1',
        digest: '',
      }),
    ]);
  });

  it('zot: binary mode, the event id from Ce-Id', () => {
    const headers = {
      'ce-specversion': '1.0',
      'ce-id': 'zot-1',
      'ce-source': 'zotregistry.dev',
      'ce-type': 'zotregistry.image.updated',
      'content-type': 'application/json',
    };
    const reading = readCloudEvents(
      request(sample('zot-events.json'), { placement: { namespace: 'ns' } }, headers),
    );
    expect(reading.pushes).toEqual([
      expect.objectContaining({ namespace: 'ns', repository: 'golang', tag: 'latest', eventId: 'zot-1' }),
    ]);
  });
});

describe('placeRepository', () => {
  it('splits the first segment, or takes ?namespace= (whole path) or the token (one segment)', () => {
    expect(placeRepository('a/b/c', 'f', {})).toEqual({ namespace: 'a', repository: 'b/c' });
    expect(placeRepository('a/b/c', 'f', { namespace: 'n' })).toEqual({
      namespace: 'n',
      repository: 'a/b/c',
    });
    expect(placeRepository('app', 'f', { tokenNamespace: 't' })).toEqual({
      namespace: 't',
      repository: 'app',
    });
    expect(placeRepository('a/b', 'f', { tokenNamespace: 't' })).toEqual({ namespace: 'a', repository: 'b' });
  });

  it('refuses names outside the rules, quoting the whole source value', () => {
    for (const path of ['app', '/app', 'A/b', 'a//b', 'a/B', `a/${'b'.repeat(260)}`]) {
      let error: unknown;
      try {
        placeRepository(path, 'the.field', {});
      } catch (caught) {
        error = caught;
      }
      expect(error, path).toBeInstanceOf(HttpError);
      expect((error as HttpError).errors?.[0]).toEqual({
        path: 'the.field',
        message: expect.stringContaining(`(got "${path.slice(0, 64)}`),
      });
    }
  });
});

describe('event ids', () => {
  it('a stable hash: the same parts, the same id; any other part, another', () => {
    expect(stableEventId('harbor', 'ns', 'app', 'v1')).toBe(stableEventId('harbor', 'ns', 'app', 'v1'));
    expect(stableEventId('harbor', 'ns', 'app', 'v1')).not.toBe(stableEventId('harbor', 'ns', 'app', 'v2'));
    // Parts are separated: "a" + "bc" is not "ab" + "c".
    expect(stableEventId('quay', 'a', 'bc')).not.toBe(stableEventId('quay', 'ab', 'c'));
  });

  it("the source's id, suffixed per tag, hashed when it is not printable ASCII of at most 200", () => {
    expect(sourceEventId('azure', 'abc')).toBe('abc');
    expect(sourceEventId('harbor', 'abc', 'v1')).toBe('abc:v1');
    expect(sourceEventId('cloudevents', 'with space')).toMatch(/^cloudevents-[0-9a-f]{40}$/);
    expect(sourceEventId('cloudevents', 'x'.repeat(201))).toBe(sourceEventId('cloudevents', 'x'.repeat(201)));
  });

  it('Quay: a resend within the window is the same id, the same tag later another', () => {
    const body = sample('quay-repo-push.json');
    const at = (now: number) => readQuay(request(body, { now })).pushes[0]!.eventId;
    const start = Math.floor(Date.now() / QUAY_RETRY_WINDOW_MS) * QUAY_RETRY_WINDOW_MS;
    expect(at(start + 1000)).toBe(at(start + 120_000));
    expect(at(start + 1000)).not.toBe(at(start + QUAY_RETRY_WINDOW_MS + 1000));
  });
});

describe('decodeBase64Json', () => {
  it('decodes base64 and base64url JSON; refuses what is neither or holds a reserved key', () => {
    const encoded = Buffer.from('{"a":[1]}').toString('base64');
    expect(decodeBase64Json(encoded, 'f')).toEqual({ a: [1] });
    expect(decodeBase64Json(Buffer.from('{"a":"??>>"}').toString('base64url'), 'f')).toEqual({ a: '??>>' });
    for (const bad of ['not base64!', Buffer.from('plain').toString('base64')])
      expect(() => decodeBase64Json(bad, 'f')).toThrow(HttpError);
    expect(() => decodeBase64Json(Buffer.from('{"__proto__":{}}').toString('base64'), 'f')).toThrow(
      /__proto__/,
    );
  });
});
