/**
 * `npm run faults -- [--short] [--only=redis-kill-always,worker-sigkill,...]`
 *
 * Starts its own redis-server (append-only file on), two apis, two workers and the logs
 * app as real processes, the receivers in a process of their own, and runs every scenario
 * of faults/README.md in turn: a steady push rate, one fault, a drain, the account. A full
 * run writes faults/results/latest.{json,md}; `--short` or `--only` write
 * faults/results/tmp/partial.* (git-ignored).
 */
import { loadavg } from 'node:os';
import { machineInfo } from '../bench/lib/machine.js';
import { nowMs } from '../bench/lib/protocol.js';
import { type FaultReport, tableRows, writeReport } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { FaultSuite, FULL, SCENARIO_IDS, type ScenarioId, SHORT } from './lib/suite.js';

const args = process.argv.slice(2);
const short = args.includes('--short');
const onlyArg = args.find((arg) => arg.startsWith('--only='));
const only = onlyArg ? (onlyArg.slice('--only='.length).split(',') as ScenarioId[]) : [...SCENARIO_IDS];
for (const id of only) {
  if (!SCENARIO_IDS.includes(id))
    throw new Error(`unknown scenario ${id}; known: ${SCENARIO_IDS.join(', ')}`);
}
const partial = short || only.length !== SCENARIO_IDS.length;

const started = nowMs();
const log = (line: string) => {
  const seconds = ((nowMs() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[faults ${seconds}s] ${line}`);
};

async function main(): Promise<void> {
  const machine = machineInfo();
  const params = short ? SHORT : FULL;
  log(
    `${short ? 'short' : 'full'} run on ${machine.nproc} x ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const suite = await FaultSuite.start(params, log);
  const scenarios: ScenarioResult[] = [];
  try {
    for (const id of SCENARIO_IDS.filter((candidate) => only.includes(candidate))) {
      scenarios.push(await suite.run(id));
    }
  } finally {
    await suite.stop();
  }
  const report: FaultReport = {
    machine,
    params,
    durationSeconds: (nowMs() - started) / 1000,
    loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    scenarios,
  };
  console.log(tableRows(scenarios).join('\n'));
  const { json, md } = writeReport(report, partial);
  log(`wrote ${json} and ${md} in ${Math.round(report.durationSeconds)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
