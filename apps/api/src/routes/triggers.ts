import { randomUUID } from 'node:crypto';
import {
  type AccessRecord,
  applyMergePatch,
  TRIGGER_READ_ONLY_FIELDS,
  type Trigger,
  type TriggerInput,
  toPublicTrigger,
  triggerInputSchema,
  triggerReplacementSchema,
  UNTRIGGERED_STATUS_CODE,
  unmaskTriggerBody,
} from '@registry-triggers/core';
import {
  checkReadOnlyFields,
  HttpError,
  notFound,
  parseOr400,
  type RouteHandlers,
  validationError,
} from '@registry-triggers/http-kit';
import {
  type NamespaceQuotas,
  QuotaExceededError,
  type RecordStore,
  type TriggerStore,
} from '@registry-triggers/store';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { DeliveryCancels } from '../delivery-cancels.js';
import type { DeliveryRequests } from '../delivery-requests.js';
import { jobContextOf } from '../job-context.js';
import { quotaRefusal } from '../quotas.js';
import type { TestDeliveryLimit } from '../test-delivery-limit.js';
import { handle, repositoryOf, requireMediaType } from './params.js';

/** How often a PATCH reads again when another write changed the trigger in between. */
const PATCH_TRIES = 10;

export interface TriggerRouteDeps {
  triggers: TriggerStore;
  records: RecordStore;
  deliveries: DeliveryRequests;
  cancels: DeliveryCancels;
  quotas: NamespaceQuotas;
  /** Refuses a test delivery past the token's rate (429). */
  limitTestDeliveries: TestDeliveryLimit;
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

/** A body with the "***" of a read resolved against the stored trigger (none for a new one). */
function unmasked(body: unknown, stored: Trigger | undefined): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { body: resolved, issues } = unmaskTriggerBody(body as Record<string, unknown>, stored);
  if (issues.length > 0) {
    throw validationError(
      issues.map((issue) => ({ code: 'custom', input: undefined, ...issue })) as z.core.$ZodIssue[],
    );
  }
  return resolved;
}

/** The trigger a PUT body makes of `existing`: the rules of POST, the ids and times the server's. */
function replacementOf(existing: Trigger, body: unknown): Trigger {
  const parsed = parseOr400(triggerReplacementSchema, unmasked(body, existing));
  checkReadOnlyFields(parsed, {
    id: existing.id,
    namespace: existing.namespace,
    repository: existing.repository,
  });
  return {
    ...omitReadOnly(parsed),
    id: existing.id,
    namespace: existing.namespace,
    repository: existing.repository,
    createdAt: existing.createdAt,
    updatedAt: Date.now(),
  };
}

/** The record `recordId` of the trigger's namespace, if it is this trigger's; 409 names whose it is. */
async function recordOfTrigger(
  records: RecordStore,
  trigger: Trigger,
  recordId: string,
  action: string,
): Promise<AccessRecord> {
  const record = await records.get(trigger.namespace, recordId);
  if (!record) throw notFound(`record ${recordId}`);
  if (record.triggerId !== trigger.id || record.repository !== trigger.repository) {
    throw new HttpError(
      409,
      'record-of-another-trigger',
      `record ${recordId} belongs to trigger ${record.triggerId} ("${record.triggerName}") of repository ${record.repository}, not to trigger ${trigger.id}: ${action} it through its own trigger`,
    );
  }
  return record;
}

export function triggerHandlers(deps: TriggerRouteDeps): RouteHandlers {
  const handlers: RouteHandlers = {};
  const json = requireMediaType(['application/json']);
  const mergePatch = requireMediaType(['application/merge-patch+json', 'application/json']);

  async function load(req: Request, res: Response) {
    const { namespace, repository } = repositoryOf(req, res);
    const trigger = await deps.triggers.get(namespace, repository, triggerIdOf(req.params.id as string));
    if (!trigger) throw notFound(`trigger ${req.params.id}`);
    return trigger;
  }

  handlers.createTrigger = [
    json,
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const input = parseOr400(triggerInputSchema, unmasked(req.body, undefined));
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
  ];

  handlers.listTriggers = [
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const triggers = await deps.triggers.list(namespace, repository);
      res.json({ triggers: triggers.map(toPublicTrigger) });
    }),
  ];

  handlers.getTrigger = [
    handle(async (req, res) => {
      res.json(toPublicTrigger(await load(req, res)));
    }),
  ];

  handlers.replaceTrigger = [
    json,
    handle(async (req, res) => {
      const existing = await load(req, res);
      const replaced = replacementOf(existing, req.body);
      if (!(await deps.triggers.replace(replaced))) throw notFound(`trigger ${existing.id}`);
      res.json(toPublicTrigger(replaced));
    }),
  ];

  // A merge patch applies to the trigger as read ("***" for the secret and header values),
  // and the result is checked as a PUT body: the same rules, the masked values kept. It is
  // written only if the trigger is still as read, else read and applied again.
  handlers.patchTrigger = [
    mergePatch,
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const id = triggerIdOf(req.params.id as string);
      const patch: unknown = req.body;
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new HttpError(400, 'validation-failed', 'a trigger patch must be a JSON object (RFC 7386)', [
          { path: '(body)', message: 'must be a JSON object of the fields to change; null removes a field' },
        ]);
      }
      for (let tries = 0; tries < PATCH_TRIES; tries++) {
        const read = await deps.triggers.getVersioned(namespace, repository, id);
        if (!read) throw notFound(`trigger ${id}`);
        const patched = replacementOf(read.trigger, applyMergePatch(toPublicTrigger(read.trigger), patch));
        const written = await deps.triggers.replaceIfUnchanged(patched, read.version);
        if (written === 'gone') throw notFound(`trigger ${id}`);
        if (written === 'replaced') {
          res.json(toPublicTrigger(patched));
          return;
        }
      }
      throw new HttpError(
        409,
        'concurrent-update',
        `trigger ${id} kept changing while it was patched; try again`,
      );
    }),
  ];

  handlers.deleteTrigger = [
    handle(async (req, res) => {
      const trigger = await load(req, res);
      await deps.triggers.delete(trigger.namespace, trigger.repository, trigger.id);
      res.status(204).end();
    }),
  ];

  handlers.testTrigger = [
    handle(async (req, res) => {
      const trigger = await load(req, res);
      await deps.limitTestDeliveries(res);
      const outcome = await deps.deliveries.sendTest(trigger, jobContextOf(res));
      if (outcome.kind === 'finished') res.json(outcome.record);
      else res.status(202).json({ deliveryId: outcome.deliveryId, status: 'pending' });
    }),
  ];

  handlers.redeliverRecord = [
    handle(async (req, res) => {
      const trigger = await load(req, res);
      const record = await recordOfTrigger(deps.records, trigger, String(req.params.recordId), 'redeliver');
      if (record.status === 'untriggered') {
        throw new HttpError(
          409,
          'record-untriggered',
          `record ${record.id} is ${UNTRIGGERED_STATUS_CODE}: tag "${record.tag}" did not match the filter of trigger ${trigger.id}, so there is no delivery to send again`,
        );
      }
      const deliveryId = await deps.deliveries.redeliver(trigger, record, jobContextOf(res));
      res.status(202).json({ deliveryId, eventId: record.eventId });
    }),
  ];

  handlers.cancelDelivery = [
    handle(async (req, res) => {
      const trigger = await load(req, res);
      const record = await recordOfTrigger(deps.records, trigger, String(req.params.recordId), 'cancel');
      res.json(await deps.cancels.cancel(trigger, record));
    }),
  ];

  return handlers;
}
