/**
 * A namespace's private CA bundle: PEM certificates its HTTPS deliveries trust besides the
 * standard CAs (the worker verifies against both). Written by the namespace's admins, read
 * with any token of it that may read.
 */
import { checkCaBundle, MAX_CA_BUNDLE_BYTES } from '@registry-triggers/core';
import { HttpError, notFound, type RouteHandlers } from '@registry-triggers/http-kit';
import type { CaBundleStore } from '@registry-triggers/store';
import express from 'express';
import { handle, namespaceOf, requireMediaType } from './params.js';

export const CA_BUNDLE_MEDIA_TYPES = ['application/x-pem-file', 'text/plain'];

export function caBundleHandlers(bundles: CaBundleStore): RouteHandlers {
  const handlers: RouteHandlers = {};
  handlers.putCaBundle = [
    requireMediaType(CA_BUNDLE_MEDIA_TYPES),
    express.text({ type: CA_BUNDLE_MEDIA_TYPES, limit: MAX_CA_BUNDLE_BYTES }),
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      const pem = typeof req.body === 'string' ? req.body : '';
      const check = checkCaBundle(pem);
      if (!check.ok) {
        throw new HttpError(400, 'validation-failed', `body: ${check.problem}`, [
          { path: 'body', message: check.problem },
        ]);
      }
      const stored = await bundles.put(namespace, pem);
      res.json({ namespace, certificates: check.certificates, sha256: stored.sha256 });
    }),
  ];

  handlers.getCaBundle = [
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      const bundle = await bundles.get(namespace);
      if (!bundle) throw notFound(`the CA bundle of namespace ${namespace}`);
      res.type('application/x-pem-file').send(bundle.pem);
    }),
  ];

  handlers.deleteCaBundle = [
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      if (!(await bundles.delete(namespace))) throw notFound(`the CA bundle of namespace ${namespace}`);
      res.status(204).end();
    }),
  ];
  return handlers;
}
