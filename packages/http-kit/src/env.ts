/** Reads a process's settings once, at start-up; a bad one ends the process with one clear line. */
import { z } from 'zod';

export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(withoutEmpty(source));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = issue.path.join('.') || 'environment';
  process.stderr.write(`invalid setting ${variable}: ${issue.message}\n`);
  process.exit(2);
}

/**
 * An empty variable is an unset one, as compose files and shells hand over `API_PORT=` for
 * a variable they were not given: its default applies, or "is required" is said, rather than
 * `API_PORT=` meaning port 0.
 */
export function withoutEmpty(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
}

/** The log level of every app: one of pino's. */
export const logEnvSchema = z.object({
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/**
 * A yes/no setting: true/1/yes or false/0/no (any case). Anything else is refused at start-up
 * rather than read as false (z.coerce.boolean would even read "false" as true).
 */
export const envFlag = () =>
  z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      return value;
    },
    z.boolean({ error: 'must be true or false (or 1/0, yes/no)' }),
  );

/**
 * ADMIN_TOKEN / INGEST_TOKEN: one token, or a comma-separated list of them, so an operator
 * rotates one with a rolling restart (new list with both, then the new one alone).
 */
export const tokenListSetting = () =>
  z
    .string({ error: 'is required' })
    .refine((value) => value.split(',').some((token) => token.trim() !== ''), 'must hold at least one token')
    .refine(
      (value) =>
        value
          .split(',')
          .map((token) => token.trim())
          .filter((token) => token !== '')
          .every((token) => token.length >= 16),
      'must be at least 16 characters (each token of a comma-separated list)',
    );
