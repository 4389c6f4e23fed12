/**
 * One place per process that closes what it opened, in registration order
 * (HTTP first, then workers, queues, Redis), within a deadline. Past the deadline
 * the process exits non-zero rather than hanging.
 */
import type { Logger } from 'pino';

type Closer = { name: string; close: () => Promise<unknown> | unknown };

export class ShutdownManager {
  private readonly closers: Closer[] = [];
  private shuttingDown: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 15_000,
  ) {}

  register(name: string, close: Closer['close']): void {
    this.closers.push({ name, close });
  }

  /** Closes everything; resolves when done. Safe to call more than once. */
  shutdown(reason: string): Promise<void> {
    this.shuttingDown ??= this.run(reason);
    return this.shuttingDown;
  }

  /** SIGTERM and SIGINT start the shutdown; the process exits 0 when it completes, 1 past the deadline. */
  listen(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      const timer = setTimeout(() => {
        this.logger.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed');
        process.exit(1);
      }, this.deadlineMs);
      timer.unref();
      void this.shutdown(signal).then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  private async run(reason: string): Promise<void> {
    this.logger.info({ reason }, 'shutting down');
    for (const closer of this.closers) {
      try {
        await closer.close();
      } catch (error) {
        this.logger.warn({ err: error, closer: closer.name }, 'error while closing');
      }
    }
    this.logger.info('shutdown complete');
  }
}
