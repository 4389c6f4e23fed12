/** `login`: checks a token against the API and keeps it with the URLs, for the next commands. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createClients, unwrap } from '../client.js';
import { checkUrl, defaultLogsUrl, saveConfig } from '../config.js';
import { readStdin } from '../context.js';
import { ApiError, UsageError } from '../errors.js';

/** Reads a line from the terminal without echoing it: the prompt is written, the keys are not. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let muted = false;
    // readline echoes through this (an internal of node:readline, stable since Node 0.x).
    const echo = rl as unknown as { _writeToOutput: (text: string) => void };
    echo._writeToOutput = (text) => {
      if (!muted) process.stderr.write(text);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

export function loginCommand(program: Command): void {
  program
    .command('login')
    .description(
      'check a token and keep it, with the api URL and the logs URL (--logs-url, default: the api host, port 8081), in $XDG_CONFIG_HOME/registry-triggers (0600)',
    )
    .requiredOption('--url <url>', 'the api app, e.g. http://127.0.0.1:8080')
    .option('--token-stdin', 'read the token from standard input instead of a prompt')
    .action(async (options: { url: string; tokenStdin?: boolean }, command: Command) => {
      const url = checkUrl(options.url, '--url');
      // --logs-url is the program's option (every command takes it), saved here with the rest.
      const { logsUrl: givenLogsUrl } = command.optsWithGlobals<{ logsUrl?: string }>();
      const logsUrl = givenLogsUrl ? checkUrl(givenLogsUrl, '--logs-url') : defaultLogsUrl(url);
      let token: string;
      if (options.tokenStdin) token = (await readStdin()).trim();
      else if (process.stdin.isTTY) token = (await promptHidden('Token: ')).trim();
      else throw new UsageError('no terminal to ask for the token on: pipe it in with --token-stdin');
      if (!token) throw new UsageError('the token is empty');

      // A token the api does not know is a 401 on every route; 403 here means a namespace token.
      const { api } = createClients({ url, logsUrl, token });
      let role = 'the global admin token';
      try {
        await unwrap(api.GET('/v1/namespaces'));
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 403)) throw error;
        role = 'a token without global rights (a namespace or ingest token)';
      }
      const path = saveConfig({ url, logsUrl, token });
      process.stderr.write(`Signed in to ${url} (logs ${logsUrl}) with ${role}; saved in ${path}\n`);
    });
}
