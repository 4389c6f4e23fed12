/**
 * The dispatcher of each delivery: the shared one, or for an HTTPS delivery of a namespace with
 * a private CA bundle, one whose trusted roots are the standard CAs plus that bundle. One
 * dispatcher (and connection pool) per distinct bundle, found by its sha256, so a bundle
 * replaced or deleted is used by no new connection from the next delivery on; at most
 * `capacity` of them, the least recently used closed (gracefully: its requests finish) beyond that.
 */
import { rootCertificates } from 'node:tls';
import type { CaBundleStore } from '@registry-triggers/store';
import type { Dispatcher } from 'undici';
import { createDeliveryDispatcher, type DispatcherOptions } from './http-delivery.js';

export class CaDispatchers {
  readonly #byBundle = new Map<string, Dispatcher>();

  constructor(
    private readonly bundles: CaBundleStore,
    private readonly shared: Dispatcher,
    private readonly options: DispatcherOptions,
    private readonly capacity = 32,
  ) {}

  async forDelivery(namespace: string, url: string): Promise<Dispatcher> {
    if (!url.startsWith('https:')) return this.shared;
    const sha256 = await this.bundles.fingerprint(namespace);
    if (sha256 === undefined) return this.shared;
    const cached = this.#byBundle.get(sha256);
    if (cached) {
      // Map order is use order: move it to the newest end.
      this.#byBundle.delete(sha256);
      this.#byBundle.set(sha256, cached);
      return cached;
    }
    const bundle = await this.bundles.get(namespace);
    // Deleted or replaced in between: this delivery goes as the namespace is configured now.
    if (!bundle) return this.shared;
    const existing = this.#byBundle.get(bundle.sha256);
    if (existing) return existing;
    const dispatcher = createDeliveryDispatcher({ ...this.options, ca: [...rootCertificates, bundle.pem] });
    this.#byBundle.set(bundle.sha256, dispatcher);
    if (this.#byBundle.size > this.capacity) {
      const [oldest, evicted] = this.#byBundle.entries().next().value as [string, Dispatcher];
      this.#byBundle.delete(oldest);
      void evicted.close().catch(() => {});
    }
    return dispatcher;
  }

  get size(): number {
    return this.#byBundle.size;
  }

  async close(): Promise<void> {
    const all = [...this.#byBundle.values()];
    this.#byBundle.clear();
    await Promise.all(all.map((dispatcher) => dispatcher.close()));
  }
}
