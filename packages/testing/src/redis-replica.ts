import { redisCommand, redisInfo } from './redis-command.js';
import type { RedisHandle } from './redis-server.js';
import { waitFor } from './wait.js';

/**
 * Makes `replica` a replica of `master` and resolves once it has synced
 * (`master_link_status:up`): before that, a WAIT on the master counts no replica.
 */
export async function attachReplica(replica: RedisHandle, master: RedisHandle): Promise<void> {
  await redisCommand(replica.host, replica.port, ['REPLICAOF', master.host, String(master.port)]);
  await waitFor(
    async () =>
      (await redisInfo(replica.host, replica.port, ['INFO', 'replication'])).get('master_link_status') ===
      'up',
    { timeoutMs: 20_000, message: 'the replica in sync with its master' },
  );
}
