/** The results as a console table, bench/results/latest.json and bench/results/latest.md. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, RowResult } from './context.js';
import type { MachineInfo } from './machine.js';

export interface BenchReport {
  machine: MachineInfo;
  options: BenchOptions;
  /** Settings passed to the apps with --env (experiments only). */
  extraEnv: Record<string, string>;
  durationSeconds: number;
  loadAverageAtEnd: number[];
  rows: RowResult[];
  coreMatch: { command: string; output: string } | null;
  warnings: string[];
}

const verdict = (met: boolean | null) => (met === null ? '-' : met ? 'met' : 'MISSED');

export function printTable(rows: RowResult[]): void {
  console.table(
    rows.map((row) => ({
      figure: row.figure.length > 70 ? `${row.figure.slice(0, 67)}...` : row.figure,
      value: row.value,
      baseline: row.baseline,
      ratio: row.ratio ?? '',
      target: row.target,
      result: verdict(row.met),
    })),
  );
}

/** A value inside a Markdown table cell. */
export const cell = (value: unknown) => String(value ?? '').replaceAll('|', '\\|');

function roundsTable(rounds: RowResult['rounds']): string {
  if (rounds.length === 0) return '';
  const columns = [...new Set(rounds.flatMap((round) => Object.keys(round)))];
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rounds.map((round) => `| ${columns.map((c) => cell(round[c])).join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(report: BenchReport): string {
  const { machine, options } = report;
  const lines = [
    '# Benchmark results (`npm run bench`)',
    '',
    `- date: ${machine.date}; commit ${machine.commit}; ${options.quick ? '**quick** run' : 'full run'}, ${options.rounds} round(s), phases of ${options.warmupMs / 1000} s warm-up + ${options.windowMs / 1000} s measured; total ${Math.round(report.durationSeconds)} s`,
    `- machine: ${machine.nproc} cores (nproc), ${machine.cpuModel}, ${machine.memoryGiB} GiB; node ${machine.node}; redis-server ${machine.redis}`,
    `- product code: commit ${machine.commit}${machine.dirtyFiles.length > 0 ? ` plus uncommitted changes (other engineers' work in progress) in ${machine.dirtyFiles.map((f) => `\`${f}\``).join(', ')}` : ', clean'}`,
    ...(Object.keys(report.extraEnv).length > 0
      ? [
          `- **experiment**: apps started with ${Object.entries(report.extraEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    `- load average at start ${machine.loadAverageAtStart.join(' / ')}, at end ${report.loadAverageAtEnd.join(' / ')} (other engineers' tests share the 2 cores: absolute numbers are noisy, hence ratios against a baseline measured in the same round)`,
    '',
    '| # | figure | value (median) | baseline, same run | ratio (median of rounds) | target | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...report.rows.map(
      (row, i) =>
        `| ${i + 1} | ${cell(row.figure)} | ${cell(row.value)} | ${cell(row.baseline)} | ${row.ratio ?? '-'} | ${cell(row.target)} | ${verdict(row.met)} |`,
    ),
    '',
  ];
  if (report.warnings.length > 0) lines.push('Warnings:', '', ...report.warnings.map((w) => `- ${w}`), '');
  lines.push('## Rounds and evidence', '');
  for (const row of report.rows) {
    lines.push(`### ${row.id}: ${row.figure}`, '');
    const table = roundsTable(row.rounds);
    if (table) lines.push(table, '');
    for (const note of row.notes ?? []) lines.push(`- ${note}`);
    if (row.notes?.length) lines.push('');
    if (row.details) lines.push('```json', JSON.stringify(row.details, null, 2), '```', '');
  }
  if (report.coreMatch) {
    lines.push(
      '## core-match micro-benchmark',
      '',
      `\`${report.coreMatch.command}\``,
      '',
      '```',
      report.coreMatch.output.trimEnd(),
      '```',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes a run's report beside `resultsDir` (a `results/` folder URL): `latest.{json,md}` for
 * a full run, `tmp/partial.*` (git-ignored) for any other.
 */
export function writeResultFiles(
  resultsDir: URL,
  report: unknown,
  markdown: string,
  partial: boolean,
): { json: string; md: string } {
  const dir = fileURLToPath(partial ? new URL('tmp/', resultsDir) : resultsDir);
  mkdirSync(dir, { recursive: true });
  const name = partial ? 'partial' : 'latest';
  const json = `${dir}${name}.json`;
  const md = `${dir}${name}.md`;
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown);
  return { json, md };
}

/** Full runs write bench/results/latest.*; partial ones bench/results/tmp/partial.* (git-ignored). */
export function writeReport(report: BenchReport, partial: boolean): { json: string; md: string } {
  return writeResultFiles(new URL('../results/', import.meta.url), report, renderMarkdown(report), partial);
}
