import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs, one line per event; tokens, secrets and signatures are redacted wherever they appear. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'secret',
        '*.secret',
        'token',
        '*.token',
        '*["webhook-signature"]',
        'requestHeaders["webhook-signature"]',
      ],
      censor: '***',
    },
  });
}
