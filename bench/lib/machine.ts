/** What the numbers were measured on: they only mean something next to this. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  loadAverageAtStart: number[];
  commit: string;
  /** Product files with uncommitted changes when the run started (other engineers at work). */
  dirtyFiles: string[];
}

function firstMatch(path: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(readFileSync(path, 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** `git status --porcelain` lines are "XY path": read them untrimmed, or the first loses a letter. */
function dirtyProductFiles(): string[] {
  try {
    const output = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'packages'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output
      .split('\n')
      .filter((line) => line.length > 3)
      .map((line) => line.slice(3));
  } catch {
    return [];
  }
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: firstMatch('/proc/cpuinfo', /^model name\s*:\s*(.+)$/m) ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: /v=(\S+)/.exec(run('redis-server', ['--version']))?.[1] ?? 'unknown',
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    commit: run('git', ['rev-parse', '--short', 'HEAD']),
    dirtyFiles: dirtyProductFiles(),
  };
}

/** Resident set size of a process in MiB, from /proc (undefined once it has exited). */
export function rssMiB(pid: number): number | undefined {
  const kb = firstMatch(`/proc/${pid}/status`, /^VmRSS:\s*(\d+)\s*kB$/m);
  return kb === undefined ? undefined : Number(kb) / 1024;
}

/** CPU seconds (user + system) a process has used, from /proc; undefined once it has exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = Number(run('getconf', ['CLK_TCK'])) || 100;

/** The pid of the redis-server listening on `port`, found by its command line. */
export function redisServerPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // redis-server rewrites its title to "redis-server 127.0.0.1:<port>".
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (/redis-server/.test(cmdline) && new RegExp(`[: ]${port}\\b`).test(cmdline)) return Number(entry);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

/** CPU seconds of each named process, plus this one (the load generator) as `generator`. */
export function cpuOf(pids: Record<string, number>): Record<string, number> {
  const usage: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = cpuSeconds(pid);
    if (seconds !== undefined) usage[name] = seconds;
  }
  const self = process.cpuUsage();
  usage.generator = (self.user + self.system) / 1e6;
  return usage;
}
