// @ts-check
/** A repository: its triggers (add, enable/disable, test, delete) and its records. */
import { paths, sentenceOf } from './api.js';
import { h, listTable, say, unsay } from './dom.js';
import { filterText } from './format.js';
import { navigate, routeLink } from './router.js';
import { recordsPanel } from './view-records.js';
import { deleteTrigger, sendTest, setEnabled } from './view-trigger-actions.js';
import { triggerForm } from './view-trigger-form.js';

/** @typedef {import('./types.js').Trigger} Trigger */

/**
 * @param {import('./view-context.js').ViewContext} context
 * @param {string} ns @param {string} repo
 */
export function repositoryView(context, ns, repo) {
  const { api } = context;
  const message = h('div', { id: 'triggers-message', className: 'message', hidden: true });
  const rows = h('tbody', { id: 'trigger-rows' });
  const empty = h('p', { className: 'empty', hidden: true }, 'No triggers yet: add one below.');

  /** @param {Trigger} trigger */
  function row(trigger) {
    const toggle = h('input', {
      type: 'checkbox',
      checked: trigger.enabled,
      'aria-label': `Enabled: ${trigger.name}`,
    });
    toggle.addEventListener('change', async () => {
      toggle.disabled = true;
      try {
        const saved = await setEnabled(api, ns, repo, trigger, toggle.checked);
        Object.assign(trigger, saved);
        say(message, 'ok', `${trigger.name} is ${saved.enabled ? 'enabled' : 'disabled'}.`);
      } catch (error) {
        toggle.checked = !toggle.checked;
        say(message, 'error', sentenceOf(error));
      } finally {
        toggle.disabled = false;
      }
    });
    const test = h('button', { type: 'button', className: 'secondary' }, 'Send test');
    test.addEventListener('click', () => void sendTest(api, ns, repo, trigger, message, context.openRecord));
    const remove = h('button', { type: 'button', className: 'danger' }, 'Delete');
    remove.addEventListener('click', async () => {
      if (await deleteTrigger(api, ns, repo, trigger, message)) {
        say(message, 'ok', `Deleted ${trigger.name}.`);
        await load();
      }
    });
    return h(
      'tr',
      { 'data-id': trigger.id },
      h('td', { className: 'trigger-name' }, routeLink({ ns, repo, trigger: trigger.id }, trigger.name)),
      h('td', {}, filterText(trigger)),
      h('td', { className: 'mono url' }, trigger.url),
      h(
        'td',
        {},
        h(
          'label',
          { className: 'switch' },
          toggle,
          h('span', { className: 'track', 'aria-hidden': 'true' }),
          '',
        ),
        trigger.disabledReason ? h('span', { className: 'muted' }, ` ${trigger.disabledReason}`) : null,
      ),
      h('td', { className: 'actions-cell' }, test, ' ', remove),
    );
  }

  async function load() {
    try {
      const { body } = await api.get(paths.triggers(ns, repo));
      /** @type {Trigger[]} */
      const triggers = body?.triggers ?? [];
      rows.replaceChildren(...triggers.map(row));
      empty.hidden = triggers.length > 0;
    } catch (error) {
      say(message, 'error', sentenceOf(error));
    }
  }

  const form = triggerForm({
    idPrefix: 'new-trigger',
    trigger: null,
    submitLabel: 'Create trigger',
    submit: async (body) => {
      const { body: created } = await api.post(paths.triggers(ns, repo), body);
      form.reset();
      say(message, 'ok', `Created ${created.name}.`);
      await load();
    },
  });

  const removeRepository = h('button', { type: 'button', className: 'danger' }, 'Delete repository');
  removeRepository.addEventListener('click', async () => {
    if (!window.confirm(`Delete ${ns}/${repo} and its triggers? Its records stay until retention.`)) return;
    try {
      await api.del(paths.repository(ns, repo));
      navigate({ ns });
    } catch (error) {
      say(message, 'error', sentenceOf(error));
    }
  });

  const records = recordsPanel({
    api,
    ns,
    repo,
    trigger: null,
    status: context.route.status,
    onOpen: context.openRecord,
  });
  const element = h(
    'div',
    { className: 'view' },
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'triggers-heading' },
      h(
        'div',
        { className: 'panel-head' },
        h('h2', { id: 'triggers-heading' }, 'Triggers'),
        removeRepository,
      ),
      message,
      listTable('triggers-heading', ['Name', 'Fires for', 'URL', 'Enabled', 'Actions'], rows),
      empty,
      h('details', { className: 'add' }, h('summary', {}, 'Add a trigger'), form),
    ),
    records.element,
  );
  unsay(message);
  void load();
  return { element, close: records.close };
}
