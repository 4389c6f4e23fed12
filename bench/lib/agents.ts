/** Forks the benchmark's agent processes and follows the counts they report. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AgentMessage, ArrivalSample, DeliverySeen, OrchestratorMessage } from './protocol.js';

/** Node flags every TypeScript process of the repository runs with (as `npm start` does). */
export const TS_NODE_FLAGS = ['--conditions=source', '--import', 'tsx'];

export interface CountSnapshot {
  /** Agent clock, epoch ms. */
  t: number;
  counts: Record<string, number>;
}

export class Agent {
  private latest: CountSnapshot = { t: 0, counts: {} };
  private readonly waiters = new Set<() => void>();
  private nextId = 0;
  ports: Record<string, number> = {};

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: AgentMessage) => {
      if (message.type !== 'counts') return;
      this.latest = { t: message.t, counts: message.counts };
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  snapshot(): CountSnapshot {
    return this.latest;
  }

  count(label: string): number {
    return this.latest.counts[label] ?? 0;
  }

  /** Sum of the counts of several labels. */
  total(labels: readonly string[]): number {
    return labels.reduce((sum, label) => sum + this.count(label), 0);
  }

  /** Resolves at the next counts message (or after `timeoutMs`). */
  nextCounts(timeoutMs = 1000): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Waits until `predicate` holds for the reported counts; false at the deadline. */
  async until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() >= deadline) return false;
      await this.nextCounts(Math.min(500, Math.max(1, deadline - Date.now())));
    }
    return true;
  }

  send(message: OrchestratorMessage): void {
    this.child.send(message);
  }

  /** Sends a request that carries an id and resolves with the agent's reply of that id. */
  private ask<T>(
    request: (id: number) => OrchestratorMessage,
    reply: (message: AgentMessage) => T | undefined,
  ) {
    const id = this.nextId++;
    const answered = new Promise<T>((resolve) => {
      const listener = (message: AgentMessage) => {
        if (!('id' in message) || message.id !== id) return;
        const value = reply(message);
        if (value === undefined) return;
        this.child.off('message', listener);
        resolve(value);
      };
      this.child.on('message', listener);
    });
    this.send(request(id));
    return answered;
  }

  /** Receiver: the arrival samples kept since the last collect. */
  collect(): Promise<ArrivalSample[]> {
    return this.ask(
      (id) => ({ type: 'collect', id }),
      (message) => (message.type === 'samples' ? message.samples : undefined),
    );
  }

  /** Receiver: every webhook-id its tracked labels received, with how each was answered. */
  deliveries(): Promise<DeliverySeen[]> {
    return this.ask(
      (id) => ({ type: 'deliveries', id }),
      (message) => (message.type === 'deliveries' ? message.deliveries : undefined),
    );
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    try {
      this.send({ type: 'close' });
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Forks `bench/agents/<script>` with one JSON argument and waits for its `ready`. */
export async function forkAgent(script: string, argument: unknown): Promise<Agent> {
  const path = fileURLToPath(new URL(`../agents/${script}`, import.meta.url));
  const child = fork(path, [JSON.stringify(argument)], {
    execArgv: TS_NODE_FLAGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  const agent = new Agent(script, child);
  const ready = await new Promise<AgentMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not become ready in 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    const listener = (message: AgentMessage) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
  });
  if (ready.type === 'ready' && ready.ports) agent.ports = ready.ports;
  return agent;
}
