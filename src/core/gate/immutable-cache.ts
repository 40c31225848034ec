/**
 * A bounded cache for data that never changes once known: objects addressed by SHA, verdicts for
 * (commit, keyring digest). Concurrent loads of one key share a single request; failures are not
 * cached, so a transient error is retried on the next evaluation.
 */
export class ImmutableCache<K, V> {
  private readonly values = new Map<K, V>();
  private readonly inflight = new Map<K, Promise<V>>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.values.size;
  }

  get(key: K): V | undefined {
    const value = this.values.get(key);
    if (value !== undefined) {
      // Refresh recency: Map keeps insertion order, so re-insert to make this the newest.
      this.values.delete(key);
      this.values.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.values.delete(key);
    this.values.set(key, value);
    while (this.values.size > this.capacity) {
      const oldest = this.values.keys().next().value as K;
      this.values.delete(oldest);
    }
  }

  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined || this.values.has(key)) return cached as V;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const promise = load().then(
      (value) => {
        this.inflight.delete(key);
        this.set(key, value);
        return value;
      },
      (error: unknown) => {
        this.inflight.delete(key);
        throw error;
      },
    );
    this.inflight.set(key, promise);
    return promise;
  }
}
