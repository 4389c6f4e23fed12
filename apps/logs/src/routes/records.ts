import { namespaceNameSchema, repositoryNameSchema } from '@registry-triggers/core';
import {
  notFound,
  parseOr400,
  parseQueryOr400,
  type RouteHandlers,
  recordQuerySchema,
  requireNamespace,
} from '@registry-triggers/http-kit';
import type { RecordStore } from '@registry-triggers/store';
import type { Request, Response } from 'express';
import { z } from 'zod';

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

export function recordHandlers(records: RecordStore): RouteHandlers {
  const handlers: RouteHandlers = {};

  handlers.listTriggerRecords = async (req, res) => {
    const { ns, repo, id } = pathOf(req, res);
    const query = parseQueryOr400(recordQuerySchema, req.query);
    res.json(await records.list({ ...query, namespace: ns, scope: { repository: repo!, triggerId: id } }));
  };

  handlers.listRepositoryRecords = async (req, res) => {
    const { ns, repo } = pathOf(req, res);
    const query = parseQueryOr400(recordQuerySchema, req.query);
    res.json(await records.list({ ...query, namespace: ns, scope: { repository: repo! } }));
  };

  handlers.listNamespaceRecords = async (req, res) => {
    const { ns } = pathOf(req, res);
    const query = parseQueryOr400(recordQuerySchema, req.query);
    res.json(await records.list({ ...query, namespace: ns, scope: { all: true } }));
  };

  handlers.getRecord = async (req, res, next) => {
    if (req.params.recordId === 'stream') return next();
    const { ns } = pathOf(req, res);
    const record = await records.get(ns, String(req.params.recordId));
    if (!record) throw notFound(`record ${req.params.recordId}`);
    res.json(record);
  };
  return handlers;
}
