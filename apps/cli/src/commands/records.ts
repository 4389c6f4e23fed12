import { type Command, Option } from 'commander';
import { unwrap } from '../client.js';
import { contextOf, positiveInteger } from '../context.js';
import { UsageError } from '../errors.js';
import { type Column, formatTable, time } from '../output.js';
import { type AccessRecord, tailRecords } from '../tail.js';

const columns: Array<Column<AccessRecord>> = [
  { header: 'id', value: (r) => r.id },
  { header: 'time', value: (r) => time(r.requestTime) },
  { header: 'status', value: (r) => r.status },
  { header: 'code', value: (r) => r.statusCode },
  { header: 'attempt', value: (r) => r.attempt },
  { header: 'repository', value: (r) => r.repository },
  { header: 'tag', value: (r) => r.tag },
  { header: 'trigger', value: (r) => r.triggerName },
  { header: 'next attempt', value: (r) => time(r.nextAttemptAt) },
];

interface ListOptions {
  repo?: string;
  trigger?: string;
  status?: AccessRecord['status'];
  tag?: string;
  limit?: number;
  cursor?: string;
}

export function recordCommands(program: Command): void {
  const records = program.command('records').description('the access log (served by the logs app)');

  records
    .command('list <namespace>')
    .description(
      'records newest first: of a namespace, a repository (--repo) or a trigger (--repo --trigger)',
    )
    .option('--repo <repository>', 'only this repository')
    .option('--trigger <id>', 'only this trigger (with --repo)')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'untriggered',
        'succeeded',
        'retrying',
        'failed',
      ]),
    )
    .option('--tag <tag>', 'only this image tag')
    .option('--limit <n>', 'records per page (1-200)', positiveInteger('--limit', 200))
    .option('--cursor <cursor>', 'the next (older) page')
    .action(async (ns: string, options: ListOptions, command: Command) => {
      if (options.trigger && !options.repo) throw new UsageError('--trigger needs --repo');
      const { logs, out } = contextOf(command);
      const query = {
        ...(options.status ? { status: options.status } : {}),
        ...(options.tag !== undefined ? { tag: options.tag } : {}),
        ...(options.limit ? { limit: options.limit } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
      };
      const page = await unwrap(
        options.repo && options.trigger
          ? logs.GET('/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records', {
              params: { path: { ns, repo: options.repo, id: options.trigger }, query },
            })
          : options.repo
            ? logs.GET('/v1/namespaces/{ns}/repositories/{repo}/records', {
                params: { path: { ns, repo: options.repo }, query },
              })
            : logs.GET('/v1/namespaces/{ns}/records', { params: { path: { ns }, query } }),
      );
      out.list(page.records, columns, page);
      if (page.nextCursor) out.message(`next page: --cursor ${page.nextCursor}`);
    });

  records
    .command('get <namespace> <record-id>')
    .description('one record, with its request and response')
    .action(async (ns: string, recordId: string, _options, command: Command) => {
      const { logs, out } = contextOf(command);
      out.one(
        await unwrap(
          logs.GET('/v1/namespaces/{ns}/records/{recordId}', { params: { path: { ns, recordId } } }),
        ),
      );
    });

  records
    .command('tail <namespace>')
    .description('follow new records live (reconnects with Last-Event-ID, missing none)')
    .option('--after <record-id>', 'start after this record instead of now')
    .option('--count <n>', 'stop after this many records', positiveInteger('--count'))
    .action(async (ns: string, options: { after?: string; count?: number }, command: Command) => {
      const { logs, out } = contextOf(command);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      let header = !out.json;
      await tailRecords(logs, {
        namespace: ns,
        after: options.after,
        count: options.count,
        signal: stop.signal,
        onRecord: (record) => {
          if (out.json) process.stdout.write(`${JSON.stringify(record)}\n`);
          else {
            // One line per record as it comes; the header once.
            const [head, line] = formatTable([record], columns).split('\n');
            process.stdout.write(`${header ? `${head}\n` : ''}${line}\n`);
            header = false;
          }
        },
        onOpen: () => process.stderr.write(`following ${ns}\n`),
        onReconnect: (after) => process.stderr.write(`reconnecting${after ? ` after ${after}` : ''}\n`),
      });
    });

  const act = (action: 'redeliver' | 'cancel', description: string) =>
    records
      .command(`${action} <namespace> <repository> <trigger-id> <record-id>`)
      .description(description)
      .action(async (ns: string, repo: string, id: string, recordId: string, _options, command: Command) => {
        const { api, out } = contextOf(command);
        const params = { params: { path: { ns, repo, id, recordId } } };
        if (action === 'redeliver') {
          const queued = await unwrap(
            api.POST(
              '/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/redeliver',
              params,
            ),
          );
          out.one(queued);
        } else {
          out.one(
            await unwrap(
              api.POST(
                '/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/cancel',
                params,
              ),
            ),
          );
        }
      });
  act('redeliver', "send the record's event to the trigger again (a new delivery)");
  act('cancel', "stop the pending retries of the record's delivery (it ends failed, CANCELLED)");
}
