// @ts-check
/**
 * One record in a dialog: what was sent and what came back (headers and bodies, shown as
 * text: a receiver's body is never parsed as HTML), with Redeliver and, for a delivery still
 * retrying on an api that offers it, Cancel.
 */
import { paths, sentenceOf } from './api.js';
import { byId, h, say } from './dom.js';
import { features } from './features.js';
import { filterText, formatDuration, STATUS, statusBadge, timeElement, wasSent } from './format.js';

/** @typedef {import('./types.js').AccessRecord} AccessRecord */

/** Only the first bytes of a response body are kept (the contract's 4 KiB). */
const RESPONSE_BODY_KEPT = 4096;

/** @param {Record<string, string> | undefined} headers @param {string} caption */
function headersTable(headers, caption) {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return h('p', { className: 'none' }, 'No headers.');
  return h(
    'table',
    { className: 'headers' },
    h('caption', { className: 'visually-hidden' }, caption),
    h(
      'tbody',
      {},
      entries.map(([name, value]) =>
        h(
          'tr',
          { className: 'h-row' },
          h('th', { scope: 'row', className: 'h-cell h-name' }, name),
          h('td', { className: 'h-cell' }, value),
        ),
      ),
    ),
  );
}

/** @param {string} text @param {string} label @param {number} [keptBytes] */
function bodyBlock(text, label, keptBytes) {
  if (!text) return h('p', { className: 'none' }, 'Empty body.');
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: show it as it came
  }
  const truncated = keptBytes !== undefined && new TextEncoder().encode(text).length >= keptBytes - 3;
  return [
    h('pre', { className: 'body', tabIndex: 0, role: 'region', 'aria-label': label }, shown),
    truncated ? h('p', { className: 'none' }, `Only the first ${keptBytes / 1024} KiB are kept.`) : null,
  ];
}

/** @param {AccessRecord} record @param {boolean} sent */
function responseBlock(record, sent) {
  if (!sent) return h('p', { className: 'none' }, 'No request was sent, so there is no response.');
  const headers = record.responseHeaders ?? {};
  if (!/^\d{3}$/.test(record.statusCode) && Object.keys(headers).length === 0 && !record.responseBody)
    return h('p', { className: 'none' }, `No response was received (${record.statusCode}).`);
  return [
    h('h4', {}, 'Headers'),
    headersTable(headers, 'Response headers'),
    h('h4', {}, 'Body'),
    bodyBlock(record.responseBody, 'Response body', RESPONSE_BODY_KEPT),
  ];
}

/** @param {string} term @param {import('./dom.js').Child[]} value */
const fact = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];
/** @param {string} text */
const mono = (text) => h('span', { className: 'mono' }, text);

/**
 * @typedef {object} RecordDialog
 * @property {(record: AccessRecord) => void} show
 * @property {(ns: string, id: string) => Promise<void>} showById a deep link's record, fetched
 * @property {() => void} close
 */

/**
 * @param {import('./api.js').Api} api
 * @param {(id: string | null) => void} onChange the record shown (null once closed), for the address
 * @returns {RecordDialog}
 */
export function recordDialog(api, onChange) {
  const dialog = byId('detail', HTMLDialogElement);
  const title = byId('detail-title', HTMLElement);
  const body = byId('detail-body', HTMLElement);
  const closeButton = byId('detail-close', HTMLButtonElement);
  closeButton.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
  dialog.addEventListener('close', () => onChange(null));

  /** @param {AccessRecord} record */
  async function render(record) {
    const sent = wasSent(record);
    const notSent =
      record.status === 'untriggered'
        ? `Not sent: the trigger does not fire for tag ${record.tag}.`
        : `Not sent${record.note ? `: ${record.note}` : '.'}`;
    title.replaceChildren(
      statusBadge(record.status),
      h('span', {}, ` ${record.triggerName || 'Trigger'} · ${record.tag}`),
    );
    const outcome = h('div', { id: 'detail-outcome', className: 'message', hidden: true });
    const redeliver = h('button', { type: 'button', id: 'detail-redeliver' }, 'Redeliver');
    redeliver.addEventListener('click', async () => {
      redeliver.disabled = true;
      try {
        const { body: answer } = await api.post(paths.recordAction(record, 'redeliver'));
        say(
          outcome,
          'ok',
          `Redelivery queued (delivery ${answer?.deliveryId ?? 'new'}); its record will appear in the list.`,
        );
      } catch (error) {
        say(outcome, 'error', sentenceOf(error));
      } finally {
        redeliver.disabled = false;
      }
    });
    const actions = h('p', { className: 'actions-row' }, redeliver);
    if (record.status === 'retrying' && (await features()).cancel) {
      const cancel = h(
        'button',
        { type: 'button', className: 'danger', id: 'detail-cancel' },
        'Cancel retries',
      );
      cancel.addEventListener('click', async () => {
        cancel.disabled = true;
        try {
          await api.post(paths.recordAction(record, 'cancel'));
          say(outcome, 'ok', 'Cancelled: no more attempts; the delivery ends failed (CANCELLED).');
        } catch (error) {
          const missing = error instanceof Error && 'isMissingRoute' in error && error.isMissingRoute;
          say(outcome, 'error', missing ? 'This api cannot cancel deliveries.' : sentenceOf(error));
          cancel.disabled = false;
        }
      });
      actions.append(' ', cancel);
    }
    const nextAttempt =
      record.status === 'retrying' && typeof record.nextAttemptAt === 'number'
        ? fact('Next attempt', timeElement(record.nextAttemptAt))
        : null;

    body.replaceChildren(
      record.note ? h('p', { className: 'note' }, h('strong', {}, 'Note: '), record.note) : '',
      actions,
      outcome,
      h(
        'dl',
        { className: 'facts' },
        fact('Status', `${STATUS[record.status]?.label ?? record.status}, code `, mono(record.statusCode)),
        record.reason ? fact('Reason', mono(record.reason)) : null,
        record.supersededBy ? fact('Superseded by', 'event ', mono(record.supersededBy)) : null,
        fact(
          'Time',
          timeElement(record.requestTime),
          h('span', { className: 'muted nowrap' }, ` (${new Date(record.requestTime).toISOString()})`),
        ),
        fact('Attempt', record.attempt === 0 ? 'none (nothing was sent)' : String(record.attempt)),
        nextAttempt,
        fact('Duration', formatDuration(record)),
        fact('Repository', mono(`${record.namespace}/${record.repository}`)),
        fact('Tag', mono(record.tag)),
        fact('Digest', mono(record.digest)),
        fact(
          'Trigger',
          `${record.triggerName} `,
          h('span', { className: 'muted' }, `(${filterText(record)})`),
        ),
        fact('Trigger id', mono(record.triggerId)),
        fact('URL', mono(record.triggerUrl)),
        fact('Event id', mono(record.eventId)),
        fact('Delivery id', record.deliveryId ? mono(record.deliveryId) : 'none (nothing was sent)'),
        fact('Record id', mono(record.id)),
      ),
      h(
        'div',
        { className: 'exchange' },
        h(
          'section',
          { 'aria-labelledby': 'detail-request' },
          h('h3', { id: 'detail-request' }, 'Request'),
          sent
            ? [
                h('h4', {}, 'Headers'),
                headersTable(record.requestHeaders, 'Request headers'),
                h('h4', {}, 'Body'),
                bodyBlock(record.requestBody, 'Request body'),
              ]
            : h('p', { className: 'none' }, notSent),
        ),
        h(
          'section',
          { 'aria-labelledby': 'detail-response' },
          h('h3', { id: 'detail-response' }, 'Response', sent ? ` · ${record.statusCode}` : ''),
          responseBlock(record, sent),
        ),
      ),
    );
  }

  return {
    show(record) {
      void render(record).then(() => {
        onChange(record.id);
        if (!dialog.open) dialog.showModal();
        closeButton.focus();
      });
    },
    async showById(ns, id) {
      const message = byId('message', HTMLElement);
      try {
        const { body: record } = await api.get(paths.record(ns, id));
        this.show(record);
      } catch (error) {
        say(message, 'error', `Record ${id}: ${sentenceOf(error)}`);
      }
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
