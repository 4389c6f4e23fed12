import { requireAdmin } from '@registry-triggers/http-kit';
import { issueNamespaceToken, type RedisConnection } from '@registry-triggers/store';
import { Router } from 'express';
import { handle, namespaceOf } from './params.js';

export function tokenRoutes(redis: RedisConnection): Router {
  const router = Router();
  router.post(
    '/v1/namespaces/:ns/tokens',
    handle(async (req, res) => {
      requireAdmin(res);
      const namespace = namespaceOf(req, res);
      const token = await issueNamespaceToken(redis, namespace);
      res.status(201).json({ namespace, token });
    }),
  );
  return router;
}
