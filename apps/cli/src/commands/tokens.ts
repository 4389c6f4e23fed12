import { type Command, Option } from 'commander';
import { unwrap } from '../client.js';
import { contextOf, positiveInteger } from '../context.js';
import type { components } from '../generated/openapi.js';
import { time } from '../output.js';

type TokenInfo = components['schemas']['TokenInfo'];

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('tokens of a namespace');
  const ofNamespace = (ns: string) => ({ params: { path: { ns } } });
  const ofToken = (ns: string, tokenId: string) => ({ params: { path: { ns, tokenId } } });

  token
    .command('create <namespace>')
    .description('issue a token (its secret is shown this once)')
    .option('--name <name>', 'a name to recognise it by')
    .addOption(
      new Option('--scope <scope>', 'what it may do').choices(['admin', 'read', 'ingest']).default('admin'),
    )
    .option('--expires-at <time>', 'ISO-8601 time or epoch ms after which it stops working')
    .action(
      async (
        ns: string,
        options: { name?: string; scope: 'admin' | 'read' | 'ingest'; expiresAt?: string },
        command: Command,
      ) => {
        const { api, out } = contextOf(command);
        const expiresAt =
          options.expiresAt === undefined
            ? {}
            : { expiresAt: /^\d+$/.test(options.expiresAt) ? Number(options.expiresAt) : options.expiresAt };
        const body = { scope: options.scope, ...(options.name ? { name: options.name } : {}), ...expiresAt };
        out.one(await unwrap(api.POST('/v1/namespaces/{ns}/tokens', { ...ofNamespace(ns), body })));
      },
    );

  token
    .command('list <namespace>')
    .description('the tokens that still work, without their secrets')
    .action(async (ns: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      const list = await unwrap(api.GET('/v1/namespaces/{ns}/tokens', ofNamespace(ns)));
      out.list(
        list.tokens,
        [
          { header: 'id', value: (t: TokenInfo) => t.id },
          { header: 'name', value: (t: TokenInfo) => t.name },
          { header: 'scope', value: (t: TokenInfo) => t.scope },
          { header: 'prefix', value: (t: TokenInfo) => t.prefix },
          { header: 'created', value: (t: TokenInfo) => time(t.createdAt) },
          { header: 'expires', value: (t: TokenInfo) => time(t.expiresAt) ?? 'never' },
          { header: 'last used', value: (t: TokenInfo) => time(t.lastUsedAt) ?? 'never' },
        ],
        list,
      );
    });

  token
    .command('revoke <namespace> <token-id>')
    .description('stop a token at once, everywhere')
    .action(async (ns: string, tokenId: string, _options, command: Command) => {
      const { api, out } = contextOf(command);
      await unwrap(api.DELETE('/v1/namespaces/{ns}/tokens/{tokenId}', ofToken(ns, tokenId)));
      out.message(`revoked ${tokenId}`, { revoked: tokenId });
    });

  token
    .command('rotate <namespace> <token-id>')
    .description('a new token of the same name, scope and expiry; the old one works for the grace period')
    .option('--grace-seconds <n>', 'how long the old token keeps working (0-86400, default 0)', (value) =>
      value === '0' ? 0 : positiveInteger('--grace-seconds', 86_400)(value),
    )
    .action(async (ns: string, tokenId: string, options: { graceSeconds?: number }, command: Command) => {
      const { api, out } = contextOf(command);
      const body = options.graceSeconds === undefined ? {} : { graceSeconds: options.graceSeconds };
      out.one(
        await unwrap(
          api.POST('/v1/namespaces/{ns}/tokens/{tokenId}/rotate', { ...ofToken(ns, tokenId), body }),
        ),
      );
    });
}
