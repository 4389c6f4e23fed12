// Spawning helpers shared by every server we start: output kept in memory for error
// messages, registration for last-resort cleanup, and stop-with-deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { trackProcess, untrackProcess } from './cleanup.js';
import { startupDeadline } from './startup-deadline.js';
import { waitFor, withTimeout } from './wait.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedChild {
  readonly pid: number;
  /** Leads its own process group: signals for "the whole thing" go to the group. */
  readonly group: boolean;
  readonly child: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** The exit status once the process has exited, else undefined. */
  exitStatus(): ExitStatus | undefined;
  /** stdout and stderr lines in arrival order (the oldest are dropped past `maxLines`). */
  output(): string[];
  /** Calls `listener` for every later line; returns an unsubscribe function. */
  onLine(listener: (line: string) => void): () => void;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * true: the child leads a new process group (so a wrapper such as npm and the node
   * process it starts can be signalled together) and the group is killed when the leader
   * exits. false: an ordinary child.
   */
  group?: boolean;
  maxLines?: number;
}

export async function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<TrackedChild> {
  const group = options.group ?? false;
  const maxLines = options.maxLines ?? 5000;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: group,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'spawn' or 'error' (ENOENT, EACCES) always comes first.
  await once(child, 'spawn');
  const pid = child.pid!;
  trackProcess(pid, { group });

  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      lines.push(line);
      if (lines.length > maxLines) lines.shift();
      for (const listener of listeners) listener(line);
    });
  }

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      if (group) killGroup(pid, 'SIGKILL'); // nothing the wrapper started may outlive it
      untrackProcess(pid);
      resolve(status);
    });
  });

  return {
    pid,
    group,
    child,
    exited,
    exitStatus: () => status,
    output: () => [...lines],
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Sends `signal` (to `target`, default the child, or its whole group) and waits up to
 * `timeoutMs` for the exit; past the deadline the child (or group) gets SIGKILL.
 * Resolves with the exit status, or null when SIGKILL was needed.
 */
export async function stopChild(
  tracked: TrackedChild,
  options: { signal?: NodeJS.Signals; timeoutMs?: number; target?: number } = {},
): Promise<ExitStatus | null> {
  const { signal = 'SIGTERM', timeoutMs = 10_000 } = options;
  const done = tracked.exitStatus();
  if (done) return done;
  const everything = tracked.group ? -tracked.pid : tracked.pid;
  sendSignal(options.target ?? everything, signal);
  try {
    return await withTimeout(tracked.exited, timeoutMs, `pid ${tracked.pid} to exit after ${signal}`);
  } catch {
    sendSignal(everything, 'SIGKILL');
    await tracked.exited;
    return null;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  sendSignal(-pgid, signal);
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone
  }
}

/** The last `count` lines, as one block for an error message. */
export function tail(lines: readonly string[], count = 50): string {
  return lines.slice(-count).join('\n');
}

export interface ReadinessWait {
  /** The process, for messages, e.g. "api" or "redis-server on port 6380". */
  label: string;
  /** What readiness is, with the last answer seen, e.g. "GET …/readyz answering 200 (last: 503)". */
  awaiting: () => string;
  /** Default: what the running hook leaves (startup-deadline.ts). */
  timeoutMs?: number;
}

/**
 * Polls `check` until it is true, giving up at once if the process exits. The deadline
 * follows the hook the start runs in, not a fixed guess. On failure the process is killed
 * (it is of no use half started) and the error names it, what it waited for, and carries
 * its last lines.
 */
export async function waitUntilReady(
  tracked: TrackedChild,
  check: () => Promise<boolean>,
  options: ReadinessWait,
): Promise<void> {
  const deadline =
    options.timeoutMs === undefined
      ? startupDeadline()
      : { timeoutMs: options.timeoutMs, reason: 'the timeout the caller gave' };
  const exitedEarly = new AbortController();
  void tracked.exited.then(() => exitedEarly.abort());
  try {
    await waitFor(check, {
      timeoutMs: deadline.timeoutMs,
      intervalMs: 50,
      message: options.label,
      signal: exitedEarly.signal,
    });
  } catch {
    const status = tracked.exitStatus();
    await stopChild(tracked, { signal: 'SIGKILL', timeoutMs: 5000 });
    const what = `${options.label} (pid ${tracked.pid})`;
    const reason = status
      ? `${what} exited before it was ready (code ${status.code}, signal ${status.signal})`
      : `${what} did not become ready within ${deadline.timeoutMs} ms (${deadline.reason})`;
    throw new Error(
      `${reason}, waiting for ${options.awaiting()}\n--- last output ---\n${tail(tracked.output())}`,
    );
  }
}
