/** Every source route's reader and the media types it takes: the one table the routes are built from. */
import { CLOUDEVENTS_BATCH_MEDIA_TYPE, CLOUDEVENTS_MEDIA_TYPE } from '@registry-triggers/core';
import { readAzure } from './azure.js';
import { isStructuredCloudEvent, readCloudEvents } from './cloudevents.js';
import type { Source, SourceReader } from './common.js';
import { readDockerHub } from './dockerhub.js';
import { readEcr } from './ecr.js';
import { readGar } from './gar.js';
import { readHarbor } from './harbor.js';
import { readQuay } from './quay.js';

export type { Source, SourceReading, SourceRequest } from './common.js';
export { SOURCES } from './common.js';

export interface SourceRoute {
  read: SourceReader;
  mediaTypes: string[];
}

const JSON_TYPES = ['application/json'];

export const sourceRoutes: Record<Source, SourceRoute> = {
  // Harbor's "CloudEvents" payload format is a structured CloudEvent of Harbor's types.
  harbor: {
    read: (request) => (isStructuredCloudEvent(request) ? readCloudEvents(request) : readHarbor(request)),
    mediaTypes: [...JSON_TYPES, CLOUDEVENTS_MEDIA_TYPE],
  },
  dockerhub: { read: readDockerHub, mediaTypes: JSON_TYPES },
  quay: { read: readQuay, mediaTypes: JSON_TYPES },
  azure: { read: readAzure, mediaTypes: JSON_TYPES },
  ecr: { read: readEcr, mediaTypes: JSON_TYPES },
  gar: { read: readGar, mediaTypes: JSON_TYPES },
  // Binary mode carries the data with its own type: any JSON one.
  cloudevents: {
    read: readCloudEvents,
    mediaTypes: [CLOUDEVENTS_MEDIA_TYPE, CLOUDEVENTS_BATCH_MEDIA_TYPE, ...JSON_TYPES, 'application/*+json'],
  },
};
