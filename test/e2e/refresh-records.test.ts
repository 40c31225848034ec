/**
 * End to end, refresh records (docs/operations.md, "Refresh records"; docs/policy.md,
 * `records.refresh_interval`): the reconciler re-issues a quiet environment's current record once
 * it is older than the interval, with the same source commit and tree, so agents can refuse a
 * frozen mirror with --max-age. The app (its push handler and this reconciler) runs on a clock
 * (`now`) moved forward by hand; the agent's verifier is asked at the same clock.
 */
import { Probot, ProbotOctokit } from "probot";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitCache } from "../../src/agent/git.js";
import { fetchAndVerify } from "../../src/agent/fetch-verify.js";
import { DEFAULT_REFRESH_INTERVAL_MS as POLICY_DEFAULT } from "../../src/core/policy/index.js";
import { Reconciler, type SweepReport } from "../../src/github/reconcile/sweep.js";
import type { GitHub } from "../../src/github/octokit.js";
import { pullgateMetrics, type PullgateMetrics } from "../../src/metrics.js";
import { DEFAULT_REFRESH_INTERVAL_MS as AGENT_DEFAULT } from "../../src/record/freshness.js";
import { loadSigner } from "../../src/server.js";
import { basePolicy, ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { git, mergePull, openApprovedPull, readRecords, recordHead } from "../helpers/records.js";

const HOUR = 3_600_000;

interface Rig {
  h: AppHarness;
  metrics: PullgateMetrics;
  reconciler: Reconciler;
  /** How far ahead of the real clock the reconciler's clock is. */
  offset: { ms: number };
  /** Runs before each request the reconciler sends (to hold or interleave a landing). */
  before: { hook: ((options: { method: string; url: string }) => Promise<void>) | null };
  cacheDir: string;
  now(): Date;
  close(): Promise<void>;
}

async function startRig(policy?: string): Promise<Rig> {
  const offset = { ms: 0 };
  const now = () => new Date(Date.now() + offset.ms);
  // The app's push handler shares the clock: a record issued "in the future" of its clock is not
  // its own (a signature from the future verifies nowhere).
  const h = await startAppHarness({ now, ...(policy === undefined ? {} : { policy }) });
  const before: Rig["before"] = { hook: null };
  const probot = new Probot({
    appId: h.t.sandbox.app.id,
    privateKey: h.t.sandbox.app.privateKeyPem,
    baseUrl: h.t.sandbox.apiUrl,
    logLevel: "fatal",
    // The sandbox has no rate limits to respect: no spacing between writes.
    Octokit: ProbotOctokit.defaults({ throttle: { enabled: false } }),
  });
  const metrics = pullgateMetrics();
  const reconciler = new Reconciler({
    appId: h.t.sandbox.app.id,
    auth: async (id?: number) => {
      const gh = (await probot.auth(id)) as GitHub;
      gh.hook.before("request", async (options) => {
        await before.hook?.({ method: options.method, url: options.url });
      });
      return gh;
    },
    signer: await loadSigner(h.recordPrivateKey),
    log: probot.log,
    metrics,
    evaluationTimeoutMs: 30_000,
    appSlug: () => Promise.resolve("pullgate"),
    now,
    requestBudget: 2_000,
    redeliver: false,
  });
  const cacheDir = mkdtempSync(join(tmpdir(), "pullgate-e2e-refresh-"));
  return {
    h,
    metrics,
    reconciler,
    offset,
    before,
    cacheDir,
    now,
    async close() {
      rmSync(cacheDir, { recursive: true, force: true });
      await h.close();
    },
  };
}

let cacheCount = 0;
/** The agent's verifier (`pullgate verify` / each agent tick) at the reconciler's clock. */
function verifyAt(
  rig: Rig,
  options: { maxAgeMs: number | null; lastAccepted?: { sequence: number; recordCommit: string } | null },
) {
  return fetchAndVerify({
    cache: new GitCache(join(rig.cacheDir, `cache-${cacheCount++}`)),
    url: rig.h.t.remoteUrl(ORG, REPO, rig.h.people.carol.token),
    repository: `${ORG}/${REPO}`,
    environment: "production",
    keyring: [rig.h.recordPublicKey],
    lastAccepted: options.lastAccepted ?? null,
    now: rig.now(),
    maxAgeMs: options.maxAgeMs,
  });
}

async function land(rig: Rig, name: string): Promise<string> {
  const { alice, bob, olivia } = rig.h.people;
  const pr = await openApprovedPull(rig.h, alice, bob, name, [
    { [`clusters/prod/${name}.yaml`]: `${name}\n` },
  ]);
  return mergePull(rig.h, olivia, pr.number, "merge");
}

async function sweepAt(rig: Rig, offsetMs: number): Promise<SweepReport> {
  rig.offset.ms = offsetMs;
  const report = await rig.reconciler.sweep();
  expect(report.errors).toEqual([]);
  return report;
}

/** The app's bypass alert issues (label pullgate-alert), by title. */
async function alertIssues(rig: Rig): Promise<string[]> {
  const { data } = await rig.h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
    owner: ORG,
    repo: REPO,
    labels: "pullgate-alert",
    state: "all",
  });
  return data.map((issue) => issue.title);
}

const refreshMetric = (rig: Rig) =>
  rig.metrics.registry.value("pullgate_records_by_source_total", { source: "refresh" });

describe("e2e: refresh records (default records.refresh_interval 24h)", () => {
  let rig: Rig;
  let clone: string;
  let source1: string;
  let record1: string;
  let refresh2: string;

  beforeAll(async () => {
    rig = await startRig();
    clone = await rig.h.clone(rig.h.people.olivia);
    source1 = await land(rig, "one");
    record1 = (await recordHead(rig.h)) ?? "";
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("the policy's default interval is the one agents derive --max-age from", () => {
    expect(POLICY_DEFAULT).toBe(24 * HOUR);
    expect(POLICY_DEFAULT).toBe(AGENT_DEFAULT);
  });

  it("a quiet branch gets no refresh before the interval, and exactly one after it", async () => {
    expect(record1).toMatch(/^[0-9a-f]{40}$/);
    expect((await sweepAt(rig, 0)).refreshed).toEqual([]);
    expect((await sweepAt(rig, 23 * HOUR)).refreshed).toEqual([]);
    expect(await recordHead(rig.h)).toBe(record1);

    rig.offset.ms = 25 * HOUR;
    // Without a refresh, an agent with --max-age 2h would refuse the quiet environment as frozen.
    await expect(verifyAt(rig, { maxAgeMs: 2 * HOUR })).rejects.toMatchObject({ code: "EXPIRED" });

    const report = await sweepAt(rig, 25 * HOUR);
    expect(report.refreshed).toHaveLength(1);
    const [refresh] = report.refreshed;
    expect(refresh).toMatchObject({
      repository: `${ORG}/${REPO}`.toLowerCase(),
      environment: "production",
      sequence: 2,
      refreshes: record1,
    });
    expect(refresh?.requests).toBeLessThanOrEqual(3);
    refresh2 = refresh?.record ?? "";
    expect(await recordHead(rig.h)).toBe(refresh2);
    expect(refreshMetric(rig)).toBe(1);

    // The record ref's watch sees the app's own compare-and-swap: no bypass alert.
    await rig.h.settle();
    expect(await alertIssues(rig)).toEqual([]);

    // Right after, the refresh is fresh: no second one.
    expect((await sweepAt(rig, 25 * HOUR)).refreshed).toEqual([]);
    expect((await sweepAt(rig, 26 * HOUR)).refreshed).toEqual([]);
    expect(refreshMetric(rig)).toBe(1);
  });

  it("the refresh carries the same source commit and tree, chains on the record, and verifies as fresh", async () => {
    const [newest, previous] = await readRecords(rig.h, clone);
    expect(newest?.sha).toBe(refresh2);
    expect(previous?.sha).toBe(record1);
    expect(newest?.parents).toEqual([record1, source1]);
    expect(newest?.tree).toBe(previous?.tree);
    expect(newest?.tree).toBe((await git(rig.h, clone, ["rev-parse", `${source1}^{tree}`])).trim());
    expect(newest?.trailers["Pullgate-Source-Commit"]).toEqual([source1]);
    expect(newest?.trailers["Pullgate-Sequence"]).toEqual(["2"]);

    // An agent that accepted #1: the refresh is accepted, marked as nothing new to deploy.
    const fromOne = await verifyAt(rig, {
      maxAgeMs: 2 * HOUR,
      lastAccepted: { sequence: 1, recordCommit: record1 },
    });
    expect(fromOne).toMatchObject({ recordCommit: refresh2, refresh: true, unchanged: false });
    expect(fromOne.fields.sourceTree).toBe(newest?.tree);
    // A first start (no state) accepts it too.
    expect(await verifyAt(rig, { maxAgeMs: 2 * HOUR })).toMatchObject({ recordCommit: refresh2 });
  });

  it("a landing's record racing a refresh wins: the refresh is dropped and the chain loses nothing", async () => {
    // Hold the refresh right before it moves the ref, and land an approved PR meanwhile: the push
    // handler publishes #3 on the head the refresh was built on.
    let source2 = "";
    let held = 0;
    rig.before.hook = async ({ method, url }) => {
      if (method !== "PATCH" || !url.includes("/git/refs/")) return;
      rig.before.hook = null;
      held++;
      source2 = await land(rig, "two");
    };
    const report = await sweepAt(rig, 50 * HOUR);
    rig.before.hook = null;
    expect(held).toBe(1);
    expect(report.refreshed).toEqual([]);
    expect(report.refreshesDropped).toHaveLength(1);
    expect(report.refreshesDropped[0]?.why).toContain("moved");
    expect(
      rig.metrics.registry.value("pullgate_record_refreshes_dropped_total", { environment: "production" }),
    ).toBe(1);

    const chain = await readRecords(rig.h, clone);
    expect(chain.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(["3", "2", "1"]);
    expect(chain[0]?.parents).toEqual([refresh2, source2]);
    expect(chain.map((r) => r.trailers["Pullgate-Source-Commit"]?.[0])).toEqual([source2, source1, source1]);
    // An agent at the refresh moves to the landing's record, which is new to deploy.
    const verified = await verifyAt(rig, {
      maxAgeMs: null,
      lastAccepted: { sequence: 2, recordCommit: refresh2 },
    });
    expect(verified).toMatchObject({ refresh: false, recordCommit: chain[0]?.sha });
    expect(verified.fields.sourceCommit).toBe(source2);
  });

  it("a head that is not the app's genuine record is never refreshed (the sweep restores it instead)", async () => {
    const record3 = (await recordHead(rig.h)) ?? "";
    // Mallory pushes an unsigned look-alike over the record ref.
    const dir = await rig.h.clone(rig.h.people.mallory);
    await git(rig.h, dir, ["checkout", "-q", "origin/approved/production"]);
    const forged = await rig.h.commit(dir, rig.h.people.mallory, { "forged.txt": "x\n" }, "record", null);
    const pushed = await rig.h.t.push(dir, "HEAD:refs/heads/approved/production", { force: true });
    expect(pushed.code, pushed.stderr).toBe(0);
    await rig.h.settle();
    expect(await recordHead(rig.h)).toBe(forged);
    expect(await alertIssues(rig)).toHaveLength(1);

    // Record #3 is old enough by now: had the sweep trusted the head, it would have refreshed it.
    const report = await sweepAt(rig, 100 * HOUR);
    expect(report.refreshed).toEqual([]);
    expect(await recordHead(rig.h)).toBe(record3);

    // With the chain back on the genuine record, that one is refreshed, never the forged commit.
    const next = await sweepAt(rig, 100 * HOUR);
    expect(next.refreshed.map((r) => r.refreshes)).toEqual([record3]);
    const chain = await readRecords(rig.h, clone);
    expect(chain.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(["4", "3", "2", "1"]);
    expect(chain.every((r) => !r.parents.includes(forged))).toBe(true);
    await expect(
      verifyAt(rig, { maxAgeMs: 2 * HOUR, lastAccepted: { sequence: 3, recordCommit: record3 } }),
    ).resolves.toMatchObject({ refresh: true });
  });
});

describe('e2e: records.refresh_interval "0" turns refreshing off', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig(`${basePolicy()}\nrecords:\n  refresh_interval: "0"\n`);
    await land(rig, "one");
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("no refresh however old the record", async () => {
    const head = await recordHead(rig.h);
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    for (const hours of [25, 24 * 30, 24 * 400])
      expect((await sweepAt(rig, hours * HOUR)).refreshed).toEqual([]);
    expect(await recordHead(rig.h)).toBe(head);
    expect(refreshMetric(rig)).toBe(0);
  });
});
