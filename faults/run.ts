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
import { parseOnly, runMain, stampedLog } from '../bench/lib/cli.js';
import { machineInfo } from '../bench/lib/machine.js';
import { nowMs } from '../bench/lib/protocol.js';
import { type FaultReport, tableRows, writeReport } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { FaultSuite, FULL, SCENARIO_IDS, type ScenarioId, SHORT } from './lib/suite.js';

const args = process.argv.slice(2);
const short = args.includes('--short');
const only: ScenarioId[] = parseOnly(args, SCENARIO_IDS);
const partial = short || only.length !== SCENARIO_IDS.length;

const started = nowMs();
const log = stampedLog('faults', started);

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

runMain(main);
