// @ts-check
/**
 * Building the page from data without ever parsing it as HTML: every string becomes a text
 * node (a trigger name, a header or a receiver's body may hold markup). The page's policy
 * (`require-trusted-types-for 'script'`) makes any innerHTML assignment throw as well.
 */
import { fieldErrorsOf, sentenceOf } from './api.js';

/**
 * @typedef {Node | string | number | null | undefined | false | unknown[]} Child (arrays of children nest)
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Props
 */

/**
 * `h('p', { className: 'x' }, 'text', child)`: an element with properties (or attributes,
 * for names the element has no property of, such as `aria-*`), and children as text or nodes.
 * A function prop named `onclick` etc. becomes a listener.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, ''), value);
    else if (key in element && !key.includes('-') && key !== 'list' && key !== 'form')
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (element))[key] = value;
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Element} parent
 * @param {unknown[]} children
 */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/**
 * An element of the page by id, of the type the caller names.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

/** Says `text` to screen readers (the page's polite live region). @param {string} text */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}

/**
 * A labelled form field: label, control, hint and the slot its server-side error goes into
 * (`showFieldErrors`). The control's `name` is the API field it edits.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  return h(
    'div',
    { className: 'field' },
    h('label', { htmlFor: id }, label),
    control,
    hint ? h('p', { className: 'hint', id: hintId }, hint) : null,
    h('p', { className: 'field-error', id: errorId, hidden: true }),
  );
}

/**
 * Puts each of the server's field errors next to the control it names (`url`, `tags.1` →
 * the control named `url`, `tags`); the rest are returned for the form's own message.
 * @param {HTMLFormElement} form
 * @param {{ path: string, message: string }[]} errors
 * @param {Record<string, string>} [aliases] an API path's first segment → a control's name
 * @returns {{ path: string, message: string }[]} the errors no control took
 */
export function showFieldErrors(form, errors, aliases = {}) {
  clearFieldErrors(form);
  /** @type {{ path: string, message: string }[]} */
  const unplaced = [];
  /** @type {HTMLElement | null} */
  let first = null;
  for (const error of errors) {
    const head = String(error.path ?? '').split('.')[0] ?? '';
    const name = aliases[head] ?? head;
    const control = name ? form.elements.namedItem(name) : null;
    if (!(control instanceof HTMLElement) || !control.id) {
      unplaced.push(error);
      continue;
    }
    const slot = document.getElementById(`${control.id}-error`);
    if (!slot) {
      unplaced.push(error);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    slot.hidden = false;
    slot.append(h('span', {}, error.path.includes('.') ? `${error.path}: ` : '', error.message), ' ');
    first ??= control;
  }
  first?.focus();
  return unplaced;
}

/** @param {HTMLFormElement} form */
export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.replaceChildren();
    /** @type {HTMLElement} */ (slot).hidden = true;
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

/**
 * A refused form: each field error of the problem beside its field (`rename` maps an API path
 * onto a control's name), and the problem's detail in `box` unless the fields said it all.
 * @param {HTMLFormElement} form
 * @param {HTMLElement} box
 * @param {unknown} error
 * @param {(path: string) => string} [rename]
 */
export function showProblem(form, box, error, rename = (path) => path) {
  const errors = fieldErrorsOf(error).map((e) => ({ ...e, path: rename(e.path) }));
  const rest = showFieldErrors(form, errors);
  if (errors.length > 0 && rest.length === 0) {
    unsay(box);
    return;
  }
  say(
    box,
    'error',
    sentenceOf(error),
    rest.length > 0 && errors.length > 1
      ? h(
          'ul',
          {},
          rest.map((e) => h('li', {}, `${e.path}: ${e.message}`)),
        )
      : null,
  );
}

/**
 * A titled section of a screen.
 * @param {string} headingId
 * @param {string} title
 * @param {...Child} children
 */
export function panel(headingId, title, ...children) {
  return h(
    'section',
    { className: 'panel', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, title),
    ...children,
  );
}

/**
 * A list table in its scrolling wrapper: a header row over `body`. A column is its name, or
 * [name, className].
 * @param {string} labelledBy the id of the heading that names it
 * @param {(string | [string, string])[]} columns
 * @param {HTMLTableSectionElement} body
 */
export function listTable(labelledBy, columns, body) {
  return h(
    'div',
    { className: 'table-wrap' },
    h(
      'table',
      { className: 'list', 'aria-labelledby': labelledBy },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((column) => {
            const [name, className] = Array.isArray(column) ? column : [column, ''];
            return h('th', { scope: 'col', className }, name);
          }),
        ),
      ),
      body,
    ),
  );
}

/**
 * A message box (role=alert for errors, status otherwise) placed where the action happened.
 * @param {HTMLElement} box
 * @param {'error' | 'ok' | 'info'} kind
 * @param {Child[]} content
 */
export function say(box, kind, ...content) {
  box.className = `message ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.replaceChildren();
  append(box, kind === 'error' ? [h('strong', {}, 'Error: '), ...content] : content);
  box.hidden = false;
}

/** @param {HTMLElement} box */
export function unsay(box) {
  box.hidden = true;
  box.replaceChildren();
}
