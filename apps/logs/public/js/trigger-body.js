// @ts-check
/**
 * What the console sends to write a trigger: the whole body (POST, PUT) and, for an edit,
 * the JSON Merge Patch of what changed. Pure functions, unit-tested beside this file.
 */

/** @typedef {import('./types.js').Trigger} Trigger */

/**
 * The body that writes a trigger (POST, PUT), from the trigger's fields: a tag list only for
 * TAG_LIST, an expression only for TAG_REG_EXP, a secret and headers only when there are some.
 * A trigger as read gives the body that would leave it as it is, so an edit can send only
 * what changed (mergePatch).
 * @param {Omit<Trigger, 'id'>} trigger
 * @returns {Record<string, unknown>}
 */
export function triggerBody(trigger) {
  /** @type {Record<string, unknown>} */
  const body = { name: trigger.name, url: trigger.url, type: trigger.type, enabled: trigger.enabled };
  if (trigger.type === 'TAG_LIST') body.tags = trigger.tags ?? [];
  if (trigger.type === 'TAG_REG_EXP') body.expression = trigger.expression ?? '';
  if (trigger.secret) body.secret = trigger.secret;
  if (Object.keys(trigger.headers ?? {}).length > 0) body.headers = trigger.headers;
  // Delivery options: only when on, so turning one off in an edit resets it to its default (null).
  if (trigger.coalesce) body.coalesce = true;
  if (trigger.ordered) body.ordered = true;
  if (trigger.rateLimit) body.rateLimit = trigger.rateLimit;
  return body;
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON Merge Patch (RFC 7386) from one body to another: changed fields, `null` for a field
 * gone, objects (headers) patched name by name. Unchanged fields stay out, so values masked
 * as read (`***`) are never sent back.
 * @param {Record<string, unknown>} before
 * @param {Record<string, unknown>} after
 * @returns {Record<string, unknown>}
 */
export function mergePatch(before, after) {
  /** @type {Record<string, unknown>} */
  const patch = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[key];
    const is = after[key];
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    if (is === undefined) patch[key] = null;
    else if (isObject(was) && isObject(is)) patch[key] = mergePatch(was, is);
    else patch[key] = is;
  }
  return patch;
}
