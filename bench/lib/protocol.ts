/** Messages between the benchmark orchestrator and its agent processes (over the fork IPC channel). */

export type ReceiverMode = 'fast' | 'delay' | 'hang';

export interface ReceiverSpec {
  label: string;
  mode: ReceiverMode;
  /** For `delay`: answer this long after the request arrived. */
  delayMs?: number;
}

/** [server label, tag of the delivered push, arrival time in epoch ms with µs precision] */
export type ArrivalSample = [label: string, tag: string, arrivalMs: number];

export type AgentMessage =
  | { type: 'ready'; ports?: Record<string, number> }
  /** Cumulative counts since the agent started, sent every 50 ms. */
  | { type: 'counts'; t: number; counts: Record<string, number> }
  | { type: 'samples'; id: number; samples: ArrivalSample[] };

export type OrchestratorMessage =
  /** Receiver: keep (or stop keeping) an arrival sample per request. */
  | { type: 'record'; on: boolean }
  /** Receiver: send the samples kept since the last collect, and forget them. */
  | { type: 'collect'; id: number }
  /** Receiver: destroy the connections of requests that were never answered. */
  | { type: 'release' }
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
