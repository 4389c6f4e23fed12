/**
 * Typed clients of the OpenAPI document (openapi-fetch over the generated types): one for
 * the api app, one for the logs app, which serves the access log. No URL is spelled here.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { Settings } from './config.js';
import { ApiError, type Problem } from './errors.js';
import type { paths } from './generated/openapi.js';

export type RegistryClient = Client<paths>;

export interface Clients {
  api: RegistryClient;
  logs: RegistryClient;
}

export function createClients(settings: Settings): Clients {
  const headers = { Authorization: `Bearer ${settings.token}` };
  return {
    api: createClient<paths>({ baseUrl: settings.url, headers, fetch: reachable(settings.url) }),
    logs: createClient<paths>({ baseUrl: settings.logsUrl, headers, fetch: reachable(settings.logsUrl) }),
  };
}

/** fetch, with a connection failure said as an API error naming the address. */
function reachable(baseUrl: string): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await fetch(request);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(undefined, {
        title: 'Cannot reach the server',
        detail: `${baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      });
    }
  };
}

/** The data of a successful answer; anything else becomes an ApiError with its problem. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const problem: Problem =
    typeof error === 'object' && error !== null
      ? (error as Problem)
      : { title: response.statusText || `HTTP ${response.status}`, detail: String(error ?? '') };
  throw new ApiError(response.status, problem);
}
