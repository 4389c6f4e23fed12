/**
 * The alert rules an operator loads: they parse, and each fires (and stays quiet) in its
 * `promtool test rules` unit tests, which cover every alert of the file.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@registry-triggers/testing';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const PROMTOOL = '/usr/bin/promtool';
const dir = join(repoRoot, 'deploy/prometheus');

async function promtool(args: string[], cwd = dir): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(PROMTOOL, args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; record?: string }> }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

describe('deploy/prometheus/alerts.yml', () => {
  it('is valid for promtool', async () => {
    const checked = await promtool(['check', 'rules', 'alerts.yml']);
    expect(checked.output).toContain('SUCCESS');
    expect(checked.code).toBe(0);
  });

  it('passes its unit tests (promtool test rules alerts.test.yml)', async () => {
    const tested = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.code).toBe(0);
  });

  it('has a unit test in which each of its alerts fires', () => {
    const rules = parseYaml(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as RuleFile;
    const tests = parseYaml(readFileSync(join(dir, 'alerts.test.yml'), 'utf8')) as RuleTests;
    const alerts = rules.groups.flatMap((group) =>
      group.rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])),
    );
    expect(alerts.sort()).toEqual([
      'RegistryTriggersBacklogGrowing',
      'RegistryTriggersDeliveryFailureRatioHigh',
      'RegistryTriggersNoWorkerAlive',
      'RegistryTriggersOldestJobTooOld',
      'RegistryTriggersRedisUnreachable',
    ]);
    const fired = new Set(
      tests.tests.flatMap((test) =>
        (test.alert_rule_test ?? []).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
      ),
    );
    expect([...fired].sort()).toEqual(alerts.sort());
  });

  it('a broken rule fails its unit tests (the tests can fail)', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'alerts-'));
    try {
      await cp(join(dir, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
      const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
      // The "no worker" alert made to need a negative count: it can never fire.
      await writeFile(
        join(scratch, 'alerts.yml'),
        rules.replace('max(workers_alive) < 1', 'max(workers_alive) < 0'),
      );
      const tested = await promtool(['test', 'rules', 'alerts.test.yml'], scratch);
      expect(tested.code).not.toBe(0);
      expect(tested.output).toContain('RegistryTriggersNoWorkerAlive');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
