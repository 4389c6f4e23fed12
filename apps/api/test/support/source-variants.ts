/**
 * The registry webhook variants under fixtures/sources/variants/<source>/<case>.json (their
 * README says how they were written): the one reader of their format, for every suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const root = new URL('../fixtures/sources/variants/', import.meta.url);

const pushSchema = z.strictObject({
  namespace: z.string(),
  repository: z.string(),
  tag: z.string(),
  digest: z.string(),
});

export const caseSchema = z.object({
  description: z.string().min(1),
  docs: z.string().min(1),
  request: z.object({
    path: z.string().startsWith('/v1/events/'),
    headers: z.record(z.string(), z.string()),
    body: z.unknown().optional(),
    bodyText: z.string().optional(),
  }),
  expect: z.object({
    status: z.number().int(),
    pushes: z.array(pushSchema).optional(),
    ignored: z.number().int().optional(),
    errorPath: z.string().optional(),
  }),
});

/** `<source>/<case>` of every file, in a stable order (some cases resend an earlier one). */
export function variantFiles(): string[] {
  let sources: string[];
  try {
    sources = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  return sources
    .flatMap((source) =>
      readdirSync(new URL(`${source}/`, root))
        .filter((name) => name.endsWith('.json'))
        .map((name) => `${source}/${name}`),
    )
    .sort();
}

export type VariantCase = z.infer<typeof caseSchema>;

/** One case, checked against the format. */
export const loadVariant = (file: string): VariantCase =>
  caseSchema.parse(JSON.parse(readFileSync(new URL(file, root), 'utf8')));
