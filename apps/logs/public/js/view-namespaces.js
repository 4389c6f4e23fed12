// @ts-check
/** Every namespace (the global admin's first screen), and a way into a new one. */
import { paths, sentenceOf } from './api.js';
import { field, h, listTable, panel, say, showFieldErrors } from './dom.js';
import { navigate, routeLink } from './router.js';

/**
 * @param {import('./view-context.js').ViewContext} context
 * @returns {import('./view-context.js').View}
 */
export function namespacesView(context) {
  const message = h('div', { className: 'message', hidden: true });
  const rows = h('tbody', { id: 'namespace-rows' });
  context.api
    .get(paths.namespaces())
    .then(({ body }) => {
      /** @type {{ name: string, repositories: number, triggers: number }[]} */
      const namespaces = body?.namespaces ?? [];
      rows.replaceChildren(
        ...(namespaces.length > 0
          ? namespaces.map((ns) =>
              h(
                'tr',
                {},
                h('td', { className: 'mono' }, routeLink({ ns: ns.name }, ns.name)),
                h('td', { className: 'num' }, String(ns.repositories)),
                h('td', { className: 'num' }, String(ns.triggers)),
              ),
            )
          : [h('tr', {}, h('td', { colSpan: 3, className: 'none' }, 'No namespaces yet.'))]),
      );
    })
    .catch((error) => say(message, 'error', sentenceOf(error)));

  const name = h('input', {
    id: 'open-namespace',
    name: 'ns',
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'acme',
  });
  const form = h(
    'form',
    { className: 'grid-form', noValidate: true },
    field('Namespace', name, 'A namespace comes into being with its first repository or token.'),
    h('div', { className: 'field actions' }, h('button', { type: 'submit' }, 'Open')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const ns = name.value.trim();
    if (!ns) showFieldErrors(form, [{ path: 'ns', message: 'enter a namespace' }]);
    else navigate({ ns });
  });

  const element = h(
    'div',
    { className: 'view' },
    panel(
      'namespaces-heading',
      'Namespaces',
      message,
      listTable('namespaces-heading', ['Name', ['Repositories', 'num'], ['Triggers', 'num']], rows),
      h('details', { className: 'add' }, h('summary', {}, 'Open another namespace'), form),
    ),
  );
  return { element, close: () => {} };
}
