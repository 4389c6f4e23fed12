/** What every command that talks to the API gets: its clients and the output to print to. */
import type { Command } from 'commander';
import { type Clients, createClients } from './client.js';
import { type GlobalOptions, resolveSettings } from './config.js';
import { UsageError } from './errors.js';
import { createOutput, type Output } from './output.js';

export interface CommandContext extends Clients {
  out: Output;
}

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions & { json?: boolean }>();
  return { ...createClients(resolveSettings(options)), out: createOutput(options.json === true) };
}

/** For repeatable options: `--tag a --tag b`. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInteger(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1 || number > max)
      throw new UsageError(`${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}`);
    return number;
  };
}

/** `--header Name=value` pairs as an object. */
export function headerPairs(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--header takes Name=value, not ${JSON.stringify(pair)}`);
    headers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return headers;
}

/** All of standard input, without the line end a shell or a pipe adds. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
