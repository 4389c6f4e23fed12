// Last-resort cleanup: a test that throws, times out or is interrupted must not leave
// servers running or temp dirs behind, so everything we start is registered here and
// killed synchronously when this process exits, whatever the reason.
import { rmSync } from 'node:fs';

interface TrackedProcess {
  /** true: the pid leads its own process group and the whole group is killed. */
  group: boolean;
}

const processes = new Map<number, TrackedProcess>();
const dirs = new Set<string>();
let installed = false;

export function trackProcess(pid: number, options: { group: boolean }): void {
  install();
  processes.set(pid, { group: options.group });
}

export function untrackProcess(pid: number): void {
  processes.delete(pid);
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/** Kills every tracked process and removes every tracked dir, synchronously. */
export function cleanupNow(): void {
  for (const [pid, { group }] of processes) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  processes.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: the process is exiting anyway
    }
  }
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  // A listener replaces Node's default "terminate on signal", so after cleaning up we
  // re-raise the signal when nobody else (the test runner, say) handles it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
