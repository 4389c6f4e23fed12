/**
 * One reader per followed namespace: a blocking read of the namespace's log on one Redis
 * connection, each batch handed to every stream that follows the namespace. A thousand
 * browser tabs on one namespace cost one connection, not a thousand. A reader never waits
 * for a stream: a stream that cannot keep up is the stream's business (live-tail.ts).
 */
import type { AccessRecord } from '@registry-triggers/core';
import { RecordStore, type RedisConnection } from '@registry-triggers/store';

export interface TailFollower {
  /** Records newer than the reader's last batch, oldest first. */
  deliver(records: AccessRecord[]): void;
  /** Nothing new for a heartbeat interval: a chance to tell the client the stream lives. */
  idle(): void;
}

interface Reader {
  followers: Set<TailFollower>;
  position: string;
  connection: RedisConnection;
  stopped: boolean;
}

const RETRY_AFTER_ERROR_MS = 1000;

export class NamespaceTails {
  private readonly readers = new Map<string, Reader>();

  constructor(
    private readonly blockingConnection: () => RedisConnection,
    private readonly idleMs: number,
  ) {}

  /**
   * Adds `follower` to the namespace's reader, starting one at `position` if none runs. An
   * older or newer `position` of a later follower is for the follower to sort out (the
   * reader's batches start wherever it is). Answers the function that removes the follower;
   * the last one to leave stops the reader and closes its connection.
   */
  follow(namespace: string, position: string, follower: TailFollower): () => void {
    let reader = this.readers.get(namespace);
    if (!reader) {
      reader = { followers: new Set(), position, connection: this.blockingConnection(), stopped: false };
      this.readers.set(namespace, reader);
      void this.run(namespace, reader);
    }
    const joined = reader;
    joined.followers.add(follower);
    return () => {
      joined.followers.delete(follower);
      if (joined.followers.size === 0) this.stop(namespace, joined);
    };
  }

  /** Readers running now (one per followed namespace). */
  count(): number {
    return this.readers.size;
  }

  private stop(namespace: string, reader: Reader): void {
    if (reader.stopped) return;
    reader.stopped = true;
    // Synchronously out of the map: a stream arriving now starts a new reader.
    if (this.readers.get(namespace) === reader) this.readers.delete(namespace);
    // Ends a blocking read in flight at once.
    reader.connection.disconnect();
  }

  private async run(namespace: string, reader: Reader): Promise<void> {
    while (!reader.stopped) {
      try {
        const batch = await RecordStore.readAfter(reader.connection, namespace, reader.position, this.idleMs);
        if (reader.stopped) break;
        const followers = [...reader.followers];
        if (batch.length === 0) {
          for (const follower of followers) follower.idle();
          continue;
        }
        reader.position = batch.at(-1)!.id;
        for (const follower of followers) follower.deliver(batch);
      } catch {
        if (!reader.stopped) await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }
}
