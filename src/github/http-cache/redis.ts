import type { Redis } from "ioredis";
import { DEFAULT_LIMITS, MemoryHttpCache, type CachedResponse, type HttpCacheStore } from "./store.js";

export interface RedisCacheOptions {
  /** Namespaces the keys (one Redis serves the delivery ledger and Probot's throttling too). */
  prefix: string;
  /** Entries expire after this long without being written again. Default 6 h. */
  ttlMs?: number;
  /** A body larger than this is not shared. Default 2 MiB. */
  maxEntryBytes?: number;
  /** At most this many shared entries (least recently written or read first out). Default 50,000. */
  maxEntries?: number;
  /** At most this many bytes of shared entries in all. Default 256 MiB. */
  maxBytes?: number;
  /** The in-process layer in front of Redis (bounded like MemoryHttpCache). */
  local?: MemoryHttpCache;
  /** Redis errors are cache misses (one ordinary request each); this hears about them. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_SHARED_LIMITS = {
  maxEntries: 50_000,
  maxBytes: 256 * 1024 * 1024,
  ttlMs: 6 * 3600 * 1000,
} as const;

/**
 * Drops one entry with its bookkeeping. KEYS: index (sorted set: entry key by last use, epoch ms),
 * sizes (hash: entry key to bytes), bytes (counter). ARGV: the entry's full key.
 */
const DROP = `
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then
  redis.call('DECRBY', KEYS[3], size)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[1])
`;

/**
 * Stores one entry and evicts until the bounds hold, atomically (one script). KEYS as DROP. ARGV:
 * key, text, ttl ms, now ms, bytes of text, maxEntries, maxBytes. Entries whose TTL ran out are
 * dropped from the bookkeeping first (a bounded batch per write), then the least recently used.
 */
const SET = `
local function drop(k)
  local size = redis.call('HGET', KEYS[2], k)
  if size then
    redis.call('DECRBY', KEYS[3], size)
    redis.call('HDEL', KEYS[2], k)
  end
  redis.call('ZREM', KEYS[1], k)
  redis.call('DEL', k)
end
local now = tonumber(ARGV[4])
drop(ARGV[1])
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 64)) do
  drop(k)
end
redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
local bytes = redis.call('INCRBY', KEYS[3], ARGV[5])
local maxEntries = tonumber(ARGV[6])
local maxBytes = tonumber(ARGV[7])
while redis.call('ZCARD', KEYS[1]) > maxEntries or bytes > maxBytes do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #oldest == 0 then break end
  drop(oldest[1])
  bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
end
return bytes
`;

/**
 * The cache shared by every replica through Redis (REDIS_URL), with a bounded in-process layer in
 * front. The shared part is bounded too: at most `maxEntries` entries and `maxBytes` bytes (least
 * recently written or read through Redis evicted first, in the same script that writes, so
 * replicas writing at once cannot overshoot), no entry over `maxEntryBytes`, and each expires
 * `ttlMs` after its last use. The bookkeeping (an index by last use, the sizes, a byte counter)
 * lives under the same prefix. A Redis that cannot answer degrades to the local layer, never to an
 * error: a miss is an unconditional request.
 */
export class RedisHttpCache implements HttpCacheStore {
  private readonly local: MemoryHttpCache;
  private readonly ttlMs: number;
  private readonly maxEntryBytes: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisCacheOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.local = options.local ?? new MemoryHttpCache();
    this.ttlMs = options.ttlMs ?? DEFAULT_SHARED_LIMITS.ttlMs;
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_LIMITS.maxEntryBytes;
    this.maxEntries = options.maxEntries ?? DEFAULT_SHARED_LIMITS.maxEntries;
    this.maxBytes = options.maxBytes ?? DEFAULT_SHARED_LIMITS.maxBytes;
  }

  /** The bookkeeping keys (index, sizes, bytes); `~` never occurs in a cache key (hex digests). */
  private get bookkeeping(): [string, string, string] {
    const p = this.options.prefix;
    return [`${p}~index`, `${p}~sizes`, `${p}~bytes`];
  }

  /** What the shared part holds now: entries and bytes as its bookkeeping counts them. */
  async sharedUsage(): Promise<{ entries: number; bytes: number }> {
    const [index, , bytes] = this.bookkeeping;
    const [entries, total] = await Promise.all([this.redis.zcard(index), this.redis.get(bytes)]);
    return { entries, bytes: Number(total ?? 0) };
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const local = await this.local.get(key);
    if (local !== undefined) return local;
    const full = this.options.prefix + key;
    const [index] = this.bookkeeping;
    try {
      // A read is a use: it moves the entry to the back of the eviction order and renews its TTL.
      const replies = await this.redis
        .multi()
        .get(full)
        .pexpire(full, this.ttlMs)
        .zadd(index, "XX", this.clock(), full)
        .exec();
      const reply = replies?.[0];
      if (reply === undefined || reply[0] !== null) throw reply?.[0] ?? new Error("redis: no reply");
      const text = reply[1];
      if (typeof text !== "string") {
        // Expired (or evicted by Redis itself): forget its bookkeeping so it stops counting.
        await this.redis.eval(DROP, 3, ...this.bookkeeping, full);
        return undefined;
      }
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
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxEntryBytes || bytes > this.maxBytes) return;
    try {
      await this.redis.eval(
        SET,
        3,
        ...this.bookkeeping,
        this.options.prefix + key,
        text,
        this.ttlMs,
        this.clock(),
        bytes,
        this.maxEntries,
        this.maxBytes,
      );
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
