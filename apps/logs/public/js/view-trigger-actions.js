// @ts-check
/** What a trigger's buttons do, the same in the list and on the trigger's own screen. */
import { paths, sentenceOf } from './api.js';
import { h, say } from './dom.js';
import { features } from './features.js';
import { STATUS } from './format.js';

/** @typedef {import('./types.js').Trigger} Trigger */

/** Fields a read shows that the server owns; a PUT may carry them, a merge patch need not. */
const READ_ONLY = ['id', 'namespace', 'repository', 'createdAt', 'updatedAt', 'disabledReason'];

/**
 * Enables or disables: a JSON Merge Patch where the api takes one, else the trigger as read
 * with `enabled` changed (a read is a valid PUT; its masked secret keeps the stored one).
 * @param {import('./api.js').Api} api
 * @param {string} ns @param {string} repo @param {Trigger} trigger @param {boolean} enabled
 * @returns {Promise<Trigger>}
 */
export async function setEnabled(api, ns, repo, trigger, enabled) {
  const path = paths.trigger(ns, repo, trigger.id);
  if ((await features()).patchTrigger) return (await api.patch(path, { enabled })).body;
  /** @type {Record<string, unknown>} */
  const body = { ...trigger, enabled };
  for (const key of READ_ONLY) delete body[key];
  return (await api.put(path, body)).body;
}

/**
 * Sends a test delivery and says how it went in `box`, with a button to open its record.
 * @param {import('./api.js').Api} api
 * @param {string} ns @param {string} repo @param {Trigger} trigger
 * @param {HTMLElement} box
 * @param {(record: import('./types.js').AccessRecord) => void} open
 */
export async function sendTest(api, ns, repo, trigger, box, open) {
  say(box, 'info', `Sending a test delivery to ${trigger.name}…`);
  try {
    const { body, status } = await api.post(paths.triggerTest(ns, repo, trigger.id));
    if (status === 202) {
      say(box, 'info', 'The test is queued; its record will appear in the log when a worker has sent it.');
      return;
    }
    const label = STATUS[body.status]?.label ?? body.status;
    const button = h('button', { type: 'button', className: 'secondary' }, 'Open its record');
    button.addEventListener('click', () => open(body));
    say(
      box,
      body.status === 'succeeded' ? 'ok' : 'error',
      `Test delivery to ${trigger.name}: ${label} (${body.statusCode}). `,
      button,
    );
  } catch (error) {
    say(box, 'error', sentenceOf(error));
  }
}

/**
 * Deletes after the user confirms; true once deleted.
 * @param {import('./api.js').Api} api
 * @param {string} ns @param {string} repo @param {Trigger} trigger @param {HTMLElement} box
 */
export async function deleteTrigger(api, ns, repo, trigger, box) {
  if (!window.confirm(`Delete the trigger ${trigger.name}? Deliveries still queued end failed.`))
    return false;
  try {
    await api.del(paths.trigger(ns, repo, trigger.id));
    return true;
  } catch (error) {
    say(box, 'error', sentenceOf(error));
    return false;
  }
}
