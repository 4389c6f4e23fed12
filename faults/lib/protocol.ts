/** Messages between the fault suite and its own agents (the SSE clients); the receivers' are bench/lib/protocol.ts. */

export interface SseClientsSpec {
  url: string;
  token: string;
  clients: number;
  /** The first `stalled` clients never read after sending their request. */
  stalled: number;
}

export interface SseReport {
  /** Per reading client: records received. */
  received: number[];
  /** Per reading client: how often it connected again (with Last-Event-ID) after its stream ended. */
  reconnects: number[];
  /** Per stalled client: its local port (to find the server's side of the connection). */
  stalledPorts: number[];
  /** Per reading client: delay from a record's requestTime to its arrival, p99 ms. */
  lagP99Ms: number[];
}

export type SseToAgent = { type: 'report'; id: number } | { type: 'close' };
