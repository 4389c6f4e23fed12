/**
 * Runs the real `registry-triggers` command as a user does, in a child process from the
 * checkout, with its own config directory and none of the caller's REGISTRY_TRIGGERS_*.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@registry-triggers/testing';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles when the command has exited (killed at its deadline). */
  readonly done: Promise<CliResult>;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string>;
  /** Killed after this long (default 30 s): a command that hangs fails its test, not the run. */
  timeoutMs?: number;
}

export interface Cli {
  readonly configHome: string;
  /** Starts a command and returns at once (for `records tail`). */
  start(args: string[], options?: CliOptions): CliRun;
  run(args: string[], options?: CliOptions): Promise<CliResult>;
  cleanup(): void;
}

const BIN = join(repoRoot, 'apps/cli/bin/registry-triggers.mjs');

export function createCli(): Cli {
  const configHome = mkdtempSync(join(tmpdir(), 'registry-triggers-cli-'));
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_TRIGGERS_')),
  ) as Record<string, string>;
  const start = (args: string[], options: CliOptions = {}): CliRun => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: repoRoot,
      env: { ...baseEnv, XDG_CONFIG_HOME: configHome, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin!.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    const done = new Promise<CliResult>((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    return { child, stdout: () => stdout, stderr: () => stderr, done };
  };
  return {
    configHome,
    start,
    run: (args, options) => start(args, options).done,
    cleanup: () => rmSync(configHome, { recursive: true, force: true }),
  };
}
