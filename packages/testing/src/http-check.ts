/** The status a GET of `url` answers within 2 s (readiness probes; errors propagate). */
export async function statusOf(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status;
}

/** A readiness check of `url` that remembers its last answer (a status or an error) for messages. */
export function httpReadiness(url: string): { check: () => Promise<boolean>; awaiting: () => string } {
  let last = 'no answer yet';
  return {
    check: async () => {
      try {
        const status = await statusOf(url);
        last = String(status);
        return status === 200;
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        last = cause ?? (error instanceof Error ? error.message : String(error));
        return false;
      }
    },
    awaiting: () => `GET ${url} answering 200 (last: ${last})`,
  };
}
