// @ts-check
/**
 * The tokens of a namespace: issue one (its secret is shown once, with a copy button), list
 * them (never a secret, a prefix to recognise one), revoke, rotate with a grace period.
 */
import { paths, sentenceOf } from './api.js';
import { clearFieldErrors, field, h, listTable, panel, say, showProblem, unsay } from './dom.js';
import { timeElement } from './format.js';

/** @typedef {import('./types.js').Token} Token */

/**
 * @param {import('./api.js').Api} api
 * @param {string} ns
 */
export function tokensPanel(api, ns) {
  const message = h('div', { id: 'tokens-message', className: 'message', hidden: true });
  const issued = h('div', { id: 'token-issued', className: 'issued', hidden: true });
  const rows = h('tbody', { id: 'token-rows' });
  const grace = h('input', {
    id: 'token-grace',
    name: 'graceSeconds',
    type: 'number',
    min: 0,
    max: 86400,
    value: 0,
  });

  /** Shows a new secret once, with a copy button. @param {Token} token @param {string} what */
  function showIssued(token, what) {
    const secret = h('input', {
      id: 'token-secret',
      readOnly: true,
      value: token.token ?? '',
      className: 'mono',
      'aria-label': 'The new token',
    });
    const copy = h('button', { type: 'button', id: 'token-copy' }, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret.value);
        copy.textContent = 'Copied';
      } catch {
        // No clipboard permission (an insecure origin): select it for Ctrl-C instead.
        secret.select();
        copy.textContent = 'Selected: press Ctrl-C';
      }
    });
    const dismiss = h('button', { type: 'button', className: 'secondary' }, 'Done');
    dismiss.addEventListener('click', () => {
      issued.hidden = true;
      issued.replaceChildren();
    });
    issued.replaceChildren(
      h('p', {}, h('strong', {}, `${what}. `), 'Copy it now: it is not shown again.'),
      h('div', { className: 'with-button' }, secret, copy, dismiss),
    );
    issued.hidden = false;
    secret.focus();
    secret.select();
  }

  /** @param {Token} token */
  function row(token) {
    const label = token.name || token.prefix || token.id;
    const revoke = h(
      'button',
      { type: 'button', className: 'danger', 'aria-label': `Revoke ${label}` },
      'Revoke',
    );
    revoke.addEventListener('click', async () => {
      if (!window.confirm(`Revoke the token ${label}? It stops working at once.`)) return;
      try {
        await api.del(paths.token(ns, token.id));
        say(message, 'ok', `Revoked ${label}.`);
        await load();
      } catch (error) {
        say(message, 'error', sentenceOf(error));
      }
    });
    const rotate = h(
      'button',
      { type: 'button', className: 'secondary', 'aria-label': `Rotate ${label}` },
      'Rotate',
    );
    rotate.addEventListener('click', async () => {
      try {
        const { body } = await api.post(paths.tokenRotate(ns, token.id), {
          graceSeconds: Number(grace.value) || 0,
        });
        showIssued(body, `New token for ${label}; the old one works ${Number(grace.value) || 0} s more`);
        await load();
      } catch (error) {
        say(message, 'error', sentenceOf(error));
      }
    });
    return h(
      'tr',
      { 'data-id': token.id },
      h('td', {}, token.name ?? h('span', { className: 'muted' }, 'unnamed')),
      h('td', {}, token.scope),
      h('td', { className: 'mono' }, token.prefix ? `${token.prefix}…` : '—'),
      h('td', {}, timeElement(token.createdAt)),
      h('td', {}, token.expiresAt ? timeElement(token.expiresAt) : 'never'),
      h('td', {}, token.lastUsedAt ? timeElement(token.lastUsedAt) : 'never'),
      h('td', { className: 'actions-cell' }, rotate, ' ', revoke),
    );
  }

  async function load() {
    try {
      const { body } = await api.get(paths.tokens(ns));
      /** @type {Token[]} */
      const tokens = body?.tokens ?? [];
      rows.replaceChildren(
        ...(tokens.length > 0
          ? tokens.map(row)
          : [h('tr', {}, h('td', { colSpan: 7, className: 'none' }, 'No tokens.'))]),
      );
    } catch (error) {
      say(message, 'error', sentenceOf(error));
    }
  }

  const name = h('input', { id: 'token-name', name: 'name', autocomplete: 'off', placeholder: 'ci' });
  const scope = h(
    'select',
    { id: 'token-scope', name: 'scope' },
    h('option', { value: 'admin' }, 'admin: everything in the namespace'),
    h('option', { value: 'read' }, 'read: every GET'),
    h('option', { value: 'ingest' }, 'ingest: post events only'),
  );
  const expires = h('input', { id: 'token-expires', name: 'expiresAt', type: 'datetime-local' });
  const form = h(
    'form',
    { className: 'grid-form', noValidate: true },
    field('Name', name),
    field('Scope', scope),
    field('Expires', expires, 'Empty: never.'),
    h('div', { className: 'field actions' }, h('button', { type: 'submit' }, 'Create token')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    unsay(message);
    /** @type {Record<string, unknown>} */
    const body = { scope: scope.value };
    if (name.value.trim()) body.name = name.value.trim();
    if (expires.value) body.expiresAt = new Date(expires.value).toISOString();
    try {
      const { body: token } = await api.post(paths.tokens(ns), body);
      clearFieldErrors(form);
      form.reset();
      showIssued(token, `Token ${token.name ?? ''} created`.replace('  ', ' '));
      await load();
    } catch (error) {
      showProblem(form, message, error);
    }
  });

  void load();
  return panel(
    'tokens-heading',
    'Tokens',
    message,
    issued,
    listTable(
      'tokens-heading',
      ['Name', 'Scope', 'Prefix', 'Created', 'Expires', 'Last used', 'Actions'],
      rows,
    ),
    h(
      'div',
      { className: 'field inline' },
      h('label', { htmlFor: grace.id }, 'Grace period when rotating (seconds)'),
      grace,
    ),
    h('details', { className: 'add' }, h('summary', {}, 'Create a token'), form),
  );
}
