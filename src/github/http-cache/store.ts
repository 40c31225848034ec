/**
 * Where validated GitHub responses are kept between requests (docs/performance.md, "Conditional
 * requests"). An entry is only ever served after GitHub answered `304 Not Modified` to a request
 * carrying its validator, so a stale or lost entry costs one ordinary request, never a wrong answer.
 */
export interface CachedResponse {
  /** `ETag` GitHub sent with the body (sent back as `If-None-Match`). */
  etag?: string;
  /** `Last-Modified` GitHub sent (sent back as `If-Modified-Since` when there is no ETag). */
  lastModified?: string;
  /** The response headers of the 200 (rate-limit headers are replaced by the 304's). */
  headers: Record<string, string>;
  /** The body, base64 (raw media types are bytes, not text). */
  body: string;
}

export interface HttpCacheStore {
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, entry: CachedResponse): Promise<void>;
}

export interface MemoryCacheLimits {
  /** At most this many entries (least recently used evicted first). Default 5,000. */
  maxEntries?: number;
  /** At most this many bytes of bodies in total. Default 64 MiB. */
  maxBytes?: number;
  /** A body larger than this is not kept at all. Default 2 MiB. */
  maxEntryBytes?: number;
}

export const DEFAULT_LIMITS: Required<MemoryCacheLimits> = {
  maxEntries: 5_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 2 * 1024 * 1024,
};

export function entrySize(key: string, entry: CachedResponse): number {
  let size = key.length + entry.body.length + (entry.etag?.length ?? 0) + (entry.lastModified?.length ?? 0);
  for (const [k, v] of Object.entries(entry.headers)) size += k.length + v.length;
  return size;
}

/** A bounded least-recently-used cache in this process. */
export class MemoryHttpCache implements HttpCacheStore {
  private readonly entries = new Map<string, { entry: CachedResponse; size: number }>();
  private bytes = 0;
  readonly limits: Required<MemoryCacheLimits>;

  constructor(limits: MemoryCacheLimits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): Promise<CachedResponse | undefined> {
    const found = this.entries.get(key);
    if (found === undefined) return Promise.resolve(undefined);
    // Re-insert: Map iteration order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, found);
    return Promise.resolve(found.entry);
  }

  set(key: string, entry: CachedResponse): Promise<void> {
    const size = entrySize(key, entry);
    this.delete(key);
    if (size > this.limits.maxEntryBytes) return Promise.resolve();
    this.entries.set(key, { entry, size });
    this.bytes += size;
    for (const [oldest] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.delete(oldest);
    }
    return Promise.resolve();
  }

  private delete(key: string): void {
    const found = this.entries.get(key);
    if (found === undefined) return;
    this.entries.delete(key);
    this.bytes -= found.size;
  }
}
