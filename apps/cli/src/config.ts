/**
 * Where the CLI finds the API and its token: flags, then REGISTRY_TRIGGERS_* variables, then
 * the file `login` wrote ($XDG_CONFIG_HOME/registry-triggers/config.json, mode 0600).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors.js';

export interface SavedConfig {
  url?: string;
  logsUrl?: string;
  token?: string;
}

export interface Settings {
  url: string;
  /** The logs app, which serves the access log and its live tail. */
  logsUrl: string;
  token: string;
}

export interface GlobalOptions {
  apiUrl?: string;
  logsUrl?: string;
}

/** The logs app listens beside the api: LOGS_PORT defaults to 8081 as API_PORT to 8080. */
const DEFAULT_LOGS_PORT = '8081';

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'registry-triggers');
}

export const configPath = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'config.json');

export function readConfig(env: NodeJS.ProcessEnv = process.env): SavedConfig {
  let text: string;
  try {
    text = readFileSync(configPath(env), 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as SavedConfig;
  } catch {
    throw new UsageError(`${configPath(env)} is not valid JSON: run registry-triggers login again`);
  }
}

/** Writes the file readable by its owner only; the token in it is a bearer secret. */
export function saveConfig(config: SavedConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = configPath(env);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync applies only to a new file.
  chmodSync(path, 0o600);
  return path;
}

export function checkUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} must be an http or https URL, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${what} must be an http or https URL, not ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

/** The logs app's URL when none is given: the api's host, port 8081. */
export function defaultLogsUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  url.port = DEFAULT_LOGS_PORT;
  return url.origin;
}

export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const saved = readConfig(env);
  const rawUrl = options.apiUrl ?? env.REGISTRY_TRIGGERS_URL ?? saved.url;
  if (!rawUrl)
    throw new UsageError('no API URL: run registry-triggers login --url URL, or set REGISTRY_TRIGGERS_URL');
  const url = checkUrl(rawUrl, 'the API URL');
  const token = env.REGISTRY_TRIGGERS_TOKEN || saved.token;
  if (!token) throw new UsageError('no token: run registry-triggers login, or set REGISTRY_TRIGGERS_TOKEN');
  const rawLogs = options.logsUrl ?? env.REGISTRY_TRIGGERS_LOGS_URL ?? saved.logsUrl;
  const logsUrl = rawLogs ? checkUrl(rawLogs, 'the logs URL') : defaultLogsUrl(url);
  return { url, logsUrl, token };
}
