import { describe, expect, it } from 'vitest';
import {
  buildPushCloudEvent,
  CLOUDEVENTS_SPEC_VERSION,
  formatDelivery,
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

const ACR =
  '{"push_data":{"digest":"sha256:00","pushed_at":"2026-12-03 10:00:00","tag":"v1"},"repository":{}}';
const push = {
  id: 'msg_abc',
  region: 'cn-hangzhou',
  namespace: 'team',
  subject: 'web/app:v1',
  pushedAt: Date.UTC(2026, 11, 3, 10, 0, 0),
};

describe('formatDelivery', () => {
  it('acr: the ACR bytes as application/json, nothing else', () => {
    expect(formatDelivery('acr', ACR, push)).toEqual({
      headers: { 'content-type': 'application/json' },
      body: ACR,
    });
  });

  it('cloudevents: binary mode, the ACR bytes as the body and the attributes as ce- headers', () => {
    expect(formatDelivery('cloudevents', ACR, push)).toEqual({
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'msg_abc',
        'ce-source': '/registry-triggers/cn-hangzhou/team',
        'ce-type': 'dev.registry-triggers.push',
        'ce-subject': 'web/app:v1',
        'ce-time': '2026-12-03T10:00:00.000Z',
      },
      body: ACR,
    });
  });

  it('cloudevents-structured: one JSON object with the ACR JSON as data, byte for byte', () => {
    const { headers, body } = formatDelivery('cloudevents-structured', ACR, push);
    expect(headers).toEqual({ 'content-type': 'application/cloudevents+json' });
    const parsed = JSON.parse(body);
    expect(parsed).toEqual({
      specversion: '1.0',
      id: 'msg_abc',
      source: '/registry-triggers/cn-hangzhou/team',
      type: PUSH_CLOUDEVENT_TYPE,
      subject: 'web/app:v1',
      time: '2026-12-03T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: JSON.parse(ACR),
    });
    expect(body.endsWith(`"data":${ACR}}`)).toBe(true);
  });

  it('the source escapes what a URI path segment cannot hold', () => {
    expect(pushCloudEventSource('eu west', 'ns')).toBe('/registry-triggers/eu%20west/ns');
  });
});
