import type { NewAccessRecord } from '../../src/records.js';

/**
 * An access-log record as the store tests write it: trigger trg-1 (TAG_LIST `stable`) did
 * not match tag v1 of event evt-1 in repository `app`, unless `fields` say otherwise.
 */
export function accessRecord(namespace: string, fields: Partial<NewAccessRecord> = {}): NewAccessRecord {
  return {
    triggerId: 'trg-1',
    triggerName: 'stable-only',
    triggerUrl: 'https://hooks.example.com/x',
    triggerType: 'TAG_LIST',
    triggerTag: 'stable',
    eventId: 'evt-1',
    deliveryId: null,
    namespace,
    repository: 'app',
    tag: 'v1',
    digest: `sha256:${'0'.repeat(64)}`,
    status: 'untriggered',
    statusCode: 'untriggered',
    attempt: 0,
    requestTime: Date.now(),
    durationMs: 0,
    requestHeaders: {},
    requestBody: '',
    responseHeaders: {},
    responseBody: '',
    ...fields,
  };
}
