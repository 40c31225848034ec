import type { Redis } from "ioredis";
import { DEFAULT_LIMITS, MemoryHttpCache, type CachedResponse, type HttpCacheStore } from "./store.js";

export interface RedisCacheOptions {
  /** Namespaces the keys (one Redis serves the delivery ledger and Probot's throttling too). */
  prefix: string;
  /** Entries expire after this long without being written again. Default 6 h. */
  ttlMs?: number;
  /** A body larger than this is not shared. Default 2 MiB. */
  maxEntryBytes?: number;
  /** The in-process layer in front of Redis (bounded like MemoryHttpCache). */
  local?: MemoryHttpCache;
  /** Redis errors are cache misses (one ordinary request each); this hears about them. */
  onError?: (error: unknown) => void;
}

/**
 * The cache shared by every replica through Redis (REDIS_URL), with a bounded in-process layer in
 * front. Redis bounds it by TTL and entry size (and by its own `maxmemory` policy); a Redis that
 * cannot answer degrades to the local layer, never to an error: a miss is an unconditional request.
 */
export class RedisHttpCache implements HttpCacheStore {
  private readonly local: MemoryHttpCache;
  private readonly ttlMs: number;
  private readonly maxEntryBytes: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisCacheOptions,
  ) {
    this.local = options.local ?? new MemoryHttpCache();
    this.ttlMs = options.ttlMs ?? 6 * 3600 * 1000;
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_LIMITS.maxEntryBytes;
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const local = await this.local.get(key);
    if (local !== undefined) return local;
    try {
      const text = await this.redis.get(this.options.prefix + key);
      if (text === null) return undefined;
      const entry = parse(text);
      if (entry !== undefined) await this.local.set(key, entry);
      return entry;
    } catch (error) {
      this.options.onError?.(error);
      return undefined;
    }
  }

  async set(key: string, entry: CachedResponse): Promise<void> {
    await this.local.set(key, entry);
    const text = JSON.stringify(entry);
    if (text.length > this.maxEntryBytes) return;
    try {
      await this.redis.set(this.options.prefix + key, text, "PX", this.ttlMs);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

/** A shared entry is data another process wrote: anything malformed is a miss. */
function parse(text: string): CachedResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.body !== "string" || typeof v.headers !== "object" || v.headers === null) return undefined;
  if (v.etag !== undefined && typeof v.etag !== "string") return undefined;
  if (v.lastModified !== undefined && typeof v.lastModified !== "string") return undefined;
  if (v.etag === undefined && v.lastModified === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, h] of Object.entries(v.headers)) if (typeof h === "string") headers[k] = h;
  return {
    body: v.body,
    headers,
    ...(typeof v.etag === "string" ? { etag: v.etag } : {}),
    ...(typeof v.lastModified === "string" ? { lastModified: v.lastModified } : {}),
  };
}
