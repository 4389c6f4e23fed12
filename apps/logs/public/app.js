// The access-log page: lists records of a namespace, repository or trigger newest first,
// shows one record's exchange, and follows the live tail. Plain DOM, no dependencies.
// Everything a record holds is rendered with textContent: response bodies come from
// arbitrary receivers and must never be parsed as HTML.

const TOKEN_KEY = 'registry-triggers.logs.token';
const PAGE_SIZE = 50;
/** Rows kept on the page; older ones drop off the bottom and come back with "load older". */
const MAX_ROWS = 1000;
/** The server sends a keep-alive every 15 s; silence this long means a dead connection. */
const STREAM_SILENCE_MS = 45_000;
/** A list older than this is reloaded before following, rather than replaying the gap. */
const STALE_LIST_MS = 60_000;
/** Margin for the clock of Redis (record ids) against the Date header of the logs app. */
const CLOCK_MARGIN_MS = 5_000;

const STATUS = {
  succeeded: { label: 'Succeeded', glyph: '✓' },
  retrying: { label: 'Retrying', glyph: '↻' },
  failed: { label: 'Failed', glyph: '✕' },
  untriggered: { label: 'Untriggered', glyph: '–' },
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const els = {
  form: /** @type {HTMLFormElement} */ ($('query')),
  token: /** @type {HTMLInputElement} */ ($('token')),
  forget: $('forget-token'),
  namespace: /** @type {HTMLInputElement} */ ($('namespace')),
  repository: /** @type {HTMLInputElement} */ ($('repository')),
  trigger: /** @type {HTMLInputElement} */ ($('trigger')),
  status: /** @type {HTMLSelectElement} */ ($('status')),
  tag: /** @type {HTMLInputElement} */ ($('tag')),
  show: /** @type {HTMLButtonElement} */ ($('show')),
  message: $('message'),
  summary: $('summary'),
  follow: /** @type {HTMLInputElement} */ ($('follow')),
  liveState: $('live-state'),
  liveText: $('live-text'),
  table: $('records'),
  rows: $('rows'),
  empty: $('empty'),
  more: /** @type {HTMLButtonElement} */ ($('more')),
  announcer: $('announcer'),
  dialog: /** @type {HTMLDialogElement} */ ($('detail')),
  dialogTitle: $('detail-title'),
  dialogBody: $('detail-body'),
  dialogClose: $('detail-close'),
  rowTemplate: /** @type {HTMLTemplateElement} */ ($('row-template')),
};

const state = {
  /** The filters of the list on screen: {namespace, repository, trigger, status, tag}. */
  query: null,
  /** Records on screen by id. */
  records: new Map(),
  nextCursor: null,
  /** Bumped by every new list, so answers to an older one are dropped. */
  generation: 0,
  listAbort: null,
  loadedAt: 0,
  /** Live records at or below this id are already in the list (or behind "load older"). */
  liveFloor: null,
  /** Where the live tail starts, so nothing written between the list and the stream is lost. */
  resumeFrom: null,
  followAbort: null,
  announcements: [],
  announceTimer: 0,
};

// ---------------------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }
}

function currentToken() {
  return els.token.value.trim().replace(/^bearer\s+/i, '');
}

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${currentToken()}`, ...extra };
}

/** problem+json → ApiError carrying `detail` (what the user reads) and field errors. */
async function problemOf(response) {
  let detail = `${response.status} ${response.statusText}`.trim();
  let errors = [];
  try {
    const problem = await response.json();
    detail = problem.detail || problem.title || detail;
    if (Array.isArray(problem.errors)) errors = problem.errors;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, detail, errors);
}

async function getJson(path, signal) {
  let response;
  try {
    response = await fetch(path, {
      headers: authHeaders({ Accept: 'application/json' }),
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, `Could not reach the logs service (${error.message}).`);
  }
  if (!response.ok) throw await problemOf(response);
  return { body: await response.json(), date: response.headers.get('date') };
}

const enc = encodeURIComponent;

function recordsPath(query, cursor) {
  let path = `/v1/namespaces/${enc(query.namespace)}`;
  if (query.repository) {
    // encodeURIComponent turns the slashes of a nested repository into %2F, as the API wants.
    path += `/repositories/${enc(query.repository)}`;
    if (query.trigger) path += `/triggers/${enc(query.trigger)}`;
  }
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query.status) params.set('status', query.status);
  if (query.tag) params.set('tag', query.tag);
  if (cursor) params.set('cursor', cursor);
  return `${path}/records?${params}`;
}

/** Record ids are Redis stream ids, `<ms>-<seq>`: compare them as numbers, exactly. */
function compareIds(a, b) {
  const [am = '', as = ''] = a.split('-');
  const [bm = '', bs = ''] = b.split('-');
  const digits = (x, y) => x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  return digits(am, bm) || digits(as, bs);
}

const laterId = (a, b) => (a === null ? b : b === null ? a : compareIds(a, b) >= 0 ? a : b);

// ---------------------------------------------------------------------------- formatting

const pad = (n, width = 2) => String(n).padStart(width, '0');

function formatTime(ms) {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** Whether a request went out: untriggered records and disabled triggers send nothing. */
function wasSent(record) {
  return (
    record.status !== 'untriggered' &&
    (Object.keys(record.requestHeaders ?? {}).length > 0 || !!record.requestBody)
  );
}

function formatDuration(record) {
  if (record.attempt === 0 || !wasSent(record)) return '—';
  const ms = Number(record.durationMs) || 0;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function triggerFilterText(record) {
  if (record.triggerType === 'ALL') return 'all tags';
  if (record.triggerType === 'TAG_LIST') return `tags ${record.triggerTag}`;
  return `/${record.triggerTag}/`;
}

/** Builds an element: h('p', {className: 'x'}, 'text', child). Strings become text nodes. */
function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key in element && key !== 'list') element[key] = value;
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function statusBadge(status) {
  const known = STATUS[status] ?? { label: String(status), glyph: '?' };
  return h(
    'span',
    { className: `badge ${STATUS[status] ? status : ''}` },
    h('span', { className: 'glyph', 'aria-hidden': 'true' }, known.glyph),
    known.label,
  );
}

// ---------------------------------------------------------------------------- the list

function renderRow(record) {
  const row = /** @type {HTMLTableRowElement} */ (els.rowTemplate.content.firstElementChild.cloneNode(true));
  row.dataset.id = record.id;
  row.dataset.status = record.status;
  const cell = (name) => /** @type {HTMLElement} */ (row.querySelector(`.${name}`));

  const open = /** @type {HTMLButtonElement} */ (row.querySelector('button.open'));
  const time = h(
    'time',
    { dateTime: new Date(record.requestTime).toISOString() },
    formatTime(record.requestTime),
  );
  open.append(time);
  open.setAttribute('aria-haspopup', 'dialog');
  open.title = `Open record ${record.id}`;
  cell('status').append(statusBadge(record.status));
  const code = cell('code');
  // An untriggered record has no status code to show: its reason says why it did not fire.
  code.textContent = record.status === 'untriggered' ? (record.reason ?? '—') : record.statusCode;
  if (record.note) code.title = record.note;
  cell('repository').textContent = record.repository;
  cell('tag').textContent = record.tag;
  cell('tag').title = record.tag;
  cell('trigger-name').textContent = record.triggerName || record.triggerId;
  cell('trigger-filter').textContent = triggerFilterText(record);
  cell('trigger').title = `${record.triggerName} (${record.triggerId})`;
  cell('attempt').textContent = record.attempt === 0 ? '—' : String(record.attempt);
  cell('duration').textContent = formatDuration(record);
  return row;
}

function resetList() {
  state.records.clear();
  state.nextCursor = null;
  state.liveFloor = null;
  state.resumeFrom = null;
  els.rows.replaceChildren();
  els.more.hidden = true;
  els.empty.hidden = true;
}

function appendRecords(records) {
  const fragment = document.createDocumentFragment();
  for (const record of records) {
    if (!record || typeof record.id !== 'string' || state.records.has(record.id)) continue;
    state.records.set(record.id, record);
    fragment.append(renderRow(record));
  }
  els.rows.append(fragment);
}

/** Puts a live record in its place (newest first), normally the top. */
function insertLiveRecord(record) {
  state.records.set(record.id, record);
  const row = renderRow(record);
  row.classList.add('new');
  let before = els.rows.firstElementChild;
  while (before && compareIds(/** @type {HTMLElement} */ (before).dataset.id, record.id) > 0) {
    before = before.nextElementSibling;
  }
  els.rows.insertBefore(row, before);
  trimRows();
}

/** Keeps the page light while following a busy log: what drops off stays reachable. */
function trimRows() {
  let removed = false;
  while (els.rows.childElementCount > MAX_ROWS) {
    const last = /** @type {HTMLElement} */ (els.rows.lastElementChild);
    state.records.delete(last.dataset.id);
    last.remove();
    removed = true;
  }
  if (removed) {
    state.nextCursor = /** @type {HTMLElement} */ (els.rows.lastElementChild).dataset.id;
    els.more.hidden = false;
  }
}

function describeQuery(query) {
  const scope = query.repository
    ? `${query.namespace}/${query.repository}`
    : `${query.namespace} (every repository)`;
  const parts = [scope];
  if (query.trigger) parts.push(`trigger ${query.trigger}`);
  if (query.status) parts.push(STATUS[query.status]?.label.toLowerCase() ?? query.status);
  if (query.tag) parts.push(`tag ${query.tag}`);
  return parts.join(' · ');
}

function updateSummary() {
  const count = state.records.size;
  // After a refused query the error says it all: no "no records match" beside it.
  const failed = !els.message.hidden && count === 0;
  els.empty.hidden = count > 0 || state.listAbort !== null || failed;
  if (!state.query || failed) {
    if (failed) els.summary.textContent = '';
    return;
  }
  const more = state.nextCursor ? ', more below' : '';
  els.summary.textContent = `${count} record${count === 1 ? '' : 's'}${more}, newest first: ${describeQuery(state.query)}`;
}

function setBusy(busy) {
  els.table.setAttribute('aria-busy', String(busy));
  els.show.disabled = busy;
  els.more.disabled = busy;
  if (busy) els.summary.textContent = 'Loading…';
}

/** Loads the first page of `state.query` (or the next one, `older`). Resolves true on success. */
async function loadRecords({ older = false } = {}) {
  const query = state.query;
  if (!query) return false;
  if (!older) {
    state.generation++;
    state.listAbort?.abort();
    resetList();
  }
  const generation = state.generation;
  const controller = new AbortController();
  state.listAbort = controller;
  setBusy(true);
  clearMessage();
  try {
    const { body, date } = await getJson(
      recordsPath(query, older ? state.nextCursor : null),
      controller.signal,
    );
    if (generation !== state.generation) return false;
    const records = Array.isArray(body.records) ? body.records : [];
    if (!older) {
      state.loadedAt = Date.now();
      state.liveFloor = records[0]?.id ?? null;
      // Follow from a little before this answer was made: the overlap is filtered out by
      // id, and what was written between the list and the stream still arrives.
      const serverNow = date ? Date.parse(date) : Number.NaN;
      const fromClock = Number.isFinite(serverNow) ? `${Math.max(0, serverNow - CLOCK_MARGIN_MS)}-0` : null;
      state.resumeFrom = laterId(state.liveFloor, fromClock);
    }
    appendRecords(records);
    state.nextCursor = typeof body.nextCursor === 'string' ? body.nextCursor : null;
    els.more.hidden = state.nextCursor === null;
    return true;
  } catch (error) {
    if (controller.signal.aborted || generation !== state.generation) return false;
    showError(error);
    return false;
  } finally {
    if (state.listAbort === controller) {
      state.listAbort = null;
      setBusy(false);
      updateSummary();
    }
  }
}

// ---------------------------------------------------------------------------- the form

function readForm() {
  return {
    namespace: els.namespace.value.trim(),
    repository: els.repository.value.trim().replace(/^\/+|\/+$/g, ''),
    trigger: els.trigger.value.trim(),
    status: els.status.value,
    tag: els.tag.value.trim(),
  };
}

/** The first problem with the form, as [field, message], or null. */
function formProblem(query) {
  if (!currentToken()) return [els.token, 'Paste a token first: the admin token or a namespace token.'];
  if (!query.namespace) return [els.namespace, 'Enter a namespace.'];
  if (query.trigger && !query.repository) return [els.repository, 'A trigger id needs its repository.'];
  return null;
}

function writeUrl(query, recordId) {
  const params = new URLSearchParams();
  if (query) {
    params.set('ns', query.namespace);
    if (query.repository) params.set('repo', query.repository);
    if (query.trigger) params.set('trigger', query.trigger);
    if (query.status) params.set('status', query.status);
    if (query.tag) params.set('tag', query.tag);
  }
  if (recordId) params.set('record', recordId);
  const search = params.toString();
  history.replaceState(null, '', search ? `?${search}` : location.pathname);
}

async function applyForm() {
  for (const input of [els.token, els.namespace, els.repository]) input.removeAttribute('aria-invalid');
  const query = readForm();
  const problem = formProblem(query);
  if (problem) {
    const [field, text] = problem;
    field.setAttribute('aria-invalid', 'true');
    // No list stays on screen under a query that was not run.
    resetList();
    state.query = null;
    els.summary.textContent = '';
    showMessage(text);
    field.focus();
    els.follow.checked = false;
    stopFollowing();
    return false;
  }
  stopFollowing();
  state.query = query;
  els.table.classList.toggle('all-repositories', !query.repository);
  writeUrl(query, null);
  const ok = await loadRecords();
  if (ok && els.follow.checked && state.query === query) startFollowing();
  if (!ok && state.query === query) {
    els.follow.checked = false;
    setLiveState('off');
  }
  return ok;
}

// ---------------------------------------------------------------------------- messages

function clearMessage() {
  els.message.hidden = true;
  els.message.replaceChildren();
}

function showMessage(text, errors = []) {
  els.message.replaceChildren(h('strong', {}, 'Error: '), text);
  // A problem's detail often is its one error already ("path.ns: namespace must be …").
  errors = errors.filter((e) => !text.includes(`${e.path ? `${e.path}: ` : ''}${e.message ?? ''}`));
  if (errors.length > 0) {
    els.message.append(
      h(
        'ul',
        {},
        errors.map((e) => h('li', {}, e.path ? `${e.path}: ` : '', String(e.message ?? ''))),
      ),
    );
  }
  els.message.hidden = false;
}

function showError(error) {
  if (error instanceof ApiError) {
    const detail = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
    const hint = error.status === 401 ? ' Check the token.' : '';
    showMessage(`${detail}${hint}`, error.errors);
  } else {
    showMessage(error instanceof Error ? error.message : String(error));
  }
}

/** Tells screen readers about live records, a second's worth at a time. */
function announce(record) {
  state.announcements.push(record);
  if (state.announceTimer) return;
  state.announceTimer = window.setTimeout(() => {
    const batch = state.announcements;
    state.announcements = [];
    state.announceTimer = 0;
    const first = batch[0];
    els.announcer.textContent =
      batch.length === 1 && first
        ? `New record: ${STATUS[first.status]?.label ?? first.status}, tag ${first.tag}, trigger ${first.triggerName}.`
        : `${batch.length} new records.`;
  }, 1000);
}

// ---------------------------------------------------------------------------- live tail

function setLiveState(kind, text) {
  const texts = {
    off: 'Not following',
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
  };
  els.liveState.dataset.state = kind;
  els.liveText.textContent = text ?? texts[kind];
}

function stopFollowing() {
  state.followAbort?.abort();
  state.followAbort = null;
  setLiveState('off');
}

function startFollowing() {
  stopFollowing();
  const query = state.query;
  if (!query) return;
  const controller = new AbortController();
  state.followAbort = controller;
  void follow(query, controller.signal);
}

function matchesQuery(record, query) {
  return (
    record.namespace === query.namespace &&
    (!query.repository || record.repository === query.repository) &&
    (!query.trigger || record.triggerId === query.trigger) &&
    (!query.status || record.status === query.status) &&
    (!query.tag || record.tag === query.tag)
  );
}

function onLiveRecord(record, query) {
  if (state.query !== query || !record || typeof record.id !== 'string') return;
  if (state.records.has(record.id)) return;
  if (state.liveFloor !== null && compareIds(record.id, state.liveFloor) <= 0) return;
  if (!matchesQuery(record, query)) return;
  insertLiveRecord(record);
  updateSummary();
  announce(record);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Follows `GET /v1/namespaces/{ns}/records/stream` until `signal` aborts. EventSource
 * cannot send an Authorization header, so this reads the stream with fetch and parses
 * Server-Sent Events itself, resuming with Last-Event-ID after every break.
 */
async function follow(query, signal) {
  let lastEventId = state.resumeFrom;
  let retryMs = 2000;
  let failures = 0;
  while (!signal.aborted) {
    setLiveState(failures === 0 ? 'connecting' : 'reconnecting');
    const connection = new AbortController();
    const abortConnection = () => connection.abort();
    signal.addEventListener('abort', abortConnection, { once: true });
    let watchdog = 0;
    const feedWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = window.setTimeout(abortConnection, STREAM_SILENCE_MS);
    };
    let waitMs = 0;
    try {
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      feedWatchdog();
      const response = await fetch(`/v1/namespaces/${enc(query.namespace)}/records/stream`, {
        headers,
        cache: 'no-store',
        signal: connection.signal,
      });
      if (!response.ok) {
        const problem = await problemOf(response);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (response.status === 429 || response.status >= 500) {
          waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0;
          throw problem;
        }
        // A bad token or namespace will not get better by retrying.
        if (!signal.aborted) {
          showError(problem);
          els.follow.checked = false;
          stopFollowing();
        }
        return;
      }
      if (!response.body) throw new Error('the stream has no body');
      failures = 0;
      setLiveState('live');
      await readServerSentEvents(response.body, {
        onActivity: feedWatchdog,
        onId: (id) => {
          lastEventId = id;
        },
        onRetry: (ms) => {
          retryMs = ms;
        },
        onEvent: (type, data) => {
          if (type !== 'message') return;
          try {
            onLiveRecord(JSON.parse(data), query);
          } catch {
            // one malformed event must not end the tail
          }
        },
      });
    } catch {
      // network error, server restart or a silent connection: reconnect below
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', abortConnection);
      connection.abort();
    }
    if (signal.aborted) return;
    failures++;
    setLiveState('reconnecting');
    const backoff = Math.min(30_000, retryMs * 2 ** Math.min(failures - 1, 4));
    await sleep(Math.max(waitMs, backoff * (0.75 + Math.random() * 0.5)), signal);
  }
}

/** The event-stream parser of the HTML standard, fed from a fetch body. */
async function readServerSentEvents(body, handlers) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  let type = '';
  let idBuffer = null;

  const processLine = (line) => {
    if (line === '') {
      if (idBuffer !== null) handlers.onId(idBuffer);
      if (data.length > 0) handlers.onEvent(type || 'message', data.join('\n'));
      data = [];
      type = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) handlers.onRetry(Number(value));
  };

  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      handlers.onActivity();
      buffer += value;
      let start = 0;
      for (;;) {
        const cr = buffer.indexOf('\r', start);
        const lf = buffer.indexOf('\n', start);
        if (cr === -1 && lf === -1) break;
        let end;
        let next;
        if (lf !== -1 && (cr === -1 || lf < cr)) {
          end = lf;
          next = lf + 1;
        } else {
          // A CR at the very end may be the first half of CRLF: wait for the next chunk.
          if (cr === buffer.length - 1) break;
          end = cr;
          next = buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        }
        processLine(buffer.slice(start, end));
        start = next;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
  }
}

// ---------------------------------------------------------------------------- details

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

function bodyBlock(text, label, { truncatedAt } = {}) {
  if (!text) return h('p', { className: 'none' }, 'Empty body.');
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: show it as it came
  }
  const truncated = truncatedAt && new TextEncoder().encode(text).length >= truncatedAt - 3;
  return [
    h('pre', { className: 'body', tabIndex: 0, role: 'region', 'aria-label': label }, shown),
    truncated ? h('p', { className: 'none' }, `Only the first ${truncatedAt / 1024} KiB are kept.`) : null,
  ];
}

function responseBlock(record, sent) {
  if (!sent) return h('p', { className: 'none' }, 'No request was sent, so there is no response.');
  const answered = /^\d{3}$/.test(record.statusCode);
  const headers = record.responseHeaders ?? {};
  if (!answered && Object.keys(headers).length === 0 && !record.responseBody) {
    return h('p', { className: 'none' }, `No response was received (${record.statusCode}).`);
  }
  return [
    h('h4', {}, 'Headers'),
    headersTable(headers, 'Response headers'),
    h('h4', {}, 'Body'),
    bodyBlock(record.responseBody, 'Response body', { truncatedAt: 4096 }),
  ];
}

function fact(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

function renderDetail(record) {
  const mono = (text) => h('span', { className: 'mono' }, text);
  const sent = wasSent(record);
  const notSent =
    record.status === 'untriggered'
      ? `Not sent: the trigger does not fire for tag ${record.tag}.`
      : `Not sent${record.note ? `: ${record.note}` : '.'}`;
  els.dialogTitle.replaceChildren(
    statusBadge(record.status),
    h('span', {}, `${record.triggerName || 'Trigger'} · ${record.tag}`),
  );
  const showTrigger = h(
    'button',
    { type: 'button', className: 'secondary', id: 'detail-filter-trigger' },
    'Show only this trigger',
  );
  showTrigger.addEventListener('click', () => {
    els.namespace.value = record.namespace;
    els.repository.value = record.repository;
    els.trigger.value = record.triggerId;
    els.dialog.close();
    void applyForm();
  });

  els.dialogBody.replaceChildren(
    record.note ? h('p', { className: 'note' }, h('strong', {}, 'Note: '), record.note) : '',
    h(
      'dl',
      { className: 'facts' },
      fact('Status', `${STATUS[record.status]?.label ?? record.status}, code `, mono(record.statusCode)),
      record.reason ? fact('Reason', mono(record.reason)) : null,
      fact(
        'Time',
        h('time', { dateTime: new Date(record.requestTime).toISOString() }, formatTime(record.requestTime)),
        h('span', { className: 'muted nowrap' }, ` (${new Date(record.requestTime).toISOString()})`),
      ),
      fact('Attempt', record.attempt === 0 ? 'none (nothing was sent)' : String(record.attempt)),
      fact('Duration', formatDuration(record)),
      fact('Repository', mono(`${record.namespace}/${record.repository}`)),
      fact('Tag', mono(record.tag)),
      fact('Digest', mono(record.digest)),
      fact(
        'Trigger',
        `${record.triggerName} `,
        h('span', { className: 'muted' }, `(${triggerFilterText(record)})`),
      ),
      fact('Trigger id', mono(record.triggerId)),
      fact('URL', mono(record.triggerUrl)),
      fact('Event id', mono(record.eventId)),
      fact('Delivery id', record.deliveryId ? mono(record.deliveryId) : 'none (nothing was sent)'),
      fact('Record id', mono(record.id)),
    ),
    h('p', {}, showTrigger),
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

function openRecord(record) {
  renderDetail(record);
  writeUrl(state.query, record.id);
  if (!els.dialog.open) els.dialog.showModal();
  els.dialogClose.focus();
}

/** A link with ?record=<id> opens that record, fetched by id. */
async function openRecordById(namespace, id) {
  try {
    const { body } = await getJson(`/v1/namespaces/${enc(namespace)}/records/${enc(id)}`);
    openRecord(body);
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------------------- wiring

function start() {
  els.token.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const params = new URLSearchParams(location.search);
  els.namespace.value = params.get('ns') ?? '';
  els.repository.value = params.get('repo') ?? '';
  els.trigger.value = params.get('trigger') ?? '';
  els.tag.value = params.get('tag') ?? '';
  const status = params.get('status') ?? '';
  if (STATUS[status]) els.status.value = status;

  els.token.addEventListener('input', () => {
    const token = currentToken();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  });
  els.forget.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    els.token.value = '';
    els.follow.checked = false;
    stopFollowing();
    els.token.focus();
  });

  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void applyForm();
  });
  // The status filter applies at once; text fields apply on Enter or "Show log".
  els.status.addEventListener('change', () => {
    if (state.query) void applyForm();
  });
  els.follow.addEventListener('change', () => {
    if (!els.follow.checked) {
      stopFollowing();
      return;
    }
    const query = readForm();
    const sameQuery = state.query && JSON.stringify(query) === JSON.stringify(state.query);
    if (!sameQuery || Date.now() - state.loadedAt > STALE_LIST_MS) void applyForm();
    else startFollowing();
  });
  els.more.addEventListener('click', () => {
    if (state.nextCursor) void loadRecords({ older: true });
  });

  els.rows.addEventListener('click', (event) => {
    const row = /** @type {HTMLElement} */ (event.target).closest('tr');
    if (!row?.dataset.id) return;
    // Selecting text in a row is not a request to open it.
    if (
      event.target instanceof HTMLElement &&
      !event.target.closest('button') &&
      getSelection()?.toString()
    ) {
      return;
    }
    const record = state.records.get(row.dataset.id);
    if (record) openRecord(record);
  });

  els.dialogClose.addEventListener('click', () => els.dialog.close());
  els.dialog.addEventListener('click', (event) => {
    if (event.target === els.dialog) els.dialog.close(); // a click on the backdrop
  });
  els.dialog.addEventListener('close', () => writeUrl(state.query, null));

  const recordId = params.get('record');
  if (currentToken() && els.namespace.value.trim()) {
    void applyForm().then(() => {
      if (recordId) void openRecordById(els.namespace.value.trim(), recordId);
    });
  } else {
    (currentToken() ? els.namespace : els.token).focus();
  }
}

start();
