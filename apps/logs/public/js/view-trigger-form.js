// @ts-check
/**
 * The form that creates or edits a trigger. It sends the whole trigger (a PUT replaces it) and
 * puts each field error of the server's problem next to its field.
 */

import { clearFieldErrors, field, h, showFieldErrors, showProblem, unsay } from './dom.js';
import { triggerBody } from './trigger-body.js';

/** @typedef {import('./types.js').Trigger} Trigger */

/** The secret as reads show it; sent back, it keeps the stored secret. */
const MASKED = '***';

/** `Name: value` lines → headers; a line without a colon is the user's to fix. @param {string} text */
function parseHeaders(text) {
  /** @type {Record<string, string>} */
  const headers = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `line ${index + 1} must read Name: value` };
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return { headers };
}

/**
 * @param {object} options
 * @param {string} options.idPrefix ids of the controls start with it (one form per screen)
 * @param {Trigger | null} options.trigger null: a new trigger
 * @param {string} options.submitLabel
 * @param {(body: Record<string, unknown>) => Promise<unknown>} options.submit throws ApiError on a refusal
 */
export function triggerForm(options) {
  const { trigger, idPrefix } = options;
  /** @param {string} name */
  const id = (name) => `${idPrefix}-${name}`;
  const name = h('input', {
    id: id('name'),
    name: 'name',
    autocomplete: 'off',
    required: true,
    value: trigger?.name ?? '',
  });
  const url = h('input', {
    id: id('url'),
    name: 'url',
    type: 'url',
    autocomplete: 'off',
    spellcheck: false,
    required: true,
    placeholder: 'https://hooks.example.com/x',
    value: trigger?.url ?? '',
  });
  const type = h(
    'select',
    { id: id('type'), name: 'type' },
    h('option', { value: 'ALL' }, 'Every tag'),
    h('option', { value: 'TAG_LIST' }, 'A list of tags'),
    h('option', { value: 'TAG_REG_EXP' }, 'Tags matching an expression'),
  );
  type.value = trigger?.type ?? 'ALL';
  const tags = h('input', {
    id: id('tags'),
    name: 'tags',
    autocomplete: 'off',
    placeholder: 'v1, latest',
    value: (trigger?.tags ?? []).join(', '),
  });
  const expression = h('input', {
    id: id('expression'),
    name: 'expression',
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'release-v.*',
    value: trigger?.expression ?? '',
  });
  const enabled = h('input', {
    id: id('enabled'),
    name: 'enabled',
    type: 'checkbox',
    // The default too: a form reset after a create leaves a new trigger enabled.
    defaultChecked: trigger?.enabled ?? true,
    checked: trigger?.enabled ?? true,
  });
  /** @param {'coalesce' | 'ordered'} option */
  const checkbox = (option) =>
    h('input', { id: id(option), name: option, type: 'checkbox', checked: trigger?.[option] ?? false });
  const coalesce = checkbox('coalesce');
  const ordered = checkbox('ordered');
  /** @param {'perSecond' | 'maxInFlight'} part @param {string} placeholder */
  const rateInput = (part, placeholder) =>
    h('input', {
      id: id(`rate-${part}`),
      name: `rateLimit.${part}`,
      type: 'number',
      min: part === 'perSecond' ? '0.1' : '1',
      step: part === 'perSecond' ? 'any' : '1',
      placeholder,
      value: trigger?.rateLimit?.[part] === undefined ? '' : String(trigger.rateLimit[part]),
    });
  const perSecond = rateInput('perSecond', 'no limit');
  const maxInFlight = rateInput('maxInFlight', 'no limit');
  const hadSecret = trigger?.secret !== undefined && trigger.secret !== '';
  const secret = h('input', {
    id: id('secret'),
    name: 'secret',
    type: 'password',
    autocomplete: 'new-password',
    placeholder: hadSecret ? 'unchanged' : 'optional',
  });
  const headers = h(
    'textarea',
    { id: id('headers'), name: 'headers', rows: 3, spellcheck: false, placeholder: 'X-Env: prod' },
    Object.entries(trigger?.headers ?? {})
      .map(([key, value]) => `${key}: ${value}`)
      .join('\n'),
  );
  const tagsField = field('Tags', tags, 'Up to 10 exact tags, separated by commas.');
  const expressionField = field('Expression', expression, 'Must match the whole tag (RE2 syntax).');
  const showFilter = () => {
    tagsField.hidden = type.value !== 'TAG_LIST';
    expressionField.hidden = type.value !== 'TAG_REG_EXP';
  };
  type.addEventListener('change', showFilter);
  showFilter();

  const message = h('div', { className: 'message', hidden: true });
  const submit = h('button', { type: 'submit' }, options.submitLabel);
  const form = h(
    'form',
    { className: 'grid-form', noValidate: true, id: id('form') },
    field('Name', name),
    field('URL', url, 'http or https; https only on port 443.'),
    field('Fires for', type),
    tagsField,
    expressionField,
    field(
      'Secret',
      secret,
      hadSecret
        ? 'Signs deliveries. Empty keeps the current secret.'
        : 'Optional: signs deliveries (Standard Webhooks).',
    ),
    field('Extra headers', headers, 'One Name: value per line.'),
    h('div', { className: 'field check' }, enabled, h('label', { htmlFor: enabled.id }, 'Enabled')),
    h(
      'div',
      { className: 'field check' },
      coalesce,
      h('label', { htmlFor: coalesce.id }, 'Coalesce: only the latest push of a tag is delivered'),
    ),
    h(
      'div',
      { className: 'field check' },
      ordered,
      h('label', { htmlFor: ordered.id }, 'Ordered: one delivery at a time, in push order'),
    ),
    field('Rate limit (per second)', perSecond, '0.1 to 1000 deliveries a second; empty: no limit.'),
    field('At most in flight', maxInFlight, 'With a rate limit: 1 to 256 at once.'),
    h('div', { className: 'field actions' }, submit),
    message,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    unsay(message);
    const parsedHeaders = parseHeaders(headers.value);
    if (parsedHeaders.error !== undefined) {
      showFieldErrors(form, [{ path: 'headers', message: parsedHeaders.error }]);
      return;
    }
    const body = triggerBody({
      name: name.value,
      url: url.value.trim(),
      type: /** @type {Trigger['type']} */ (type.value),
      enabled: enabled.checked,
      tags: tags.value
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== ''),
      expression: expression.value,
      secret: secret.value !== '' ? secret.value : hadSecret ? MASKED : '',
      headers: parsedHeaders.headers ?? {},
      coalesce: coalesce.checked,
      ordered: ordered.checked,
      // The api checks the numbers (a 400 names rateLimit.perSecond or rateLimit.maxInFlight).
      ...(perSecond.value !== ''
        ? {
            rateLimit: {
              perSecond: Number(perSecond.value),
              ...(maxInFlight.value !== '' ? { maxInFlight: Number(maxInFlight.value) } : {}),
            },
          }
        : {}),
    });
    submit.disabled = true;
    try {
      await options.submit(body);
      secret.value = '';
    } catch (error) {
      showProblem(form, message, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
