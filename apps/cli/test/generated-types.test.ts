// The committed client types are those of the document the api serves at GET /openapi.json:
// a route or field added to the document without `npm run generate -w @registry-triggers/cli`
// fails here.
import { readFileSync } from 'node:fs';
import { openApiDocument } from '@registry-triggers/http-kit';
import { expect, it } from 'vitest';
import { GENERATED_TYPES_PATH, generatedClientTypes } from '../scripts/client-types.js';

it('src/generated/openapi.ts is generated from the current OpenAPI document', async () => {
  const committed = readFileSync(new URL(`../${GENERATED_TYPES_PATH}`, import.meta.url), 'utf8');
  const fresh = await generatedClientTypes(openApiDocument());
  expect(committed === fresh, 'stale: run npm run generate -w @registry-triggers/cli').toBe(true);
});

it('the generation sees a change of the document', async () => {
  const document = openApiDocument();
  (document.paths as Record<string, unknown>)['/v1/brand-new'] = {
    get: { operationId: 'brandNew', responses: { 204: { description: 'none' } } },
  };
  const changed = await generatedClientTypes(document);
  expect(changed).toContain('"/v1/brand-new"');
  expect(changed).not.toBe(await generatedClientTypes(openApiDocument()));
});
