import { namespaceNameSchema, recordStatusSchema, repositoryNameSchema } from '@registry-triggers/core';
import { notFound, parseOr400, requireNamespace } from '@registry-triggers/http-kit';
import { isRecordId, type RecordStore } from '@registry-triggers/store';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';

const recordId = z.string().refine(isRecordId, 'must be a record id such as 1732665000000-0');
// Epoch ms, or an ISO-8601 time; either way not before 1970 (stream ids have no negative times).
const time = z.union([
  z.coerce.number().int().min(0),
  z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value))
    .pipe(z.number().min(0, 'must not be before 1970-01-01T00:00:00Z')),
]);

export const recordQuerySchema = z.strictObject({
  status: recordStatusSchema.optional(),
  tag: z.string().min(1).max(128).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: recordId.optional(),
});

const pathSchema = z.object({
  ns: namespaceNameSchema,
  repo: repositoryNameSchema.optional(),
  id: z.string().min(1).max(100).optional(),
});

function pathOf(req: Request, res: Response) {
  const path = parseOr400(pathSchema, req.params, 'path');
  requireNamespace(res, path.ns);
  return path;
}

export function recordRoutes(records: RecordStore): Router {
  const router = Router();

  router.get('/v1/namespaces/:ns/repositories/:repo/triggers/:id/records', async (req, res) => {
    const { ns, repo, id } = pathOf(req, res);
    const query = parseOr400(recordQuerySchema, req.query, 'query');
    res.json(await records.list({ ...query, namespace: ns, scope: { repository: repo!, triggerId: id } }));
  });

  router.get('/v1/namespaces/:ns/repositories/:repo/records', async (req, res) => {
    const { ns, repo } = pathOf(req, res);
    const query = parseOr400(recordQuerySchema, req.query, 'query');
    res.json(await records.list({ ...query, namespace: ns, scope: { repository: repo! } }));
  });

  router.get('/v1/namespaces/:ns/records', async (req, res) => {
    const { ns } = pathOf(req, res);
    const query = parseOr400(recordQuerySchema, req.query, 'query');
    res.json(await records.list({ ...query, namespace: ns, scope: { all: true } }));
  });

  router.get('/v1/namespaces/:ns/records/:recordId', async (req, res, next) => {
    if (req.params.recordId === 'stream') return next();
    const { ns } = pathOf(req, res);
    const record = await records.get(ns, String(req.params.recordId));
    if (!record) throw notFound(`record ${req.params.recordId}`);
    res.json(record);
  });
  return router;
}
