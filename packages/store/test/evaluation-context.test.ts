// The repository in the evaluation context (TriggerStore.loadContext) against a real Redis:
// ingest owns its creation (RepositoryStore.ensureAll, at the first push's time); the context
// reads it, and makes it again only when it is missing (deleted since ingest, or never made).
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/keys.js';
import { RepositoryStore } from '../src/repositories.js';
import { TriggerStore } from '../src/triggers.js';

const server = useRedis();
let redis: Redis;
let triggers: TriggerStore;
let repositories: RepositoryStore;
beforeAll(() => {
  redis = new Redis(server().url);
  triggers = new TriggerStore(redis);
  repositories = new RepositoryStore(redis);
});
afterAll(() => redis?.disconnect());

const QUOTA = 100;

const existsCalls = async () =>
  Number(/cmdstat_exists:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);

describe('the repository of an evaluation context', () => {
  it('is the one ingest made: its creation time stays the first push, no write on later pushes', async () => {
    const ns = uniqueName('ctx');
    await repositories.ensureAll([{ namespace: ns, name: 'app', createdAt: 1_000 }], QUOTA);
    const before = await redis.hgetall(keys.repository(ns, 'app'));
    const existsBefore = await existsCalls();
    const context = await triggers.loadContext(ns, 'app', 5_000);
    // It reads the repository first: no EXISTS (creation check) on a push to a known repository.
    expect(await existsCalls()).toBe(existsBefore);
    expect(context.repository).toMatchObject({ name: 'app', createdAt: 1_000, updatedAt: 1_000 });
    expect(await redis.hgetall(keys.repository(ns, 'app'))).toEqual(before);
  });

  it('is made again, at this push, when it was deleted after ingest took the event', async () => {
    const ns = uniqueName('ctx');
    await repositories.ensureAll([{ namespace: ns, name: 'app', createdAt: 1_000 }], QUOTA);
    expect(await repositories.delete(ns, 'app')).toBe(true);
    const context = await triggers.loadContext(ns, 'app', 7_000);
    expect(context.repository).toMatchObject({ name: 'app', createdAt: 7_000, repoType: 'PRIVATE' });
    expect(await redis.zrange(keys.repositoryIndex(ns), 0, -1)).toEqual(['app']);
    expect((await repositories.get(ns, 'app'))?.createdAt).toBe(7_000);
  });

  it('is made on a push no ingest saw (a job queued directly)', async () => {
    const ns = uniqueName('ctx');
    const context = await triggers.loadContext(ns, 'app', 3_000);
    expect(context.repository.createdAt).toBe(3_000);
    expect(context.triggers).toEqual([]);
    expect((await repositories.get(ns, 'app'))?.createdAt).toBe(3_000);
  });
});
