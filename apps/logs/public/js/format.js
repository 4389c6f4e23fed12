// @ts-check
/** How records look: status words beside their colours, local times, durations. */
import { h } from './dom.js';

/** @type {Record<string, { label: string, glyph: string }>} */
export const STATUS = {
  succeeded: { label: 'Succeeded', glyph: '✓' },
  retrying: { label: 'Retrying', glyph: '↻' },
  failed: { label: 'Failed', glyph: '✕' },
  untriggered: { label: 'Untriggered', glyph: '–' },
  superseded: { label: 'Superseded', glyph: '⤳' },
};

/** @param {number} n @param {number} [width] */
const pad = (n, width = 2) => String(n).padStart(width, '0');

/** @param {number} ms */
export function formatTime(ms) {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** A time element for an epoch-ms value, or a dash. @param {number | null | undefined} ms */
export function timeElement(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  return h('time', { dateTime: new Date(ms).toISOString() }, formatTime(ms));
}

/** Whether a request went out: untriggered records and disabled triggers send nothing. @param {import('./types.js').AccessRecord} record */
export function wasSent(record) {
  return (
    record.status !== 'untriggered' &&
    (Object.keys(record.requestHeaders ?? {}).length > 0 || !!record.requestBody)
  );
}

/** @param {import('./types.js').AccessRecord} record */
export function formatDuration(record) {
  if (record.attempt === 0 || !wasSent(record)) return '—';
  const ms = Number(record.durationMs) || 0;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** @param {{ triggerType?: string, triggerTag?: string, type?: string, tags?: string[], expression?: string }} item */
export function filterText(item) {
  const type = item.triggerType ?? item.type;
  if (type === 'ALL') return 'all tags';
  if (type === 'TAG_LIST') return `tags ${item.triggerTag ?? (item.tags ?? []).join(', ')}`;
  return `/${item.triggerTag ?? item.expression ?? ''}/`;
}

/** @param {string} status */
export function statusBadge(status) {
  const known = STATUS[status] ?? { label: String(status), glyph: '?' };
  return h(
    'span',
    { className: `badge ${STATUS[status] ? status : ''}` },
    h('span', { className: 'glyph', 'aria-hidden': 'true' }, known.glyph),
    known.label,
  );
}

/** Record ids are Redis stream ids, `<ms>-<seq>`: compare them as numbers, exactly. @param {string} a @param {string} b */
export function compareIds(a, b) {
  const [am = '', as = ''] = a.split('-');
  const [bm = '', bs = ''] = b.split('-');
  /** @param {string} x @param {string} y */
  const digits = (x, y) => x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  return digits(am, bm) || digits(as, bs);
}

/** @param {string | null} a @param {string | null} b */
export const laterId = (a, b) => (a === null ? b : b === null ? a : compareIds(a, b) >= 0 ? a : b);
