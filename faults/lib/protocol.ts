/** Messages between the fault suite and its agent processes (receivers, proxy, SSE clients). */

export type ReceiverMode =
  | { kind: 'ok' }
  /** Shares of requests answered 500, held unanswered, reset; the rest 200. */
  | { kind: 'flaky'; error: number; hang: number; reset: number };

export interface FaultReceiverSpec {
  label: string;
  mode: ReceiverMode;
}

/** One webhook-id as the receiver saw it. */
export interface DeliverySeen {
  id: string;
  label: string;
  /** Request path: `/hook/<trigger key>`. */
  path: string;
  tag: string;
  /** Requests that carried this webhook-id. */
  received: number;
  /** Of them, answered 2xx. */
  ok: number;
  /** Requests that came after one had been answered 2xx: duplicates. */
  afterOk: number;
  /** Epoch ms of the first request, and of the first one answered 2xx. */
  firstAt: number;
  okAt?: number;
}

export type ReceiverToAgent =
  | { type: 'mode'; label: string; mode: ReceiverMode }
  | { type: 'deliveries'; id: number }
  | { type: 'forget' }
  | { type: 'release' }
  | { type: 'close' };

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
  /** Per reading client: whether its stream ended. */
  readerEnded: boolean[];
  /** Per stalled client: its local port (to find the server's side of the connection). */
  stalledPorts: number[];
  /** Per reading client: delay from a record's requestTime to its arrival, p99 ms. */
  lagP99Ms: number[];
}

export type SseToAgent = { type: 'report'; id: number } | { type: 'close' };
