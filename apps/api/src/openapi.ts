/** The OpenAPI 3.1 document of the api, with request bodies generated from the same zod schemas. */
import { triggerInputSchema } from '@registry-triggers/core';
import { z } from 'zod';
import { pushEventsBodySchema } from './routes/events.js';
import { repositoryBodySchema } from './routes/repositories.js';

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'Registry Triggers API', version: '0.1.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        TriggerInput: z.toJSONSchema(triggerInputSchema, { io: 'input', unrepresentable: 'any' }),
        RepositoryInput: z.toJSONSchema(repositoryBodySchema, { io: 'input' }),
        PushEvents: z.toJSONSchema(pushEventsBodySchema, { io: 'input' }),
      },
      responses: {
        Problem: {
          description: 'RFC 9457 problem',
          content: { 'application/problem+json': { schema: { type: 'object' } } },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {},
  };
}
