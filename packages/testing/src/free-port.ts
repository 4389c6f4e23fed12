import { createServer } from 'node:net';

/**
 * A port that was free a moment ago: the kernel picks it for a listener on port 0, which
 * is then closed. Another process can still take it before the caller binds, so callers
 * that spawn servers wrap the start in `retryOnAddressInUse`.
 */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return (await getFreePorts(1, host))[0]!;
}

/** `count` distinct free ports: all listeners stay open until every port is known. */
export async function getFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('listener has no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Runs `start` (which picks its own free ports) again, up to `attempts` times in all,
 * when it failed because a port was taken between probing and binding: EADDRINUSE from a
 * server of ours, "Address already in use" from redis-server, or an app's one line
 * "invalid setting API_PORT: port N is already in use" (carried in the start's error).
 */
export async function retryOnAddressInUse<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !isAddressInUse(error)) throw error;
    }
  }
}

function isAddressInUse(error: unknown): boolean {
  return (
    (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE' ||
    /already in use|EADDRINUSE/i.test(String(error))
  );
}
