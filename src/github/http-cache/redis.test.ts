/**
 * The shared cache against a real redis-server on loopback (skipped, loudly, only when
 * redis-server is not on PATH).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../../../test/reliability/support/redis.js";
import { RedisHttpCache } from "./redis.js";
import { MemoryHttpCache } from "./store.js";

const hasRedis = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedis) {
  process.stderr.write(
    "\n*** SKIPPED src/github/http-cache/redis.test.ts: redis-server is not on PATH ***\n",
  );
}

describe.skipIf(!hasRedis)("RedisHttpCache on a real redis-server", () => {
  let dir: string;
  let server: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pullgate-http-cache-"));
    server = await startRedis(dir);
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await client?.quit();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const entry = { etag: 'W/"abc"', headers: { "content-type": "application/json" }, body: "e30=" };

  it("one replica's entry is found by another (its own local layer empty), under the prefix, with a TTL", async () => {
    const a = new RedisHttpCache(client, { prefix: "t1:", ttlMs: 60_000 });
    const b = new RedisHttpCache(client, { prefix: "t1:", ttlMs: 60_000 });
    await a.set("k", entry);
    expect(await b.get("k")).toEqual(entry);
    const ttl = await client.pttl("t1:k");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Another prefix (another app) does not see it.
    expect(await new RedisHttpCache(client, { prefix: "t2:" }).get("k")).toBeUndefined();
  });

  it("a malformed or validator-less shared entry is a miss", async () => {
    await client.set("t3:bad", "not json");
    await client.set("t3:noval", JSON.stringify({ headers: {}, body: "" }));
    await client.set("t3:badtype", JSON.stringify({ etag: 5, headers: {}, body: "" }));
    const cache = new RedisHttpCache(client, { prefix: "t3:" });
    expect(await cache.get("bad")).toBeUndefined();
    expect(await cache.get("noval")).toBeUndefined();
    expect(await cache.get("badtype")).toBeUndefined();
  });

  it("an entry over maxEntryBytes stays local only", async () => {
    const local = new MemoryHttpCache();
    const cache = new RedisHttpCache(client, { prefix: "t4:", maxEntryBytes: 50, local });
    await cache.set("big", { ...entry, body: "x".repeat(100) });
    expect(await client.get("t4:big")).toBeNull();
    expect(local.size).toBe(1);
  });

  it("is bounded in entries: the least recently used shared entries are evicted, the bookkeeping follows", async () => {
    let now = 1_000;
    const clock = () => now++;
    const cache = () => new RedisHttpCache(client, { prefix: "t6:", maxEntries: 3 }, clock);
    for (const k of ["a", "b", "c"]) await cache().set(k, entry);
    // A read through Redis (fresh local layer, as on another replica) is a use: "a" moves back.
    expect(await cache().get("a")).toEqual(entry);
    await cache().set("d", entry);
    await cache().set("e", entry);
    const present = await Promise.all(["a", "b", "c", "d", "e"].map((k) => client.exists(`t6:${k}`)));
    expect(present).toEqual([1, 0, 0, 1, 1]);
    const usage = await cache().sharedUsage();
    expect(usage.entries).toBe(3);
    expect(usage.bytes).toBe(3 * Buffer.byteLength(JSON.stringify(entry)));
    expect(await client.hlen("t6:~sizes")).toBe(3);
  });

  it("is bounded in bytes: the total stays under maxBytes whatever is written, replacing counts once", async () => {
    const one = Buffer.byteLength(JSON.stringify(entry));
    const cache = new RedisHttpCache(client, { prefix: "t7:", maxBytes: 5 * one });
    for (let i = 0; i < 20; i++) {
      await cache.set(`k${i % 12}`, entry);
      const usage = await cache.sharedUsage();
      expect(usage.bytes).toBeLessThanOrEqual(5 * one);
    }
    expect(await cache.sharedUsage()).toEqual({ entries: 5, bytes: 5 * one });
    expect((await client.keys("t7:k*")).length).toBe(5);
    // An entry over maxBytes on its own is never shared (and evicts nothing).
    const small = new RedisHttpCache(client, { prefix: "t7:", maxBytes: one - 1 });
    await small.set("huge", entry);
    expect(await client.exists("t7:huge")).toBe(0);
    expect((await cache.sharedUsage()).entries).toBe(5);
  });

  it("an entry whose TTL ran out stops counting: on the next read of it, or on a later write", async () => {
    let now = 10_000;
    const clock = () => now;
    const cache = () => new RedisHttpCache(client, { prefix: "t8:", ttlMs: 50 }, clock);
    await cache().set("old", entry);
    await cache().set("older", entry);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await client.exists("t8:old")).toBe(0);
    expect(await cache().get("old")).toBeUndefined();
    expect((await cache().sharedUsage()).entries).toBe(1);
    now += 1_000;
    await cache().set("new", entry);
    expect(await cache().sharedUsage()).toEqual({
      entries: 1,
      bytes: Buffer.byteLength(JSON.stringify(entry)),
    });
  });

  it("a Redis that cannot answer is a miss, never an error", async () => {
    const dead = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on("error", () => undefined);
    const errors: unknown[] = [];
    const cache = new RedisHttpCache(dead, { prefix: "t5:", onError: (e) => errors.push(e) });
    expect(await cache.get("k")).toBeUndefined();
    await cache.set("k", entry);
    // The local layer still answers.
    expect(await cache.get("k")).toEqual(entry);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    dead.disconnect();
  });
});
