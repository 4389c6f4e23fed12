/** Messages between the benchmark orchestrator and its agent processes (over the fork IPC channel). */

/**
 * How a receiver answers: `fast` 200 at once, `delay` 200 after `delayMs`, `hang` never;
 * `flaky` draws each answer: a 500, a hang, a connection reset (shares in `flaky`), else 200.
 */
export type ReceiverMode = 'fast' | 'delay' | 'hang' | 'flaky';

/** Shares of requests a `flaky` receiver answers 500, holds unanswered, resets; the rest 200. */
export interface FlakyShares {
  error: number;
  hang: number;
  reset: number;
}

/** How one receiver answers; a `mode` message replaces it while the agent runs. */
export interface ReceiverBehaviour {
  mode: ReceiverMode;
  /** For `delay`: answer this long after the request arrived. */
  delayMs?: number;
  flaky?: FlakyShares;
  /** Bytes of a 200's body (default 2, `ok`): what the access log keeps of the answer. */
  bodyBytes?: number;
}

export interface ReceiverSpec extends ReceiverBehaviour {
  label: string;
  /** Keep every webhook-id it receives (DeliverySeen), for an account of each delivery. */
  track?: boolean;
}

/** One webhook-id as a tracked receiver saw it. */
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

/** [server label, tag of the delivered push, arrival time in epoch ms with µs precision] */
export type ArrivalSample = [label: string, tag: string, arrivalMs: number];

export type AgentMessage =
  | { type: 'ready'; ports?: Record<string, number> }
  /** Cumulative counts since the agent started, sent every 50 ms. */
  | { type: 'counts'; t: number; counts: Record<string, number> }
  | { type: 'samples'; id: number; samples: ArrivalSample[] }
  | { type: 'deliveries'; id: number; deliveries: DeliverySeen[] };

export type OrchestratorMessage =
  /** Receiver: keep (or stop keeping) an arrival sample per request. */
  | { type: 'record'; on: boolean }
  /** Receiver: send the samples kept since the last collect, and forget them. */
  | { type: 'collect'; id: number }
  /** Receiver: destroy the connections of requests that were never answered. */
  | { type: 'release' }
  /** Receiver: answer from now on as `behaviour` says. */
  | { type: 'mode'; label: string; behaviour: ReceiverBehaviour }
  /** Receiver: send the tracked webhook-ids; `forget` drops them. */
  | { type: 'deliveries'; id: number }
  | { type: 'forget' }
  | { type: 'close' };

/** Epoch milliseconds with sub-millisecond precision (comparable across processes on one host). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * A push's tag carries the time its request was sent: `t<epoch µs>-<seq>`. Tags allow
 * `[\w.-]` only, so the receiver can read the send time back without any shared state.
 */
export const tagFor = (sentMs: number, seq: number): string => `t${Math.round(sentMs * 1000)}-${seq}`;

export function sentMsOfTag(tag: string): number | undefined {
  const match = /^t(\d+)-\d+$/.exec(tag);
  return match ? Number(match[1]) / 1000 : undefined;
}
