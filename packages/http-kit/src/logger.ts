import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs, one line per event; tokens, secrets and signatures are redacted wherever they
 * appear. Written to stdout unless a destination is given (tests read them back).
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
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
  };
  return destination ? pino(options, destination) : pino(options);
}
