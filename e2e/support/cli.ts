/**
 * Runs the real `registry-triggers` command as a user does, in a child process, with its own
 * config directory and none of the caller's REGISTRY_TRIGGERS_*.
 *
 * The command runs as a built package runs it: its sources bundled once into one file (as
 * `npm run build` makes dist/ for an installed package, here with esbuild into the config
 * directory, never into the checkout). In the checkout the bin loads the TypeScript through
 * tsx, about 0.5 s of CPU a command on two busy cores against 0.1 s; a suite runs some fifty
 * commands. `E2E_CLI=checkout` runs every command through the checkout's bin instead (the
 * suite's first test always does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@registry-triggers/testing';
import { build } from 'esbuild';

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

/** The CLI's sources as one ES module under `dir`, built from the checkout as it is now. */
async function bundleCli(dir: string): Promise<string> {
  const outfile = join(dir, 'registry-triggers.mjs');
  await build({
    entryPoints: [join(repoRoot, 'apps/cli/src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The workspace packages' TypeScript sources, as vitest and the apps' dev runs resolve them.
    conditions: ['source'],
    // CommonJS dependencies bundled into an ES module still call require().
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}

export async function createCli(): Promise<Cli> {
  const configHome = mkdtempSync(join(tmpdir(), 'registry-triggers-cli-'));
  const bin = process.env.E2E_CLI === 'checkout' ? BIN : await bundleCli(configHome);
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_TRIGGERS_')),
  ) as Record<string, string>;
  const start = (args: string[], options: CliOptions = {}): CliRun => {
    const child = spawn(process.execPath, [bin, ...args], {
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
