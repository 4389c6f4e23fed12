import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryIdFor, signWebhook, verifyWebhook, webhookHeaders } from './signing.js';
import { checkWebhookSecret, webhookSecretKey } from './webhook-secret.js';

// The reference vector of the standardwebhooks libraries (README and tests).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSec: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('signWebhook', () => {
  it('matches the Standard Webhooks reference test vector', () => {
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestampSec, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('uses the UTF-8 bytes of a plain-string secret as the key', () => {
    const secret = 'plain-secret-ü';
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(`${VECTOR.id}.${VECTOR.timestampSec}.${VECTOR.body}`)
      .digest('base64');
    expect(signWebhook(secret, VECTOR.id, VECTOR.timestampSec, VECTOR.body)).toBe(`v1,${expected}`);
  });

  it('signs id, timestamp and body: changing any changes the signature', () => {
    const reference = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestampSec, VECTOR.body);
    expect(signWebhook(VECTOR.secret, `${VECTOR.id}x`, VECTOR.timestampSec, VECTOR.body)).not.toBe(reference);
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestampSec + 1, VECTOR.body)).not.toBe(reference);
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestampSec, `${VECTOR.body} `)).not.toBe(reference);
  });

  it('refuses timestamps that are not whole seconds', () => {
    expect(() => signWebhook(VECTOR.secret, VECTOR.id, 1614265330.5, VECTOR.body)).toThrow(RangeError);
    expect(() => signWebhook(VECTOR.secret, VECTOR.id, 1614265330000 * 1e6, VECTOR.body)).toThrow(RangeError);
  });
});

describe('verifyWebhook', () => {
  it('accepts the reference vector, also among rotated signatures', () => {
    const { secret, id, timestampSec, body, signature } = VECTOR;
    expect(verifyWebhook(secret, id, timestampSec, body, signature)).toBe(true);
    expect(verifyWebhook(secret, id, timestampSec, body, `v1,bm90IGl0 ${signature}`)).toBe(true);
  });

  it('refuses a wrong body, version or secret', () => {
    const { secret, id, timestampSec, body, signature } = VECTOR;
    expect(verifyWebhook(secret, id, timestampSec, `${body}x`, signature)).toBe(false);
    expect(verifyWebhook(secret, id, timestampSec, body, signature.replace('v1,', 'v2,'))).toBe(false);
    expect(verifyWebhook('another-secret', id, timestampSec, body, signature)).toBe(false);
    expect(verifyWebhook(secret, id, timestampSec, body, '')).toBe(false);
  });

  it('verifies whatever signWebhook signs', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), fc.string(), fc.nat(), fc.string(), (secret, id, ts, body) => {
        expect(verifyWebhook(secret, id, ts, body, signWebhook(secret, id, ts, body))).toBe(true);
      }),
    );
  });
});

describe('webhookHeaders', () => {
  it('signs when there is a secret', () => {
    expect(webhookHeaders({ ...VECTOR })).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });

  it('sends only id and timestamp without a secret', () => {
    expect(
      webhookHeaders({ id: VECTOR.id, timestampSec: VECTOR.timestampSec, body: '{}', secret: undefined }),
    ).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330' });
  });
});

describe('deliveryIdFor', () => {
  it('is stable for one event and trigger, and shaped like a Standard Webhooks id', () => {
    const id = deliveryIdFor('event-1', 'trigger-1');
    expect(deliveryIdFor('event-1', 'trigger-1')).toBe(id);
    expect(id).toMatch(/^msg_[a-z2-7]{26}$/);
  });

  it('differs for a different event or trigger, even when the concatenations agree', () => {
    expect(deliveryIdFor('event-1', 'trigger-2')).not.toBe(deliveryIdFor('event-1', 'trigger-1'));
    expect(deliveryIdFor('a:b', 'c')).not.toBe(deliveryIdFor('a', 'b:c'));
    expect(deliveryIdFor('ab', 'c')).not.toBe(deliveryIdFor('a', 'bc'));
  });

  it('has no collisions across many pairs', () => {
    const ids = new Set<string>();
    for (let event = 0; event < 200; event++) {
      for (let trigger = 0; trigger < 50; trigger++) ids.add(deliveryIdFor(`e${event}`, `t${trigger}`));
    }
    expect(ids.size).toBe(10_000);
  });
});

describe('webhook secrets', () => {
  it('decodes whsec_ secrets from base64', () => {
    expect(webhookSecretKey('whsec_YWJj').toString('utf8')).toBe('abc');
    expect(webhookSecretKey('plain-secret').toString('utf8')).toBe('plain-secret');
  });

  it('treats a plain string that happens to look like base64 as text', () => {
    expect(webhookSecretKey('YWJjZGVmZ2g=').toString('utf8')).toBe('YWJjZGVmZ2g=');
  });

  it('validates the same way the trigger schema reports', () => {
    expect(checkWebhookSecret(VECTOR.secret)).toEqual({ ok: true });
    expect(checkWebhookSecret('whsec_!!')).toMatchObject({
      ok: false,
      rule: expect.stringMatching(/base64/),
    });
  });
});
