/**
 * The reconciler against real crashes (docs/operations.md, "Outages and recovery"): each replica
 * here is a child process killed with SIGKILL (no finally blocks, sockets cut), and recovery comes
 * from the restarted replica's sweeps (and webhook redelivery), never from a later push.
 *
 * Properties protected: a landing made while the app is down gets exactly one record, in landing
 * order, and a bypass made then exactly one alert; a crash between a record's commit and its ref
 * update leaves one record, never two, never a fork; a lost review event does not leave a stale
 * check; two replicas sweeping at once publish and alert nothing twice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT } from "../../src/demo/seed.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { approvedPull, latestCheck } from "./support/flow.js";
import { chainProblems, readChain, verifyChain } from "./support/records.js";
import { startRedis, type RedisServer } from "./support/redis.js";
import { alertIssuesNaming, metricValue, runOutageScenario } from "./support/reconcile-outage.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UPDATE_REF = "PATCH /repos/{owner}/{repo}/git/refs/{ref}";

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe("reconciler: the app is down while PRs are merged and a commit is pushed", () => {
  let c: Cluster;
  afterAll(async () => {
    await c?.close();
  });

  it("the restarted replica's first sweep publishes every missing record in order and alerts the bypass once", async () => {
    c = await startCluster({ replicas: 0, server: { reconcileIntervalMs: 10 * 60_000 } });
    const r = await runOutageScenario(c);
    expect(r.chain.records.map((x) => x.fields.sourceCommit)).toEqual(r.landed);
    expect(chainProblems(r.chain.records)).toEqual([]);
    expect(r.chain.agentRefusals).toEqual([]);
    expect(r.chain.gpgFailures).toEqual([]);
    expect(r.chain.cli?.code).toBe(0);
    expect(r.chain.records.some((x) => x.fields.sourceCommit === r.directPush)).toBe(false);
    expect(r.alertIssues).toBe(1);
    expect(r.alertMentions).toBe(1);
    const bySweep = metricValue(r.metrics, 'pullgate_records_by_source_total{source="sweep"}');
    const byPush = metricValue(r.metrics, 'pullgate_records_by_source_total{source="push"}');
    expect(bySweep + byPush).toBe(3);
    // The measurement of docs/operations.md: restart to the last missing record.
    process.stderr.write(
      `reconcile: recovery ${r.recoveryMs} ms after restart (records by sweep ${bySweep}, by redelivered push ${byPush}, redeliveries requested ${metricValue(r.metrics, "pullgate_webhook_redeliveries_requested_total")}, first sweep ${metricValue(r.metrics, "pullgate_reconcile_sweep_requests")} requests)\n`,
    );
  });
});

describe("reconciler: the app dies between a record's commit and its ref update", () => {
  let c: Cluster;
  afterAll(async () => {
    await c?.close();
  });

  it("the restarted replica publishes the record once: no duplicate, no fork", async () => {
    c = await startCluster({ replicas: 0, server: { reconcileIntervalMs: 10 * 60_000 } });
    const { olivia } = c.world.people;
    const first = await c.addChildReplica();
    const pr0 = await approvedPull(c, "held-0", "replicas: 5\n");
    const landed = [await c.world.merge(olivia, pr0.number, "merge")];
    await c.settle();
    const pr1 = await approvedPull(c, "held-1", "replicas: 6\n");
    const before = c.world.sandbox.instrumentation.count(UPDATE_REF);
    // The record ref's update hangs: the push is handled up to the compare-and-swap...
    c.world.sandbox.instrumentation.setFault(UPDATE_REF, { timeout: true });
    landed.push(await c.world.merge(olivia, pr1.number, "merge"));
    await waitFor("the held ref write", async () =>
      c.world.sandbox.instrumentation.count(UPDATE_REF) > before ? true : null,
    );
    // ...and the replica dies there.
    await c.replicas[first]?.kill?.();
    c.relay.down.add(first);
    c.world.sandbox.instrumentation.clearFaults();
    expect((await readChain(c.world)).map((x) => x.fields.sourceCommit)).toEqual([landed[0]]);

    await c.addChildReplica();
    await waitFor("the record after restart", async () => {
      const chain = await readChain(c.world);
      return chain.at(-1)?.fields.sourceCommit === landed[1] ? chain : null;
    });
    await c.settle();
    await sleep(300);
    const report = await verifyChain(c.world, c.root, ENVIRONMENT);
    expect(report.records.map((x) => x.fields.sourceCommit)).toEqual(landed);
    expect(report.records.map((x) => x.fields.sequence)).toEqual([1, 2]);
    expect(chainProblems(report.records)).toEqual([]);
    expect(report.agentRefusals).toEqual([]);
    expect(report.gpgFailures).toEqual([]);
  });
});

describe("reconciler: a review event is lost", () => {
  let c: Cluster;
  afterAll(async () => {
    await c?.close();
  });

  it("a sweep brings the PR's check to the verdict the facts call for", async () => {
    c = await startCluster({ replicas: 0, server: { reconcileIntervalMs: 1_000 } });
    await c.addChildReplica();
    const { alice, bob } = c.world.people;
    const pr = await c.world.openPull(alice, "lost-review", { "clusters/prod/app.yaml": "replicas: 7\n" });
    await c.settle();
    expect((await latestCheck(c, pr.headSha))?.conclusion).toBe("failure");
    // The review's delivery reaches the relay (GitHub sees it delivered) but never the app.
    c.relay.holdWhile = (d) => d.event === "pull_request_review";
    await sleep(1_100); // the review comes later than the check it makes stale, as in life
    await c.world.review(bob, pr.number, "APPROVE");
    await waitFor("the sweep's re-evaluation", async () => {
      const check = await c.world.check(pr.headSha);
      return check?.status === "completed" && check.conclusion === "success" ? check : null;
    });
    expect(c.relay.held.filter((d) => d.event === "pull_request_review")).toHaveLength(1);
    expect(c.relay.forwarded.filter((f) => f.event === "pull_request_review")).toEqual([]);
  });
});

describe("reconciler: two replicas sweep at once (Redis lease)", () => {
  let c: Cluster;
  let redis: RedisServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pullgate-reconcile-redis-"));
    redis = await startRedis(dir);
  });
  afterAll(async () => {
    await c?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("no duplicate record, no duplicate alert", async () => {
    c = await startCluster({
      replicas: 0,
      redisUrl: redis.url,
      server: { reconcileIntervalMs: 500 },
    });
    const { olivia, mallory } = c.world.people;
    const first = await c.addChildReplica();
    const pr0 = await approvedPull(c, "pair-0", "replicas: 8\n");
    const landed = [await c.world.merge(olivia, pr0.number, "merge")];
    await c.settle();
    const pr1 = await approvedPull(c, "pair-1", "replicas: 9\n");
    await c.replicas[first]?.kill?.();
    c.relay.down.add(first);
    // Nothing is delivered: only the sweeps can find these.
    c.world.sandbox.setWebhookUrl("http://127.0.0.1:9/down");
    landed.push(await c.world.merge(olivia, pr1.number, "merge"));
    const bypass = await c.world.pushCommit(
      mallory,
      "main",
      { "clusters/prod/app.yaml": "replicas: 1\n" },
      "x",
    );
    await c.world.sandbox.idle();
    c.world.sandbox.setWebhookUrl(c.relay.url);
    // Two replicas start together and sweep every 500 ms for a few seconds.
    await Promise.all([c.addChildReplica(), c.addChildReplica()]);
    await waitFor("the bypass alert", async () =>
      (await alertIssuesNaming(c, bypass)).mentions > 0 ? true : null,
    );
    await sleep(3_000);
    await c.settle();
    const report = await verifyChain(c.world, c.root, ENVIRONMENT);
    expect(report.records.map((x) => x.fields.sourceCommit)).toEqual(landed);
    expect(chainProblems(report.records)).toEqual([]);
    expect(report.gpgFailures).toEqual([]);
    const alerts = await alertIssuesNaming(c, bypass);
    expect(alerts).toEqual({ issues: 1, mentions: 1 });
  });
});
