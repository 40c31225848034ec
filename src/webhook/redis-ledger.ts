import type { Redis } from "ioredis";
import type { LedgerStore } from "./delivery-ledger.js";

/*
 * The delivery ledger shared by every replica through Redis (REDIS_URL). One key per delivery id:
 * "p:<token>" while a replica handles it (PX = the lease, renewed), "h" once handled (PX = the
 * window). The claim is SET NX; the other transitions are compare-and-set scripts on the token, so
 * a replica whose lease lapsed never overwrites or deletes another replica's claim.
 */

const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;
const COMPLETE = `local v = redis.call("GET", KEYS[1])
if v == ARGV[1] or v == false then redis.call("SET", KEYS[1], "h", "PX", ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

export class RedisLedgerStore implements LedgerStore {
  constructor(
    private readonly redis: Redis,
    /** Namespaces the keys: one Redis may serve several apps (and Probot's throttling). */
    readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}${id}`;
  }

  async tryClaim(id: string, token: string, leaseMs: number): Promise<"claimed" | "handled" | "in-flight"> {
    const key = this.key(id);
    // Twice at most: the holder's key can expire between our SET and GET.
    for (let attempt = 0; attempt < 2; attempt++) {
      const set = await this.redis.set(key, `p:${token}`, "PX", leaseMs, "NX");
      if (set === "OK") return "claimed";
      const value = await this.redis.get(key);
      if (value === "h") return "handled";
      if (value !== null) return "in-flight";
    }
    return "in-flight";
  }

  async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key(id), `p:${token}`, String(leaseMs))) === 1;
  }

  async complete(id: string, token: string, windowMs: number): Promise<void> {
    await this.redis.eval(COMPLETE, 1, this.key(id), `p:${token}`, String(windowMs));
  }

  async release(id: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(id), `p:${token}`);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * A Redis client for the ledger: commands fail within `commandTimeoutMs` instead of queueing
 * while Redis is away (the endpoint then answers 503 and the delivery stays redeliverable).
 */
export async function connectRedisLedger(
  url: string,
  prefix: string,
  onError: (error: unknown) => void,
  commandTimeoutMs = 2_000,
): Promise<RedisLedgerStore> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, {
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
  });
  redis.on("error", onError);
  return new RedisLedgerStore(redis, prefix);
}
