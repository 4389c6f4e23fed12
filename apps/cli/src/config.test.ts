import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configPath, defaultLogsUrl, readConfig, resolveSettings, saveConfig } from './config.js';
import { UsageError } from './errors.js';

const homes: string[] = [];
const freshEnv = (extra: Record<string, string> = {}) => {
  const home = mkdtempSync(join(tmpdir(), 'rt-config-'));
  homes.push(home);
  return { XDG_CONFIG_HOME: home, ...extra };
};
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe('settings', () => {
  it('are kept in a 0600 file under XDG_CONFIG_HOME', () => {
    const env = freshEnv();
    const path = saveConfig({ url: 'http://api:8080', token: 't' }, env);
    expect(path).toBe(join(env.XDG_CONFIG_HOME, 'registry-triggers', 'config.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.XDG_CONFIG_HOME, 'registry-triggers')).mode & 0o777).toBe(0o700);
    expect(readConfig(env)).toEqual({ url: 'http://api:8080', token: 't' });
    expect(configPath(env)).toBe(path);
  });

  it('come from flags, then the environment, then the saved file', () => {
    const env = freshEnv();
    saveConfig({ url: 'http://saved:8080', logsUrl: 'http://saved-logs:9000', token: 'saved' }, env);
    expect(resolveSettings({}, env)).toEqual({
      url: 'http://saved:8080',
      logsUrl: 'http://saved-logs:9000',
      token: 'saved',
    });
    const fromEnv = {
      ...env,
      REGISTRY_TRIGGERS_URL: 'https://env.example.com/',
      REGISTRY_TRIGGERS_TOKEN: 'env',
      REGISTRY_TRIGGERS_LOGS_URL: 'https://logs.example.com',
    };
    expect(resolveSettings({}, fromEnv)).toEqual({
      url: 'https://env.example.com',
      logsUrl: 'https://logs.example.com',
      token: 'env',
    });
    expect(resolveSettings({ apiUrl: 'http://flag:1', logsUrl: 'http://flag:2' }, fromEnv)).toMatchObject({
      url: 'http://flag:1',
      logsUrl: 'http://flag:2',
    });
  });

  it('find the logs app on port 8081 of the api host when nothing names it', () => {
    expect(defaultLogsUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8081');
    expect(defaultLogsUrl('https://triggers.example.com/')).toBe('https://triggers.example.com:8081');
    expect(
      resolveSettings({}, freshEnv({ REGISTRY_TRIGGERS_URL: 'http://h:8080', REGISTRY_TRIGGERS_TOKEN: 't' }))
        .logsUrl,
    ).toBe('http://h:8081');
  });

  it('missing or wrong are usage errors that say what to do', () => {
    expect(() => resolveSettings({}, freshEnv())).toThrow(/no API URL: run registry-triggers login/);
    expect(() => resolveSettings({}, freshEnv({ REGISTRY_TRIGGERS_URL: 'http://h' }))).toThrow(/no token/);
    expect(() => resolveSettings({ apiUrl: 'ftp://h' }, freshEnv({ REGISTRY_TRIGGERS_TOKEN: 't' }))).toThrow(
      UsageError,
    );
  });
});
