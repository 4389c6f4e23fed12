import { describe, expect, it } from 'vitest';
import { createOutput, formatTable } from './output.js';

describe('output', () => {
  it('aligns a table under upper-case headers, with - for what is missing', () => {
    const rows = [
      { id: 'a', tags: ['v1', 'v2'], note: undefined },
      { id: 'longer-id', tags: [], note: 'x' },
    ];
    expect(
      formatTable(rows, [
        { header: 'id', value: (r) => r.id },
        { header: 'tags', value: (r) => r.tags },
        { header: 'note', value: (r) => r.note },
      ]),
    ).toBe(['ID         TAGS   NOTE', 'a          v1,v2  -', 'longer-id         x'].join('\n'));
  });

  it('keeps control characters of a value off the terminal', () => {
    expect(formatTable([{ v: 'a\u001b[2Jb\nc' }], [{ header: 'v', value: (r) => r.v }])).toBe('V\na [2Jb c');
  });

  it('prints the API answer as JSON with --json', () => {
    let text = '';
    const out = createOutput(true, (chunk) => {
      text += chunk;
    });
    out.list([{ a: 1 }], [{ header: 'a', value: (r) => r.a }], { items: [{ a: 1 }], nextCursor: null });
    expect(JSON.parse(text)).toEqual({ items: [{ a: 1 }], nextCursor: null });
  });
});
