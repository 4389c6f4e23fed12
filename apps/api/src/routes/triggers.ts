import { randomUUID } from 'node:crypto';
import {
  TRIGGER_READ_ONLY_FIELDS,
  type Trigger,
  type TriggerInput,
  toPublicTrigger,
  triggerInputSchema,
  triggerReplacementSchema,
} from '@registry-triggers/core';
import { checkReadOnlyFields, notFound, parseOr400 } from '@registry-triggers/http-kit';
import {
  type NamespaceQuotas,
  QuotaExceededError,
  type RecordStore,
  type TriggerStore,
} from '@registry-triggers/store';
import { Router } from 'express';
import type { DeliveryRequests } from '../delivery-requests.js';
import { quotaRefusal } from '../quotas.js';
import { handle, repositoryOf, requireMediaType } from './params.js';

/** The secret as reads show it; sending it back in a PUT keeps the stored secret. */
const MASKED_SECRET = '***';

export interface TriggerRouteDeps {
  triggers: TriggerStore;
  records: RecordStore;
  deliveries: DeliveryRequests;
  quotas: NamespaceQuotas;
}

/** A PUT body without the fields a read shows and the server owns. */
function omitReadOnly(body: Record<string, unknown>): TriggerInput {
  const input = { ...body };
  for (const field of TRIGGER_READ_ONLY_FIELDS) delete input[field];
  return input as TriggerInput;
}

function triggerIdOf(raw: string | undefined): string {
  if (!raw || raw.length > 100) throw notFound('trigger');
  return raw;
}

export function triggerRoutes(deps: TriggerRouteDeps): Router {
  const router = Router();
  const base = '/v1/namespaces/:ns/repositories/:repo/triggers';
  const json = requireMediaType(['application/json']);

  async function load(req: Parameters<typeof repositoryOf>[0], res: Parameters<typeof repositoryOf>[1]) {
    const { namespace, repository } = repositoryOf(req, res);
    const trigger = await deps.triggers.get(namespace, repository, triggerIdOf(req.params.id as string));
    if (!trigger) throw notFound(`trigger ${req.params.id}`);
    return trigger;
  }

  router.post(
    base,
    json,
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const input = parseOr400(triggerInputSchema, req.body);
      const now = Date.now();
      const trigger: Trigger = {
        ...input,
        id: randomUUID(),
        namespace,
        repository,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await deps.triggers.create(trigger, deps.quotas);
      } catch (error) {
        throw error instanceof QuotaExceededError ? quotaRefusal(error) : error;
      }
      // The collection's path as the client sent it (repo stays %2F-encoded), without its query string.
      const collection = (req.originalUrl.split('?')[0] ?? '').replace(/\/+$/, '');
      res.status(201).location(`${collection}/${trigger.id}`).json(toPublicTrigger(trigger));
    }),
  );

  router.get(
    base,
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const triggers = await deps.triggers.list(namespace, repository);
      res.json({ triggers: triggers.map(toPublicTrigger) });
    }),
  );

  router.get(
    `${base}/:id`,
    handle(async (req, res) => {
      res.json(toPublicTrigger(await load(req, res)));
    }),
  );

  router.put(
    `${base}/:id`,
    json,
    handle(async (req, res) => {
      const existing = await load(req, res);
      const body = { ...(req.body as Record<string, unknown>) };
      const keepSecret = body.secret === MASKED_SECRET;
      if (keepSecret) delete body.secret;
      const parsed = parseOr400(triggerReplacementSchema, body);
      checkReadOnlyFields(parsed, {
        id: existing.id,
        namespace: existing.namespace,
        repository: existing.repository,
      });
      const input = omitReadOnly(parsed);
      const { secret: _old, disabledReason: _reason, ...kept } = existing;
      const replaced: Trigger = {
        ...input,
        id: kept.id,
        namespace: kept.namespace,
        repository: kept.repository,
        createdAt: kept.createdAt,
        updatedAt: Date.now(),
        ...(keepSecret && existing.secret !== undefined ? { secret: existing.secret } : {}),
      };
      if (!(await deps.triggers.replace(replaced))) throw notFound(`trigger ${existing.id}`);
      res.json(toPublicTrigger(replaced));
    }),
  );

  router.delete(
    `${base}/:id`,
    handle(async (req, res) => {
      const trigger = await load(req, res);
      await deps.triggers.delete(trigger.namespace, trigger.repository, trigger.id);
      res.status(204).end();
    }),
  );

  router.post(
    `${base}/:id/test`,
    handle(async (req, res) => {
      const trigger = await load(req, res);
      const outcome = await deps.deliveries.sendTest(trigger);
      if (outcome.kind === 'finished') res.json(outcome.record);
      else res.status(202).json({ deliveryId: outcome.deliveryId, status: 'pending' });
    }),
  );

  router.post(
    `${base}/:id/records/:recordId/redeliver`,
    handle(async (req, res) => {
      const trigger = await load(req, res);
      const record = await deps.records.get(trigger.namespace, String(req.params.recordId));
      if (!record || record.triggerId !== trigger.id) throw notFound(`record ${req.params.recordId}`);
      const deliveryId = await deps.deliveries.redeliver(trigger, record);
      res.status(202).json({ deliveryId, eventId: record.eventId });
    }),
  );

  return router;
}
