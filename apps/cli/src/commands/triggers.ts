import { type Command, Option } from 'commander';
import { unwrap } from '../client.js';
import { collect, contextOf, headerPairs, readStdin } from '../context.js';
import { UsageError } from '../errors.js';
import type { components } from '../generated/openapi.js';

type Trigger = components['schemas']['Trigger'];
type TriggerType = Trigger['type'];
type TriggerPatch = components['schemas']['TriggerPatch'];

const columns = [
  { header: 'id', value: (t: Trigger) => t.id },
  { header: 'name', value: (t: Trigger) => t.name },
  {
    header: 'enabled',
    value: (t: Trigger) => (t.enabled ? 'yes' : `no${t.disabledReason ? ` (${t.disabledReason})` : ''}`),
  },
  { header: 'type', value: (t: Trigger) => t.type },
  { header: 'filter', value: (t: Trigger) => t.tags ?? t.expression },
  { header: 'url', value: (t: Trigger) => t.url },
];

interface TriggerOptions {
  name?: string;
  url?: string;
  type?: TriggerType;
  tag?: string[];
  expression?: string;
  header?: string[];
  secretStdin?: boolean;
}

const TYPES: TriggerType[] = ['ALL', 'TAG_LIST', 'TAG_REG_EXP'];

/** The options a trigger's fields are set with, in create and update alike. */
function fieldOptions(command: Command, typeDefault?: TriggerType): Command {
  const type = new Option('--type <type>', 'which tags fire it').choices(TYPES);
  return command
    .option('--name <name>', 'a name for people')
    .option('--url <url>', 'where deliveries go')
    .addOption(typeDefault ? type.default(typeDefault) : type)
    .option('--tag <tag>', 'TAG_LIST: a tag that fires it (repeat for more)', collect)
    .option('--expression <re2>', 'TAG_REG_EXP: an RE2 expression the whole tag must match')
    .option('--header <name=value>', 'an extra request header (repeat for more)', collect)
    .option('--secret-stdin', 'read the signing secret from standard input');
}

async function fieldsOf(options: TriggerOptions) {
  const headers = headerPairs(options.header);
  const secret = options.secretStdin ? await readStdin() : undefined;
  return {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.type !== undefined ? { type: options.type } : {}),
    ...(options.tag ? { tags: options.tag } : {}),
    ...(options.expression !== undefined ? { expression: options.expression } : {}),
    ...(headers ? { headers } : {}),
    ...(secret !== undefined ? { secret } : {}),
  };
}

export function triggerCommands(program: Command): void {
  const trigger = program.command('trigger').description('triggers of a repository');
  const at = (ns: string, repo: string) => ({ params: { path: { ns, repo } } });
  const one = (ns: string, repo: string, id: string) => ({ params: { path: { ns, repo, id } } });
  const patchTrigger = async (command: Command, ns: string, repo: string, id: string, body: TriggerPatch) => {
    const { api, out } = contextOf(command);
    out.one(
      await unwrap(
        api.PATCH('/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}', {
          ...one(ns, repo, id),
          body,
          headers: { 'Content-Type': 'application/merge-patch+json' },
        }),
      ),
    );
  };

  fieldOptions(trigger.command('create <namespace> <repository>'), 'ALL')
    .description('create a trigger')
    .option('--disabled', 'create it disabled')
    .action(
      async (
        ns: string,
        repo: string,
        options: TriggerOptions & { disabled?: boolean },
        command: Command,
      ) => {
        if (options.name === undefined || options.url === undefined)
          throw new UsageError('trigger create needs --name and --url');
        const { api, out } = contextOf(command);
        const fields = await fieldsOf(options);
        const body = {
          ...fields,
          name: options.name,
          url: options.url,
          type: options.type ?? 'ALL',
          enabled: !options.disabled,
        };
        out.one(
          await unwrap(
            api.POST('/v1/namespaces/{ns}/repositories/{repo}/triggers', { ...at(ns, repo), body }),
          ),
        );
      },
    );

  trigger
    .command('list <namespace> <repository>')
    .description('the triggers of a repository, oldest first')
    .action(async (ns: string, repo: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const list = await unwrap(api.GET('/v1/namespaces/{ns}/repositories/{repo}/triggers', at(ns, repo)));
      out.list(list.triggers, columns, list);
    });

  trigger
    .command('get <namespace> <repository> <id>')
    .description('one trigger (the secret and header values show as ***)')
    .action(async (ns: string, repo: string, id: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      out.one(
        await unwrap(api.GET('/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}', one(ns, repo, id))),
      );
    });

  fieldOptions(trigger.command('update <namespace> <repository> <id>'))
    .description('change the fields given, the rest as they are (a JSON Merge Patch)')
    .option('--remove-header <name>', 'drop a header (repeat for more)', collect)
    .option('--remove-secret', 'stop signing deliveries')
    .action(
      async (
        ns: string,
        repo: string,
        id: string,
        options: TriggerOptions & { removeHeader?: string[]; removeSecret?: boolean },
        command: Command,
      ) => {
        const fields = await fieldsOf(options);
        const removed = Object.fromEntries((options.removeHeader ?? []).map((name) => [name, null]));
        // A new type drops the filter field the old one had, unless this update sets it.
        const filter =
          options.type === undefined
            ? {}
            : {
                tags: options.type === 'TAG_LIST' ? (options.tag ?? undefined) : null,
                expression: options.type === 'TAG_REG_EXP' ? (options.expression ?? undefined) : null,
              };
        const body: TriggerPatch = {
          ...Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)),
          ...fields,
          ...(options.removeSecret ? { secret: null } : {}),
          ...(fields.headers || options.removeHeader ? { headers: { ...removed, ...fields.headers } } : {}),
        };
        if (Object.keys(body).length === 0) throw new UsageError('trigger update needs a field to change');
        await patchTrigger(command, ns, repo, id, body);
      },
    );

  trigger
    .command('enable <namespace> <repository> <id>')
    .description('deliver again')
    .action((ns: string, repo: string, id: string, _options, command: Command) =>
      patchTrigger(command, ns, repo, id, { enabled: true }),
    );
  trigger
    .command('disable <namespace> <repository> <id>')
    .description('stop delivering (pending retries end TRIGGER_DISABLED)')
    .action((ns: string, repo: string, id: string, _options, command: Command) =>
      patchTrigger(command, ns, repo, id, { enabled: false }),
    );

  trigger
    .command('delete <namespace> <repository> <id>')
    .description('delete a trigger')
    .action(async (ns: string, repo: string, id: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      await unwrap(api.DELETE('/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}', one(ns, repo, id)));
      out.message(`deleted trigger ${id}`, { deleted: id });
    });

  trigger
    .command('test <namespace> <repository> <id>')
    .description('send one delivery now with a sample push (tag "test") and show its record')
    .action(async (ns: string, repo: string, id: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      out.one(
        await unwrap(
          api.POST('/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/test', one(ns, repo, id)),
        ),
      );
    });
}
