/**
 * End to end, the replay ledger shared through Redis (REDIS_URL; docs/operations.md, "Webhook
 * endpoint"): two pullgate servers on one real redis-server (test/reliability/support/redis.ts).
 * A delivery handled by one replica is a replay for the other; a delivery that failed on one is
 * handled when GitHub redelivers it to the other; a crashed replica's claim lapses with its lease.
 * Skipped, loudly, only when redis-server is not on PATH (.ci/run installs it).
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody, type Delivery } from "@pullgate/sandbox";
import { startServer, type RunningServer } from "../../src/server.js";
import { RedisLedgerStore } from "../../src/webhook/redis-ledger.js";
import { startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { startRedis, type RedisServer } from "../reliability/support/redis.js";

const hasRedis = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedis)
  console.warn(
    "\n*** SKIPPED test/e2e/webhook-redis.test.ts: redis-server is not on PATH; the Redis-shared replay ledger is UNTESTED here (.ci/run installs redis-server) ***\n",
  );

const CHECK_RUNS = "POST /repos/{owner}/{repo}/check-runs";

describe.skipIf(!hasRedis)("e2e: two replicas share the replay ledger through a real redis-server", () => {
  let dir = "";
  let redis: RedisServer;
  let h: AppHarness;
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pullgate-webhook-redis-"));
    redis = await startRedis(dir);
    h = await startAppHarness();
    const replica = () =>
      startServer({
        appId: h.t.sandbox.app.id,
        privateKey: h.t.sandbox.app.privateKeyPem,
        webhookSecret: h.t.sandbox.app.webhookSecret,
        baseUrl: h.t.sandbox.apiUrl,
        port: 0,
        logLevel: "fatal",
        throttle: false,
        retryBaseMs: 20,
        redisUrl: redis.url,
        app: { pullLookupRetryDelaysMs: [50, 100, 200], evaluationTimeoutMs: 30_000 },
      });
    a = await replica();
    b = await replica();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await h?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const opened = (number: number): Delivery => {
    const d = h.t.sandbox.webhooks
      .deliveries()
      .find(
        (x) =>
          x.event === "pull_request" &&
          x.action === "opened" &&
          (x.payload.pull_request as { number?: number } | undefined)?.number === number,
      );
    if (d === undefined) throw new Error(`no pull_request.opened delivery for #${number}`);
    return d;
  };

  const post = async (server: RunningServer, d: Delivery, guid: string) => {
    const body = JSON.stringify(d.payload);
    const response = await fetch(server.webhookUrl, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": d.event,
        "x-github-delivery": guid,
        "x-hub-signature-256": signWebhookBody(h.t.sandbox.app.webhookSecret, body),
      },
    });
    await response.arrayBuffer();
    await h.settle();
    return response.status;
  };

  it("handled by replica A, the same id is a replay for replica B; a new id is handled by B", async () => {
    const pr = await h.openPull(h.people.alice, "shared", { "clusters/prod/app.yaml": "replicas: 21\n" });
    await h.settle();
    const d = opened(pr.number);
    const guid = randomUUID();

    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(a, d, guid)).toBe(200);
    expect(h.t.sandbox.instrumentation.count(CHECK_RUNS)).toBe(1);

    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(b, d, guid)).toBe(200);
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect(b.metrics.registry.value("pullgate_webhook_replays_dropped_total", { state: "handled" })).toBe(1);

    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(b, d, randomUUID())).toBe(200);
    expect(h.t.sandbox.instrumentation.count(CHECK_RUNS)).toBe(1);
  });

  it("failed on replica A, the redelivery of the same id is handled by replica B", async () => {
    const pr = await h.openPull(h.people.alice, "failover", { "clusters/prod/app.yaml": "replicas: 22\n" });
    await h.settle();
    const d = opened(pr.number);
    const guid = randomUUID();

    h.t.sandbox.instrumentation.setFault(CHECK_RUNS, { status: 500 });
    try {
      expect(await post(a, d, guid)).toBe(500);
    } finally {
      h.t.sandbox.instrumentation.clearFaults();
    }
    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(b, d, guid)).toBe(200);
    expect(h.t.sandbox.instrumentation.count(CHECK_RUNS)).toBe(1);
    // And now it is handled for A too.
    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(a, d, guid)).toBe(200);
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
  });

  it("the store: a claim is in flight for others, expires with its lease (a crashed replica), and only its holder can settle it", async () => {
    const client = new Redis(redis.url);
    const store = new RedisLedgerStore(client, `test:${randomUUID()}:`);
    try {
      expect(await store.tryClaim("x", "crashed", 60_000)).toBe("claimed");
      expect(await store.tryClaim("x", "other", 60_000)).toBe("in-flight");
      // Another replica cannot release or complete it, nor renew it.
      await store.release("x", "other");
      await store.complete("x", "other", 60_000);
      expect(await store.renew("x", "other", 60_000)).toBe(false);
      expect(await store.tryClaim("x", "other", 60_000)).toBe("in-flight");
      // The claim carries its lease as a Redis expiry: a holder that dies stops renewing and the
      // key goes, after which a redelivery is claimed anew.
      const ttl = await client.pttl(`${store.prefix}x`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await store.renew("x", "crashed", 120_000)).toBe(true);
      expect(await client.pttl(`${store.prefix}x`)).toBeGreaterThan(60_000);
      await store.complete("x", "crashed", 3_600_000);
      expect(await store.tryClaim("x", "other", 60_000)).toBe("handled");
      // Released claims can be taken again.
      expect(await store.tryClaim("y", "t1", 60_000)).toBe("claimed");
      await store.release("y", "t1");
      expect(await store.tryClaim("y", "t2", 60_000)).toBe("claimed");
    } finally {
      await store.close();
    }
  });

  // Last: it stops the redis-server.
  it("Redis down: a signed delivery is answered 503 and not handled (redeliverable later), never handled blind", async () => {
    const pr = await h.openPull(h.people.alice, "redis-down", { "clusters/prod/app.yaml": "replicas: 23\n" });
    await h.settle();
    const d = opened(pr.number);
    await redis.stop();
    h.t.sandbox.instrumentation.resetCounts();
    expect(await post(a, d, randomUUID())).toBe(503);
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect(a.metrics.registry.value("pullgate_webhook_ledger_errors_total")).toBe(1);
  });
});
