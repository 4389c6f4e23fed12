// @ts-check
import { describe, expect, it } from 'vitest';
import { mergePatch, triggerBody } from './trigger-body.js';

/** @type {import('./types.js').Trigger} */
const read = {
  id: 't1',
  name: 'deploy',
  url: 'https://hooks.example.com/x',
  type: 'TAG_LIST',
  tags: ['v1', 'latest'],
  enabled: true,
  secret: '***',
  headers: { Authorization: '***', 'X-Env': 'prod' },
};

describe('triggerBody', () => {
  it('keeps only the filter of its type, and a secret or headers only when there are some', () => {
    expect(triggerBody({ ...read, type: 'ALL', secret: '', headers: {} })).toEqual({
      name: 'deploy',
      url: 'https://hooks.example.com/x',
      type: 'ALL',
      enabled: true,
    });
    expect(triggerBody({ ...read, type: 'TAG_REG_EXP', expression: 'release-.*' })).toMatchObject({
      expression: 'release-.*',
    });
    expect(triggerBody(read)).not.toHaveProperty('expression');
  });

  it('carries coalesce, ordered and rateLimit only when set, so turning one off patches it to null', () => {
    const gated = { ...read, coalesce: true, ordered: true, rateLimit: { perSecond: 5, maxInFlight: 2 } };
    expect(triggerBody(gated)).toMatchObject({
      coalesce: true,
      ordered: true,
      rateLimit: { perSecond: 5, maxInFlight: 2 },
    });
    expect(triggerBody(read)).not.toHaveProperty('coalesce');
    expect(
      mergePatch(triggerBody(gated), triggerBody({ ...gated, ordered: false, rateLimit: undefined })),
    ).toEqual({
      ordered: null,
      rateLimit: null,
    });
  });
});

describe('mergePatch', () => {
  it('sends nothing for an unchanged trigger: masked values as read are never sent back', () => {
    expect(mergePatch(triggerBody(read), triggerBody({ ...read }))).toEqual({});
  });

  it('sends what changed, null for what is gone, and headers name by name', () => {
    const before = triggerBody(read);
    const after = triggerBody({
      ...read,
      type: 'ALL',
      enabled: false,
      headers: { Authorization: '***', 'X-Team': 'web' },
    });
    expect(mergePatch(before, after)).toEqual({
      type: 'ALL',
      tags: null,
      enabled: false,
      headers: { 'X-Env': null, 'X-Team': 'web' },
    });
  });

  it('sends a new secret, and all headers removed as null', () => {
    const after = triggerBody({ ...read, secret: 'whsec_new', headers: {} });
    expect(mergePatch(triggerBody(read), after)).toEqual({ secret: 'whsec_new', headers: null });
  });
});
