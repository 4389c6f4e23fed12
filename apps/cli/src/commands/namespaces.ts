import type { Command } from 'commander';
import { unwrap } from '../client.js';
import { contextOf } from '../context.js';

export function namespaceCommands(program: Command): void {
  const namespace = program.command('namespace').description('namespaces (global admin)');
  namespace
    .command('list')
    .description('the namespaces with their repository and trigger counts')
    .action(async (_options, command: Command) => {
      const { api, out } = contextOf(command);
      const list = await unwrap(api.GET('/v1/namespaces'));
      out.list(
        list.namespaces,
        [
          { header: 'name', value: (n) => n.name },
          { header: 'repositories', value: (n) => n.repositories },
          { header: 'triggers', value: (n) => n.triggers },
        ],
        list,
      );
    });
}
