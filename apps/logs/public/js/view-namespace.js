// @ts-check
/** A namespace: its repositories (add one, open one) and its tokens. */
import { paths, sentenceOf } from './api.js';
import { field, h, listTable, panel, say, showFieldErrors, showProblem, unsay } from './dom.js';
import { timeElement } from './format.js';
import { navigate, routeLink } from './router.js';
import { tokensPanel } from './view-tokens.js';

/**
 * @param {import('./view-context.js').ViewContext} context
 * @param {string} ns
 * @returns {import('./view-context.js').View}
 */
export function namespaceView(context, ns) {
  const { api } = context;
  const message = h('div', { id: 'repositories-message', className: 'message', hidden: true });
  const rows = h('tbody', { id: 'repository-rows' });
  const more = h('button', { type: 'button', className: 'secondary', hidden: true }, 'More repositories');
  let cursor = /** @type {string | null} */ (null);

  /** @param {{ older?: boolean }} [how] */
  async function load(how = {}) {
    const params = new URLSearchParams({ limit: '100' });
    if (how.older && cursor) params.set('cursor', cursor);
    try {
      const { body } = await api.get(`${paths.repositories(ns)}?${params}`);
      /** @type {{ name: string, repoType?: string, createdAt?: number, dateCreated?: number }[]} */
      const repositories = body?.repositories ?? [];
      const built = repositories.map((repository) =>
        h(
          'tr',
          {},
          h('td', { className: 'mono' }, routeLink({ ns, repo: repository.name }, repository.name)),
          h('td', {}, repository.repoType ?? ''),
          h('td', {}, timeElement(repository.createdAt ?? repository.dateCreated)),
        ),
      );
      if (how.older) rows.append(...built);
      else
        rows.replaceChildren(
          ...(built.length > 0
            ? built
            : [
                h(
                  'tr',
                  {},
                  h(
                    'td',
                    { colSpan: 3, className: 'none' },
                    'No repositories yet: add one below, or push to one.',
                  ),
                ),
              ]),
        );
      cursor = typeof body?.nextCursor === 'string' ? body.nextCursor : null;
      more.hidden = cursor === null;
    } catch (error) {
      say(message, 'error', sentenceOf(error));
    }
  }
  more.addEventListener('click', () => void load({ older: true }));

  const name = h('input', {
    id: 'repository-name',
    name: 'repo',
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'team/web',
  });
  const repoType = h(
    'select',
    { id: 'repository-type', name: 'repoType' },
    h('option', { value: 'PRIVATE' }, 'Private'),
    h('option', { value: 'PUBLIC' }, 'Public'),
  );
  const form = h(
    'form',
    { className: 'grid-form', noValidate: true },
    field('Repository', name, 'Nested names take slashes: team/web.'),
    field('Visibility', repoType),
    h('div', { className: 'field actions' }, h('button', { type: 'submit' }, 'Add repository')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    unsay(message);
    const repo = name.value.trim().replace(/^\/+|\/+$/g, '');
    if (!repo) {
      showFieldErrors(form, [{ path: 'repo', message: 'enter a repository name' }]);
      return;
    }
    try {
      await api.put(paths.repository(ns, repo), { repoType: repoType.value });
      navigate({ ns, repo });
    } catch (error) {
      // The path's fields are `path.repo`, `path.ns`: the name field holds both.
      showProblem(form, message, error, (path) => path.replace(/^path\.(repo|ns)/, 'repo'));
    }
  });

  void load();
  const element = h(
    'div',
    { className: 'view' },
    panel(
      'repositories-heading',
      'Repositories',
      message,
      listTable('repositories-heading', ['Name', 'Visibility', 'Created'], rows),
      h('p', { className: 'more-bar' }, more),
      h('details', { className: 'add' }, h('summary', {}, 'Add a repository'), form),
    ),
    tokensPanel(api, ns),
  );
  return { element, close: () => {} };
}
