/**
 * Writes src/generated/openapi.ts: the types of the OpenAPI document that the api and the
 * logs app serve at GET /openapi.json, for the CLI's typed client (openapi-fetch).
 * `npm run generate -w @registry-triggers/cli` after a change of the document;
 * test/generated-types.test.ts fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED_TYPES_PATH, generatedClientTypes } from './client-types.js';

const target = fileURLToPath(new URL(`../${GENERATED_TYPES_PATH}`, import.meta.url));
writeFileSync(target, await generatedClientTypes());
console.log(`wrote ${target}`);
