/** faults/results/latest.{json,md} (a full run) or faults/results/tmp/partial.* (any other). */
import type { MachineInfo } from '../../bench/lib/machine.js';
import { cell, writeResultFiles } from '../../bench/lib/report.js';
import type { ScenarioResult, SuiteParams } from './scenario.js';

export interface FaultReport {
  machine: MachineInfo;
  params: SuiteParams;
  durationSeconds: number;
  loadAverageAtEnd: number[];
  scenarios: ScenarioResult[];
}

const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([status]) => status !== '202')
    .map(([status, n]) => `${status === '0' ? 'no answer' : status} x${n}`)
    .join(', ') || 'none';

export function tableRows(scenarios: ScenarioResult[]): string[] {
  return [
    '| scenario | expectation | accepted | expected | delivered | failed | lost | duplicated | api errors during the fault | recover | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...scenarios.map(
      (r) =>
        `| ${cell(r.title)} | ${cell(r.expectation)} | ${r.accepted} | ${r.expected} | ${r.delivered} | ${r.failed}${r.retrying ? ` (+${r.retrying} retrying)` : ''}${r.pending ? ` (+${r.pending} still queued)` : ''} | ${r.lost} | ${r.duplicated} | ${cell(statuses(r.answersDuringFault))} | ${r.recoverS === null ? 'n/a' : `${r.recoverS} s`} | ${r.met ? 'met' : '**MISSED**'} |`,
    ),
  ];
}

export function renderMarkdown(report: FaultReport): string {
  const { machine, params } = report;
  const lines = [
    '# Fault suite results (`npm run faults`)',
    '',
    `- date: ${machine.date}; commit ${machine.commit}; ${params.short ? '**short** run' : 'full run'}: ${params.rate} pushes/s, ${params.preMs / 1000} s before each fault, ${params.postMs / 1000} s after, drains until the queues are empty (giving up after ${params.drainMs / 1000} s without progress); total ${Math.round(report.durationSeconds)} s`,
    `- machine: ${machine.nproc} cores (nproc), ${machine.cpuModel}, ${machine.memoryGiB} GiB; node ${machine.node}; redis-server ${machine.redis}`,
    `- product code: commit ${machine.commit}${machine.dirtyFiles.length > 0 ? ` plus uncommitted changes in ${machine.dirtyFiles.map((f) => `\`${f}\``).join(', ')}` : ', clean'}`,
    `- load average at start ${machine.loadAverageAtStart.join(' / ')}, at end ${report.loadAverageAtEnd.join(' / ')} (the 2 cores are shared with other jobs)`,
    '',
    ...tableRows(report.scenarios),
    '',
    "lost: accepted (202), never answered 2xx by its receiver, no final `failed` record. duplicated: a webhook-id received again after a 2xx answer. recover: from the fault's end until the api took the offered rate again and the backlog was under one second of deliveries.",
    '',
    '## Scenarios',
    '',
  ];
  for (const r of report.scenarios) {
    lines.push(
      `### ${r.id}: ${r.title}`,
      '',
      `Expectation: ${r.expectation}. Result: ${r.met ? 'met' : '**MISSED**'}.`,
      '',
    );
    for (const note of r.notes) lines.push(`- ${note}`);
    lines.push(
      `- ${r.pushes} pushes in ${r.durationS} s (fault ${r.faultS} s), ${r.accepted} accepted; answers during the fault: ${JSON.stringify(r.answersDuringFault)} (answer time p50 ${r.answerMsDuringFault.p50} / p99 ${r.answerMsDuringFault.p99} / max ${r.answerMsDuringFault.max} ms); non-202 outside it: ${JSON.stringify(r.errorsOutsideFault)}`,
      `- deliveries of events not answered 202 (Redis took the write before the api gave up): ${r.deliveredUnacknowledged}; push -> delivery p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
      `- moments (s from the load's start): ${JSON.stringify(r.marks)}`,
      '',
      '```json',
      JSON.stringify(r.details, null, 2),
      '```',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function writeReport(report: FaultReport, partial: boolean): { json: string; md: string } {
  return writeResultFiles(new URL('../results/', import.meta.url), report, renderMarkdown(report), partial);
}
