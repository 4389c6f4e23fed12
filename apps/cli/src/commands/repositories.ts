import { type Command, Option } from 'commander';
import { unwrap } from '../client.js';
import { contextOf, positiveInteger } from '../context.js';
import type { components } from '../generated/openapi.js';
import { time } from '../output.js';

type Repository = components['schemas']['Repository'];

const columns = [
  { header: 'name', value: (r: Repository) => r.name },
  { header: 'type', value: (r: Repository) => r.repoType },
  { header: 'authentication', value: (r: Repository) => r.authenticationType },
  { header: 'origin', value: (r: Repository) => r.originType },
  { header: 'updated', value: (r: Repository) => time(r.updatedAt) },
];

export function repositoryCommands(program: Command): void {
  const repo = program.command('repo').description('repositories of a namespace');
  const path = (ns: string, name: string) => ({ params: { path: { ns, repo: name } } });

  repo
    .command('list <namespace>')
    .description('repositories in name order, one page')
    .option('--limit <n>', 'repositories per page (1-200)', positiveInteger('--limit', 200))
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(async (ns: string, options: { limit?: number; cursor?: string }, command: Command) => {
      const { api, out } = contextOf(command);
      const page = await unwrap(
        api.GET('/v1/namespaces/{ns}/repositories', {
          params: {
            path: { ns },
            query: {
              ...(options.limit ? { limit: options.limit } : {}),
              ...(options.cursor ? { cursor: options.cursor } : {}),
            },
          },
        }),
      );
      out.list(page.repositories, columns, page);
      if (page.nextCursor) out.message(`next page: --cursor ${page.nextCursor}`);
    });

  repo
    .command('get <namespace> <repository>')
    .description('one repository')
    .action(async (ns: string, name: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      out.one(await unwrap(api.GET('/v1/namespaces/{ns}/repositories/{repo}', path(ns, name))));
    });

  repo
    .command('put <namespace> <repository>')
    .description('create or update a repository')
    .addOption(new Option('--type <type>', 'repoType').choices(['PUBLIC', 'PRIVATE']).makeOptionMandatory())
    .option('--authentication-type <value>', 'repo_authentication_type of the payload')
    .option('--origin-type <value>', 'repo_origin_type of the payload')
    .action(
      async (
        ns: string,
        name: string,
        options: { type: 'PUBLIC' | 'PRIVATE'; authenticationType?: string; originType?: string },
        command: Command,
      ) => {
        const { api, out } = contextOf(command);
        const body = {
          repoType: options.type,
          ...(options.authenticationType ? { authenticationType: options.authenticationType } : {}),
          ...(options.originType ? { originType: options.originType } : {}),
        };
        out.one(
          await unwrap(api.PUT('/v1/namespaces/{ns}/repositories/{repo}', { ...path(ns, name), body })),
        );
      },
    );

  repo
    .command('delete <namespace> <repository>')
    .description('delete a repository: its triggers stop at once, its records stay until retention')
    .action(async (ns: string, name: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      await unwrap(api.DELETE('/v1/namespaces/{ns}/repositories/{repo}', path(ns, name)));
      out.message(`deleted ${ns}/${name}`, { deleted: `${ns}/${name}` });
    });
}
