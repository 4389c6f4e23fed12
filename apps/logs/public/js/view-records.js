// @ts-check
/**
 * The records of a trigger or a repository: newest first, filtered by status, older pages on
 * demand, and followed live (new records appear at the top without a reload). Each row opens
 * the record's detail.
 */
import { paths, sentenceOf } from './api.js';
import { announce, h, say, unsay } from './dom.js';
import {
  compareIds,
  filterText,
  formatDuration,
  laterId,
  STATUS,
  statusBadge,
  timeElement,
} from './format.js';
import { amendRoute } from './router.js';
import { follow } from './sse.js';

const PAGE_SIZE = 50;
/** Rows kept on the page; older ones drop off the bottom and come back with "load older". */
const MAX_ROWS = 1000;
/** Margin for the clock of Redis (record ids) against the Date header of the logs app. */
const CLOCK_MARGIN_MS = 5_000;

/** @typedef {import('./types.js').AccessRecord} AccessRecord */

/**
 * @typedef {object} RecordsPanelOptions
 * @property {import('./api.js').Api} api
 * @property {string} ns
 * @property {string} repo
 * @property {string | null} trigger
 * @property {string | null} status the filter the address asked for
 * @property {(record: AccessRecord) => void} onOpen
 */

/**
 * @param {RecordsPanelOptions} options
 * @returns {{ element: HTMLElement, close: () => void, refresh: () => Promise<void> }}
 */
export function recordsPanel(options) {
  const { api, ns, repo, trigger } = options;
  /** @type {Map<string, AccessRecord>} */
  const shown = new Map();
  let nextCursor = /** @type {string | null} */ (null);
  let liveFloor = /** @type {string | null} */ (null);
  let resumeFrom = /** @type {string | null} */ (null);
  let generation = 0;
  /** @type {AbortController | null} */
  let listAbort = null;
  /** @type {AbortController | null} */
  let followAbort = null;
  let closed = false;

  const status = h(
    'select',
    { id: 'records-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    Object.entries(STATUS).map(([value, { label }]) => h('option', { value }, label)),
  );
  if (options.status && STATUS[options.status]) status.value = options.status;
  const followBox = h('input', { id: 'records-follow', type: 'checkbox' });
  const liveText = h('span', { id: 'live-text' }, 'Not following');
  const liveState = h(
    'p',
    { id: 'live-state', className: 'live-state', 'data-state': 'off', 'aria-live': 'polite' },
    h('span', { className: 'dot', 'aria-hidden': 'true' }),
    liveText,
  );
  const summary = h('p', { id: 'records-summary', className: 'muted summary' });
  const message = h('div', { className: 'message', hidden: true });
  const rows = h('tbody', { id: 'rows' });
  const empty = h('p', { className: 'empty', hidden: true }, 'No records match these filters.');
  const more = h('button', { type: 'button', className: 'secondary', hidden: true }, 'Load older records');
  const table = h(
    'table',
    { className: 'log', 'aria-labelledby': 'records-heading', 'aria-describedby': 'records-summary' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Time', 'Status', 'Code', 'Tag', 'Trigger', 'Attempt', 'Duration', 'Next attempt'].map((name) =>
          h('th', { scope: 'col', className: ['Attempt', 'Duration'].includes(name) ? 'num' : '' }, name),
        ),
      ),
    ),
    rows,
  );

  const element = h(
    'section',
    { className: 'results panel', 'aria-labelledby': 'records-heading' },
    h(
      'div',
      { className: 'results-bar' },
      h('h2', { id: 'records-heading', tabIndex: -1 }, trigger ? 'Records of this trigger' : 'Records'),
      h('div', { className: 'field inline' }, h('label', { htmlFor: 'records-status' }, 'Status'), status),
      h(
        'label',
        { className: 'switch' },
        followBox,
        h('span', { className: 'track', 'aria-hidden': 'true' }),
        'Follow live',
      ),
      liveState,
    ),
    summary,
    message,
    h('div', { className: 'table-wrap' }, table, empty),
    h('p', { className: 'more-bar' }, more),
  );

  /** @param {AccessRecord} record */
  function renderRow(record) {
    const open = h(
      'button',
      { type: 'button', className: 'open', title: `Open record ${record.id}`, 'aria-haspopup': 'dialog' },
      timeElement(record.requestTime),
    );
    open.addEventListener('click', () => options.onOpen(record));
    const retrying = record.status === 'retrying' && typeof record.nextAttemptAt === 'number';
    return h(
      'tr',
      { 'data-id': record.id, 'data-status': record.status },
      h('td', { className: 'time' }, open),
      h('td', { className: 'status' }, statusBadge(record.status)),
      h(
        'td',
        { className: 'code mono', title: record.note ?? '' },
        // An untriggered record has no status code to show: its reason says why it did not fire.
        record.status === 'untriggered' ? (record.reason ?? '—') : record.statusCode,
      ),
      h('td', { className: 'tag mono', title: record.tag }, record.tag),
      h(
        'td',
        { className: 'trigger', title: `${record.triggerName} (${record.triggerId})` },
        h('span', { className: 'trigger-name' }, record.triggerName || record.triggerId),
        ' ',
        h('span', { className: 'trigger-filter muted' }, filterText(record)),
      ),
      h('td', { className: 'attempt num' }, record.attempt === 0 ? '—' : String(record.attempt)),
      h('td', { className: 'duration num' }, formatDuration(record)),
      h('td', { className: 'next' }, retrying ? timeElement(record.nextAttemptAt) : '—'),
    );
  }

  /** @param {AccessRecord} record */
  const matches = (record) =>
    record.namespace === ns &&
    record.repository === repo &&
    (!trigger || record.triggerId === trigger) &&
    (!status.value || record.status === status.value);

  function updateSummary() {
    const count = shown.size;
    const failed = !message.hidden && count === 0;
    empty.hidden = count > 0 || listAbort !== null || failed;
    if (failed) {
      summary.textContent = '';
      return;
    }
    const filter = status.value ? ` · ${STATUS[status.value]?.label.toLowerCase()}` : '';
    summary.textContent = `${count} record${count === 1 ? '' : 's'}${nextCursor ? ', more below' : ''}, newest first${filter}`;
  }

  /** @param {AccessRecord[]} records */
  function appendRecords(records) {
    const fragment = document.createDocumentFragment();
    for (const record of records) {
      if (!record || typeof record.id !== 'string' || shown.has(record.id)) continue;
      shown.set(record.id, record);
      fragment.append(renderRow(record));
    }
    rows.append(fragment);
  }

  /** A live record in its place (newest first), normally the top. @param {AccessRecord} record */
  function insertLive(record) {
    const existing = rows.querySelector(`tr[data-id="${CSS.escape(record.id)}"]`);
    shown.set(record.id, record);
    const row = renderRow(record);
    row.classList.add('new');
    if (existing) {
      existing.replaceWith(row);
      return;
    }
    let before = rows.firstElementChild;
    while (before && compareIds(/** @type {HTMLElement} */ (before).dataset.id ?? '', record.id) > 0)
      before = before.nextElementSibling;
    rows.insertBefore(row, before);
    while (rows.childElementCount > MAX_ROWS) {
      const last = /** @type {HTMLElement} */ (rows.lastElementChild);
      shown.delete(last.dataset.id ?? '');
      last.remove();
      nextCursor = /** @type {HTMLElement} */ (rows.lastElementChild).dataset.id ?? null;
      more.hidden = false;
    }
  }

  /** @param {{ older?: boolean }} [how] */
  async function load(how = {}) {
    if (!how.older) {
      generation++;
      listAbort?.abort();
      shown.clear();
      rows.replaceChildren();
      nextCursor = null;
      more.hidden = true;
    }
    const mine = generation;
    const controller = new AbortController();
    listAbort = controller;
    table.setAttribute('aria-busy', 'true');
    summary.textContent = 'Loading…';
    unsay(message);
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status.value) params.set('status', status.value);
    if (how.older && nextCursor) params.set('cursor', nextCursor);
    try {
      const { body, date } = await api.get(
        `${paths.records({ ns, repo, trigger })}?${params}`,
        controller.signal,
      );
      if (mine !== generation) return false;
      const records = Array.isArray(body?.records) ? body.records : [];
      if (!how.older) {
        liveFloor = records[0]?.id ?? null;
        // Follow from a little before this answer: the overlap is dropped by id, and what
        // was written between the list and the stream still arrives.
        const serverNow = date ? Date.parse(date) : Number.NaN;
        const fromClock = Number.isFinite(serverNow) ? `${Math.max(0, serverNow - CLOCK_MARGIN_MS)}-0` : null;
        resumeFrom = laterId(liveFloor, fromClock);
      }
      appendRecords(records);
      nextCursor = typeof body?.nextCursor === 'string' ? body.nextCursor : null;
      more.hidden = nextCursor === null;
      return true;
    } catch (error) {
      if (controller.signal.aborted || mine !== generation) return false;
      say(message, 'error', sentenceOf(error));
      return false;
    } finally {
      if (listAbort === controller) {
        listAbort = null;
        table.setAttribute('aria-busy', 'false');
        updateSummary();
      }
    }
  }

  /** @param {'off' | 'connecting' | 'live' | 'reconnecting'} kind */
  function setLive(kind) {
    const texts = {
      off: 'Not following',
      connecting: 'Connecting…',
      live: 'Live',
      reconnecting: 'Reconnecting…',
    };
    liveState.dataset.state = kind;
    liveText.textContent = texts[kind];
  }

  function stopFollowing() {
    followAbort?.abort();
    followAbort = null;
    setLive('off');
  }

  function startFollowing() {
    stopFollowing();
    const controller = new AbortController();
    followAbort = controller;
    let pending = 0;
    let timer = 0;
    void follow({
      path: paths.stream(ns),
      token: api.token,
      lastEventId: resumeFrom,
      signal: controller.signal,
      onState: (state) => {
        if (!controller.signal.aborted) setLive(state);
      },
      onRefused: (error) => {
        say(message, 'error', sentenceOf(error));
        followBox.checked = false;
        stopFollowing();
        // A token that stopped working takes the whole page back to sign-in.
        if (error.status === 401) api.unauthorized(error);
      },
      onMessage: (data) => {
        /** @type {AccessRecord} */
        let record;
        try {
          record = JSON.parse(data);
        } catch {
          return; // one malformed event must not end the tail
        }
        if (!record || typeof record.id !== 'string') return;
        if (liveFloor !== null && compareIds(record.id, liveFloor) <= 0 && !shown.has(record.id)) return;
        if (!matches(record)) return;
        insertLive(record);
        updateSummary();
        // Screen readers hear a second's worth at a time.
        pending++;
        if (!timer)
          timer = window.setTimeout(() => {
            announce(
              pending === 1 ? `New record: ${record.tag}, ${record.status}.` : `${pending} new records.`,
            );
            pending = 0;
            timer = 0;
          }, 1000);
      },
    });
  }

  async function refresh() {
    const ok = await load();
    if (closed) return;
    if (ok && followBox.checked) startFollowing();
    if (!ok) {
      followBox.checked = false;
      stopFollowing();
    }
  }

  status.addEventListener('change', () => {
    amendRoute({ status: status.value || null });
    stopFollowing();
    void refresh();
  });
  followBox.addEventListener('change', () => {
    if (!followBox.checked) stopFollowing();
    else void refresh();
  });
  more.addEventListener('click', () => {
    if (nextCursor) void load({ older: true });
  });

  void refresh();
  return {
    element,
    refresh,
    close: () => {
      closed = true;
      listAbort?.abort();
      stopFollowing();
    },
  };
}
