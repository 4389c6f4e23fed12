// @ts-check
/** One trigger: edit it, enable or disable it, send a test, delete it, and read its records. */
import { paths, sentenceOf } from './api.js';
import { h, say } from './dom.js';
import { features } from './features.js';
import { filterText } from './format.js';
import { navigate } from './router.js';
import { mergePatch, triggerBody } from './trigger-body.js';
import { recordsPanel } from './view-records.js';
import { deleteTrigger, sendTest, setEnabled } from './view-trigger-actions.js';
import { triggerForm } from './view-trigger-form.js';

/**
 * @param {import('./view-context.js').ViewContext} context
 * @param {string} ns @param {string} repo @param {string} id
 * @returns {import('./view-context.js').View}
 */
export function triggerView(context, ns, repo, id) {
  const { api } = context;
  const message = h('div', { id: 'trigger-message', className: 'message', hidden: true });
  const heading = h('h2', { id: 'trigger-heading' }, 'Trigger');
  const summary = h('p', { className: 'muted' });
  const controls = h('div', { className: 'actions-row' });
  const formSlot = h('div');
  const panel = h(
    'section',
    { className: 'panel', 'aria-labelledby': 'trigger-heading' },
    h('div', { className: 'panel-head' }, heading, controls),
    summary,
    message,
    h('details', { className: 'add', open: true }, h('summary', {}, 'Edit'), formSlot),
  );

  /** @param {import('./types.js').Trigger} trigger */
  function show(trigger) {
    heading.textContent = trigger.name;
    context.nameHere(trigger.name);
    const delivery = [
      trigger.coalesce ? 'coalesce' : '',
      trigger.ordered ? 'ordered' : '',
      trigger.rateLimit
        ? `≤ ${trigger.rateLimit.perSecond}/s${trigger.rateLimit.maxInFlight ? `, ${trigger.rateLimit.maxInFlight} in flight` : ''}`
        : '',
    ].filter(Boolean);
    summary.textContent = `${trigger.enabled ? 'Enabled' : 'Disabled'} · fires for ${filterText(trigger)} · ${trigger.url}${delivery.length > 0 ? ` · ${delivery.join(', ')}` : ''}`;
    const toggle = h(
      'button',
      { type: 'button', className: 'secondary' },
      trigger.enabled ? 'Disable' : 'Enable',
    );
    toggle.addEventListener('click', async () => {
      try {
        show(await setEnabled(api, ns, repo, trigger, !trigger.enabled));
        say(message, 'ok', trigger.enabled ? 'Disabled.' : 'Enabled.');
      } catch (error) {
        say(message, 'error', sentenceOf(error));
      }
    });
    const test = h('button', { type: 'button', className: 'secondary' }, 'Send test');
    test.addEventListener('click', () => void sendTest(api, ns, repo, trigger, message, context.openRecord));
    const remove = h('button', { type: 'button', className: 'danger' }, 'Delete');
    remove.addEventListener('click', async () => {
      if (await deleteTrigger(api, ns, repo, trigger, message)) navigate({ ns, repo });
    });
    controls.replaceChildren(toggle, test, remove);
    formSlot.replaceChildren(
      triggerForm({
        idPrefix: 'edit-trigger',
        trigger,
        submitLabel: 'Save',
        submit: async (body) => {
          const path = paths.trigger(ns, repo, id);
          // Only what changed where the api takes a merge patch: masked header values stay put.
          const patch = mergePatch(triggerBody(trigger), body);
          const { body: saved } = (await features()).patchTrigger
            ? await api.patch(path, patch)
            : await api.put(path, body);
          show(saved);
          say(message, 'ok', 'Saved.');
        },
      }),
    );
  }

  api
    .get(paths.trigger(ns, repo, id))
    .then(({ body }) => show(body))
    .catch((error) => say(message, 'error', sentenceOf(error)));

  const records = recordsPanel({
    api,
    ns,
    repo,
    trigger: id,
    status: context.route.status,
    onOpen: context.openRecord,
  });
  return { element: h('div', { className: 'view' }, panel, records.element), close: records.close };
}
