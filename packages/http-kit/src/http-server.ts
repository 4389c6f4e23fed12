import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * Starts listening (every interface when `host` is not given); resolves once the port is bound.
 * Every answer of every app is sent as the type it declares (JSON, problem+json, metrics text),
 * never sniffed into something a browser would run: one header here covers them all.
 */
export function listen(app: Express, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(expressMessages(app), app);
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve(server);
    };
    if (host === undefined) server.listen(port, done);
    else server.listen(port, host, done);
    server.prependListener('request', (_request, response) => {
      response.setHeader('X-Content-Type-Options', 'nosniff');
    });
    server.keepAliveTimeout = 65_000;
  });
}

/**
 * The classes of the server's requests and responses: express's request and response from the
 * start. Express otherwise re-prototypes both objects of every request (`app.handle`), which
 * the profile of POST /v1/events/push showed at about 4% of the api's CPU; a direct route
 * (direct-routes.ts) then has nothing to change.
 */
function expressMessages(app: Express) {
  const { request, response } = app as unknown as { request: object; response: object };
  class ExpressRequest extends IncomingMessage {}
  Object.setPrototypeOf(ExpressRequest.prototype, request);
  class ExpressResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  Object.setPrototypeOf(ExpressResponse.prototype, response);
  return { IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse };
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

/**
 * Stops accepting connections, lets in-flight requests finish, and closes every keep-alive
 * connection as soon as it is idle. A connection in use when the close starts would otherwise
 * carry request after request (a load balancer or a registry keeps it busy) and the close
 * never completed: the api then hit its shutdown deadline and exited 1 mid-request. From the
 * close on, every answer says `Connection: close` and ends its connection.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const closeAfterAnswer = (_req: IncomingMessage, res: ServerResponse) => {
      res.shouldKeepAlive = false;
    };
    server.prependListener('request', closeAfterAnswer);
    // Answers already under way when the close began went out as keep-alive: their
    // connections are closed once idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      server.off('request', closeAfterAnswer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
