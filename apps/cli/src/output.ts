/** How results are printed: aligned columns for people, JSON for scripts (--json). */

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  // Control characters (a header value, a response body) must not move the terminal's cursor.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return String(value).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** An epoch-ms time as people read it, in UTC. */
export const time = (ms: number | null | undefined) =>
  typeof ms === 'number' ? new Date(ms).toISOString().replace('.000Z', 'Z') : undefined;

export interface Output {
  json: boolean;
  /** A list: a table, or its JSON as the API answered it. */
  list<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>, raw?: unknown): void;
  /** One object: field per line, or its JSON. */
  one(value: object): void;
  /** A line for people; with --json, `raw` instead (when given). */
  message(text: string, raw?: unknown): void;
}

export function createOutput(
  json: boolean,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Output {
  const printJson = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);
  return {
    json,
    list(rows, columns, raw) {
      if (json) printJson(raw ?? rows);
      else write(`${formatTable(rows, columns)}\n`);
    },
    one(value) {
      if (json) {
        printJson(value);
        return;
      }
      const entries = Object.entries(value);
      const width = Math.max(...entries.map(([name]) => name.length));
      write(`${entries.map(([name, field]) => `${name.padEnd(width)}  ${cell(field)}`).join('\n')}\n`);
    },
    message(text, raw) {
      if (json) {
        if (raw !== undefined) printJson(raw);
      } else write(`${text}\n`);
    },
  };
}
