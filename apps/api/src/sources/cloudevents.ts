/**
 * CloudEvents 1.0 with JSON data, in binary mode (`ce-*` headers, the body is the data),
 * structured mode (`application/cloudevents+json`) and batched mode
 * (`application/cloudevents-batch+json`). Types read: zot's `zotregistry.image.updated`,
 * Harbor's `harbor.artifact.pushed` and this product's own `dev.registry-triggers.push`.
 * Any other type is counted as ignored, not refused: a broker or registry that sends every
 * type it has to one URL must not retry the ones we do not use forever.
 */
import {
  CLOUDEVENTS_BATCH_MEDIA_TYPE,
  CLOUDEVENTS_MEDIA_TYPE,
  CLOUDEVENTS_SPEC_VERSION,
  PUSH_CLOUDEVENT_TYPE,
} from '@registry-triggers/core';
import {
  acrPayloadSchema,
  cloudEventBatchSchema,
  cloudEventSchema,
  parseOr400,
  zotImageDataSchema,
} from '@registry-triggers/http-kit';
import {
  checkDigest,
  checkTag,
  decodeBase64Json,
  isDigestReference,
  isoTime,
  nothing,
  type Placement,
  placeRepository,
  type SourceReader,
  type SourceReading,
  type SourceRequest,
  sourceEventId,
  sourceFieldError,
} from './common.js';
import { readHarborArtifacts } from './harbor.js';

export const ZOT_IMAGE_UPDATED = 'zotregistry.image.updated';
export const HARBOR_ARTIFACT_PUSHED = 'harbor.artifact.pushed';

/** One event's context attributes and its data, wherever the mode put them. */
interface CloudEvent {
  id: string;
  source: string;
  type: string;
  time?: string | undefined;
  /** Resolves the data (a base64 that is not JSON is refused only for a type that is read). */
  data: () => unknown;
  /** Where the data sits, for field names in errors ('' in binary mode: the body). */
  root: string;
}

type TypeReader = (event: CloudEvent, placement: Placement) => SourceReading;

const at = (root: string, name: string) => (root ? `${root}.${name}` : name);

const readZotImage: TypeReader = (event, placement) => {
  const data = parseOr400(zotImageDataSchema, event.data(), event.root || undefined);
  if (isDigestReference(data.reference)) return nothing();
  return {
    pushes: [
      {
        ...placeRepository(data.name, at(event.root, 'name'), placement),
        tag: checkTag(data.reference, at(event.root, 'reference')),
        digest: checkDigest(data.digest),
        pushedAt: isoTime(event.time),
        eventId: sourceEventId('cloudevents', event.id),
      },
    ],
    ignored: 0,
  };
};

const readOwnPush: TypeReader = (event, placement) => {
  const { push_data, repository } = parseOr400(acrPayloadSchema, event.data(), event.root || undefined);
  const path = repository.repo_full_name ?? `${repository.namespace}/${repository.name}`;
  return {
    pushes: [
      {
        ...placeRepository(path, at(event.root, 'repository.repo_full_name'), placement),
        tag: checkTag(push_data.tag, at(event.root, 'push_data.tag')),
        digest: checkDigest(push_data.digest),
        // push_data.pushed_at has no zone (the sender's PAYLOAD_TIMEZONE): the event's time has.
        pushedAt: isoTime(event.time),
        eventId: sourceEventId('cloudevents', event.id),
      },
    ],
    ignored: 0,
  };
};

const readHarborPush: TypeReader = (event, placement) =>
  readHarborArtifacts(event.data(), {
    root: event.root || 'data',
    placement,
    pushedAt: isoTime(event.time),
    id: event.id,
  });

const TYPE_READERS: ReadonlyMap<string, TypeReader> = new Map([
  [ZOT_IMAGE_UPDATED, readZotImage],
  [HARBOR_ARTIFACT_PUSHED, readHarborPush],
  [PUSH_CLOUDEVENT_TYPE, readOwnPush],
]);

function readEvent(event: CloudEvent, placement: Placement): SourceReading {
  const reader = TYPE_READERS.get(event.type);
  return reader ? reader(event, placement) : nothing();
}

/** A structured event (parsed), its data inline or base64. */
function structured(body: unknown, root: string): CloudEvent {
  const event = parseOr400(cloudEventSchema, body, root || undefined);
  const base64 = event.data_base64;
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
    root: at(root, base64 === undefined ? 'data' : 'data_base64'),
    data: () => (base64 === undefined ? event.data : decodeBase64Json(base64, at(root, 'data_base64'))),
  };
}

const BINARY_ATTRIBUTES = ['specversion', 'id', 'source', 'type'] as const;

function binary(request: SourceRequest): CloudEvent {
  const attribute = (name: string) => request.header(`ce-${name}`);
  for (const name of BINARY_ATTRIBUTES) {
    if (!attribute(name))
      throw sourceFieldError(`ce-${name}`, `header ce-${name} is required in binary mode`);
  }
  if (attribute('specversion') !== CLOUDEVENTS_SPEC_VERSION)
    throw sourceFieldError(
      'ce-specversion',
      `ce-specversion must be "${CLOUDEVENTS_SPEC_VERSION}"`,
      attribute('specversion'),
    );
  return {
    id: attribute('id')!,
    source: attribute('source')!,
    type: attribute('type')!,
    time: attribute('time'),
    root: '',
    data: () => request.body,
  };
}

const isMediaType = (request: SourceRequest, type: string) =>
  (request.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase() === type;

/** A JSON object with `specversion` and no `ce-specversion` header: a structured event sent as plain JSON. */
const looksStructured = (request: SourceRequest): boolean =>
  request.header('ce-specversion') === undefined &&
  typeof request.body === 'object' &&
  request.body !== null &&
  'specversion' in request.body;

/**
 * Whether a request is a structured or batched CloudEvent (Harbor's route takes both
 * formats), by its Content-Type or, sent as plain JSON, by its `specversion`: read as
 * another format it would be silently ignored.
 */
export const isStructuredCloudEvent = (request: SourceRequest): boolean =>
  isMediaType(request, CLOUDEVENTS_MEDIA_TYPE) ||
  isMediaType(request, CLOUDEVENTS_BATCH_MEDIA_TYPE) ||
  looksStructured(request);

/** Reads one request of any mode: the pushes of every event in it, and the events ignored. */
export const readCloudEvents: SourceReader = (request) => {
  if (isMediaType(request, CLOUDEVENTS_BATCH_MEDIA_TYPE)) {
    const batch = parseOr400(cloudEventBatchSchema, request.body);
    const readings = batch.map((item, index) =>
      readEvent(structured(item, String(index)), request.placement),
    );
    return {
      pushes: readings.flatMap((reading) => reading.pushes),
      ignored: readings.reduce((sum, reading) => sum + reading.ignored, 0),
    };
  }
  if (isMediaType(request, CLOUDEVENTS_MEDIA_TYPE))
    return readEvent(structured(request.body, ''), request.placement);
  if (request.header('ce-specversion') !== undefined) return readEvent(binary(request), request.placement);
  if (looksStructured(request)) return readEvent(structured(request.body, ''), request.placement);
  throw sourceFieldError(
    '(headers)',
    'a CloudEvent needs ce-specversion, ce-id, ce-source and ce-type headers (binary mode) or Content-Type application/cloudevents+json (structured mode)',
  );
};
