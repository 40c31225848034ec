/**
 * Replicas sharing Octokit's throttle through Redis (REDIS_URL → Probot's `redisConfig`), against a
 * real redis-server started on a free loopback port in a temp dir.
 *
 * Property protected: `pullgate serve` with REDIS_URL (docs/architecture.md, "CLI contract") starts
 * and gates PRs, its write throttle shared by every replica, so N replicas do not spend N times
 * GitHub's secondary rate-limit allowance.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./support/cluster.js";
import { approvedPull, latestCheck } from "./support/flow.js";
import { startRedis, type RedisServer } from "./support/redis.js";

describe("REDIS_URL: replicas share the throttle through a real redis-server", () => {
  let dir = "";
  let redis: RedisServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pullgate-redis-"));
    redis = await startRedis(dir);
  });
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the redis-server the replicas are given is up", async () => {
    expect(await redis.ping()).toBe("+PONG");
  });

  // Regression test for a finding of this suite, since fixed (was: package.json: no `ioredis` dependency): Probot 14 loads ioredis with
  // `npxImport("ioredis@5.9.3", { onlyPackageRunner: true })`
  // (node_modules/probot/lib/octokit/get-octokit-throttle-options.js). Outside `npx` that is a
  // plain import, which fails: startServer rejects with ERR_MODULE_NOT_FOUND "Cannot find package
  // 'ioredis'" ("Failed to initialize Probot"), so `pullgate serve` with REDIS_URL cannot start.
  // Under `npx` it would download ioredis from the registry at run time instead (and Bottleneck's
  // own require("ioredis") would still fail). Fix: add ioredis 5.9.3 to dependencies.
  it("two replicas started with REDIS_URL gate a PR", async () => {
    let c: Cluster | undefined;
    try {
      c = await startCluster({ replicas: 2, redisUrl: redis.url, throttleWrites: true });
      const pr = await approvedPull(c, "redis", "replicas: 13\n");
      expect((await latestCheck(c, pr.headSha))?.conclusion).toBe("success");
    } finally {
      await c?.close();
    }
  });
});
