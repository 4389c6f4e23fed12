import {
  checkReadOnlyFields,
  notFound,
  parseOr400,
  parseQueryOr400,
  type RouteHandlers,
  repositoryBodySchema,
} from '@registry-triggers/http-kit';
import { type NamespaceQuotas, QuotaExceededError, type RepositoryStore } from '@registry-triggers/store';
import { z } from 'zod';
import { quotaRefusal } from '../quotas.js';
import { handle, namespaceOf, repositoryOf, requireMediaType } from './params.js';

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(300).optional(),
});

export function repositoryHandlers(repositories: RepositoryStore, quotas: NamespaceQuotas): RouteHandlers {
  const handlers: RouteHandlers = {};
  handlers.putRepository = [
    requireMediaType(['application/json']),
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const body = parseOr400(repositoryBodySchema, req.body);
      checkReadOnlyFields(body, { namespace, name: repository });
      const { repoType, authenticationType, originType } = body;
      const result = await repositories
        .put(
          namespace,
          repository,
          { repoType, authenticationType, originType },
          Date.now(),
          quotas.repositoriesPerNamespace,
        )
        .catch((error: unknown) => {
          throw error instanceof QuotaExceededError ? quotaRefusal(error) : error;
        });
      res.status(result.created ? 201 : 200).json(result.repository);
    }),
  ];
  handlers.getRepository = [
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      const found = await repositories.get(namespace, repository);
      if (!found) throw notFound(`repository ${namespace}/${repository}`);
      res.json(found);
    }),
  ];
  handlers.deleteRepository = [
    handle(async (req, res) => {
      const { namespace, repository } = repositoryOf(req, res);
      if (!(await repositories.delete(namespace, repository)))
        throw notFound(`repository ${namespace}/${repository}`);
      res.status(204).end();
    }),
  ];
  handlers.listRepositories = [
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      const query = parseQueryOr400(listQuerySchema, req.query);
      res.json(await repositories.list(namespace, query));
    }),
  ];
  return handlers;
}
