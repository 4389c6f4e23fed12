/**
 * The registry routes (issue 17): how fast `POST /v1/events/harbor` takes Harbor's own
 * webhook against `POST /v1/events/distribution` taking the distribution envelope of the
 * same push, at the same concurrency, in the same round. Both carry one tagged push per
 * request; what differs is the reader (zod schema, placement, hashed event id) and the body.
 */
import { type BenchContext, fmt, type RowResult } from '../lib/context.js';
import { DIGEST, PushClient } from '../lib/load.js';
import { INGEST_TOKEN } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { phase } from './ingest.js';

const CLIENTS = 32;
const TARGET = 0.8;

/** What Harbor 2.x posts for a push of one tag (the "Default" payload format). */
const harborPush = (seq: number) => ({
  type: 'PUSH_ARTIFACT',
  occur_at: 1680501893 + seq,
  operator: 'harbor-jobservice',
  event_data: {
    resources: [{ digest: DIGEST, tag: `v${seq}`, resource_url: `harbor.example.com/bench/harbor:v${seq}` }],
    repository: {
      date_created: 1680501893,
      name: 'harbor',
      namespace: 'bench',
      repo_full_name: 'bench/harbor',
      repo_type: 'private',
    },
  },
});

/** What the distribution registry posts for the manifest of the same push. */
const distributionPush = (seq: number) => ({
  events: [
    {
      id: `bench-distribution-${seq}-${Date.now()}`,
      timestamp: new Date().toISOString(),
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
        size: 708,
        repository: 'bench/distribution',
        tag: `v${seq}`,
      },
      request: { id: 'r', host: 'registry.example.com', method: 'PUT', useragent: 'bench' },
    },
  ],
});

export async function sourcesRows(
  ctx: BenchContext,
  apiUrl: string,
  pids: Record<string, number>,
): Promise<RowResult[]> {
  const client = new PushClient(apiUrl, INGEST_TOKEN, CLIENTS);
  const ops = {
    harbor: (seq: number) => client.post('/v1/events/harbor', 'application/json', harborPush(seq), 1),
    distribution: (seq: number) =>
      client.post(
        '/v1/events/distribution',
        'application/vnd.docker.distribution.events.v1+json',
        distributionPush(seq),
        1,
      ),
  };
  const rounds: Array<Record<string, number | string>> = [];
  const cpu: Array<Record<string, Record<string, number>>> = [];
  for (let r = 0; r < ctx.options.rounds; r++) {
    const order = r % 2 === 0 ? (['harbor', 'distribution'] as const) : (['distribution', 'harbor'] as const);
    const rates: Record<string, number> = {};
    const cpuRound: Record<string, Record<string, number>> = {};
    let errors = 0;
    for (const which of order) {
      const measured = await phase(ctx, CLIENTS, ops[which], pids);
      rates[which] = measured.rate;
      cpuRound[which] = measured.cpuUs;
      errors += measured.errors;
    }
    cpu.push(cpuRound);
    const ratio = rates.harbor! / rates.distribution!;
    rounds.push({
      round: r + 1,
      product: Math.round(rates.harbor!),
      baseline: Math.round(rates.distribution!),
      ratio: round(ratio),
      failedRequests: errors,
    });
    ctx.log(
      `  ingest-harbor round ${r + 1}: harbor ${fmt(rates.harbor!)} /s, distribution ${fmt(rates.distribution!)} /s, ratio ${ratio.toFixed(2)}`,
    );
  }
  await client.close();
  await ctx.redis.flushall();
  const ratio = median(rounds.map((x) => x.ratio as number));
  const apiCpu = (which: string) => median(cpu.map((c) => c[which]?.api ?? Number.NaN));
  return [
    {
      id: 'ingest-harbor',
      figure: `ingest events/s, Harbor webhooks on /v1/events/harbor (${CLIENTS} keep-alive clients, one tagged push each)`,
      value: `${fmt(median(rounds.map((x) => x.product as number)))} events/s`,
      baseline: `/v1/events/distribution, one tagged manifest push each: ${fmt(median(rounds.map((x) => x.baseline as number)))} events/s`,
      ratio: round(ratio),
      target: `>= ${TARGET}x`,
      met: ratio >= TARGET,
      rounds,
      details: { apiCpuUsPerEvent: { harbor: apiCpu('harbor'), distribution: apiCpu('distribution') } },
      notes: [
        'details.apiCpuUsPerEvent: CPU microseconds the api spent per accepted event (median of rounds).',
      ],
    },
  ];
}
