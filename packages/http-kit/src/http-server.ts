import type { Server } from 'node:http';
import type { Express } from 'express';

/**
 * Starts listening (every interface when `host` is not given); resolves once the port is bound.
 * Every answer of every app is sent as the type it declares (JSON, problem+json, metrics text),
 * never sniffed into something a browser would run: one header here covers them all.
 */
export function listen(app: Express, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => (error ? reject(error) : resolve(server));
    const server = host === undefined ? app.listen(port, done) : app.listen(port, host, done);
    server.prependListener('request', (_request, response) => {
      response.setHeader('X-Content-Type-Options', 'nosniff');
    });
    server.keepAliveTimeout = 65_000;
  });
}

/**
 * `listen` for the port an app's setting names: a port it cannot have (another process holds
 * it, or it is not allowed) ends the process with one line naming the setting and exit code 2,
 * as a bad setting does, not with a stack trace.
 */
export async function listenOrExit(
  app: Express,
  setting: string,
  port: number,
  host?: string,
): Promise<Server> {
  try {
    return await listen(app, port, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `port ${port}${host === undefined ? '' : ` on ${host}`}`;
    const reason =
      code === 'EADDRINUSE'
        ? `${where} is already in use`
        : code === 'EACCES'
          ? `${where} may not be used by this process`
          : `${where} cannot be listened on: ${(error as Error).message}`;
    process.stderr.write(`invalid setting ${setting}: ${reason}\n`);
    process.exit(2);
  }
}

/** Stops accepting connections, lets in-flight requests finish, then drops idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
