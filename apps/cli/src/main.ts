/**
 * registry-triggers: the command line of Registry Triggers. Exit 0 on success, 1 on a usage
 * error, 2 when the API answers with a problem (its title and detail go to stderr).
 */
import { Command, CommanderError } from 'commander';
import { loginCommand } from './commands/login.js';
import { namespaceCommands } from './commands/namespaces.js';
import { recordCommands } from './commands/records.js';
import { repositoryCommands } from './commands/repositories.js';
import { tokenCommands } from './commands/tokens.js';
import { triggerCommands } from './commands/triggers.js';
import { ApiError, EXIT_API, EXIT_USAGE, UsageError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('registry-triggers')
    .description('Manage Registry Triggers: repositories, triggers, tokens and the access log.')
    .addHelpText(
      'after',
      '\nSettings, first found wins: --api-url, REGISTRY_TRIGGERS_URL, login (the api app);\n' +
        'REGISTRY_TRIGGERS_TOKEN, login (the token); --logs-url, REGISTRY_TRIGGERS_LOGS_URL, login,\n' +
        'else the api host on port 8081 (the logs app, which serves records).\n' +
        'Exit codes: 0 done, 1 usage error, 2 the API refused (its problem on stderr) or cannot be reached.',
    )
    .version('0.1.0')
    .option('--api-url <url>', 'the api app (overrides REGISTRY_TRIGGERS_URL and login)')
    .option('--logs-url <url>', 'the logs app, for records (overrides REGISTRY_TRIGGERS_LOGS_URL and login)')
    .option('--json', 'print JSON, as the API answers it, for scripts')
    .showHelpAfterError()
    .exitOverride();
  loginCommand(program);
  namespaceCommands(program);
  repositoryCommands(program);
  triggerCommands(program);
  recordCommands(program);
  tokenCommands(program);
  // Every subcommand reports its usage errors through the same exit path as the program.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ApiError) {
      process.stderr.write(`error: ${error.describe()}\n`);
      return EXIT_API;
    }
    throw error;
  }
}

process.exitCode = await run(process.argv);
