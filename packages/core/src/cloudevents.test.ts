import { describe, expect, it } from 'vitest';
import {
  buildPushCloudEvent,
  CLOUDEVENTS_SPEC_VERSION,
  PUSH_CLOUDEVENT_TYPE,
  pushCloudEventSource,
} from './cloudevents.js';

describe('the push CloudEvent this product emits', () => {
  it('is a structured CloudEvent 1.0 whose data is the payload, attributes in a fixed order', () => {
    const payload =
      '{"push_data":{"digest":"","pushed_at":"2026-01-02 03:04:05","tag":"v1"},"repository":{}}';
    const event = buildPushCloudEvent({
      id: 'evt-1',
      region: 'cn-hangzhou',
      namespace: 'team',
      pushedAt: Date.parse('2026-01-02T03:04:05.678Z'),
      payload,
    });
    expect(event).toBe(
      `{"specversion":"1.0","id":"evt-1","source":"/registry-triggers/cn-hangzhou/team","type":"${PUSH_CLOUDEVENT_TYPE}",` +
        `"time":"2026-01-02T03:04:05.678Z","datacontenttype":"application/json","data":${payload}}`,
    );
    expect(JSON.parse(event).specversion).toBe(CLOUDEVENTS_SPEC_VERSION);
  });

  it('names its source /registry-triggers/<region>/<namespace>', () => {
    expect(pushCloudEventSource('local', 'ns')).toBe('/registry-triggers/local/ns');
  });
});
