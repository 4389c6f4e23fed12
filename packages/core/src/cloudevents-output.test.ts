import { describe, expect, it } from 'vitest';
import { CLOUDEVENTS_PUSH_TYPE, cloudEventSource, formatDelivery } from './cloudevents-output.js';

const ACR =
  '{"push_data":{"digest":"sha256:00","pushed_at":"2026-12-03 10:00:00","tag":"v1"},"repository":{}}';
const event = {
  id: 'msg_abc',
  region: 'cn-hangzhou',
  namespace: 'team',
  repository: 'web/app',
  tag: 'v1',
  pushedAt: Date.UTC(2026, 11, 3, 10, 0, 0),
};

describe('formatDelivery', () => {
  it('acr: the ACR bytes as application/json, nothing else', () => {
    expect(formatDelivery('acr', ACR, event)).toEqual({
      headers: { 'content-type': 'application/json' },
      body: ACR,
    });
  });

  it('cloudevents: binary mode, the ACR bytes as the body and the attributes as ce- headers', () => {
    expect(formatDelivery('cloudevents', ACR, event)).toEqual({
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
    const { headers, body } = formatDelivery('cloudevents-structured', ACR, event);
    expect(headers).toEqual({ 'content-type': 'application/cloudevents+json' });
    const parsed = JSON.parse(body);
    expect(parsed).toEqual({
      specversion: '1.0',
      id: 'msg_abc',
      source: '/registry-triggers/cn-hangzhou/team',
      type: CLOUDEVENTS_PUSH_TYPE,
      subject: 'web/app:v1',
      time: '2026-12-03T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: JSON.parse(ACR),
    });
    expect(body.endsWith(`"data":${ACR}}`)).toBe(true);
  });

  it('the source escapes what a URI path segment cannot hold', () => {
    expect(cloudEventSource('eu west', 'ns')).toBe('/registry-triggers/eu%20west/ns');
  });
});
