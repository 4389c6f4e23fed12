import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCommand, repoRoot } from '../src/index.js';

// What a test process leaves behind when it dies without running its afterAll hooks.
const indexPath = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const script = `
import { startRedis, startReceiver } from ${JSON.stringify(indexPath)};
const redis = await startRedis({ outage: true });
await startReceiver();
console.log(JSON.stringify({ port: redis.port }));
// The test first checks that the server runs, then says when to fail.
process.stdin.once('data', () => {
  throw new Error('a failing test run');
});
`;

async function runAndAbandon(mode: 'throw' | 'SIGTERM'): Promise<{ port: number; exit: unknown[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, mode], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit');
  const firstLine = once(createInterface({ input: child.stdout! }), 'line') as Promise<[string]>;
  const early = exited.then(() => {
    throw new Error(`the script exited before starting its servers:\n${stderr}`);
  });
  const [line] = await Promise.race([firstLine, early]);
  early.catch(() => {}); // it rejects later, when the script exits as planned
  const { port } = JSON.parse(line) as { port: number };
  expect(await redisCommand('127.0.0.1', port, ['PING'])).toBe('PONG');
  if (mode === 'SIGTERM') child.kill('SIGTERM');
  else child.stdin!.write('fail now\n');
  return { port, exit: await exited };
}

let scriptDir: string;
let scriptPath: string;

describe('cleanup when the test process dies', () => {
  beforeAll(async () => {
    scriptDir = await mkdtemp(join(tmpdir(), 'rt-cleanup-test-'));
    scriptPath = join(scriptDir, 'abandon.mts');
    await writeFile(scriptPath, script);
  });

  afterAll(async () => {
    if (scriptDir) await rm(scriptDir, { recursive: true, force: true });
  });

  it('kills the servers it started when it exits on an uncaught error', async () => {
    const { port, exit } = await runAndAbandon('throw');
    expect(exit).toEqual([1, null]);
    await expect(redisCommand('127.0.0.1', port, ['PING'], 1000)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('kills them on SIGTERM too, and still dies of the signal', async () => {
    const { port, exit } = await runAndAbandon('SIGTERM');
    expect(exit).toEqual([null, 'SIGTERM']);
    await expect(redisCommand('127.0.0.1', port, ['PING'], 1000)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
