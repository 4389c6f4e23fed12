/** Reads a process's settings once, at start-up; a bad one ends the process with one clear line. */
import type { z } from 'zod';

export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = issue.path.join('.') || 'environment';
  process.stderr.write(`invalid setting ${variable}: ${issue.message}\n`);
  process.exit(2);
}

/** `"true"`/`"1"` and `"false"`/`"0"` as booleans; z.coerce.boolean would read "false" as true. */
export const envBoolean = (value: unknown) =>
  typeof value === 'string' ? ['true', '1', 'yes'].includes(value.trim().toLowerCase()) : value;
