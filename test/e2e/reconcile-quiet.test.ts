/**
 * What a sweep costs when nothing changed (issue 14's target: at most 2 requests per governed
 * branch). Counted twice: by the sweep itself and by the sandbox, which sees every request the
 * app makes (nobody else acts while the sweep runs). The first sweep after a landing may still
 * read what the push handler already handled; the second is the steady state an idle org pays
 * every PULLGATE_RECONCILE_INTERVAL. The app's ETag cache makes those reads conditional: what did
 * not change is answered 304, which GitHub does not count against the rate limit (docs/performance.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../helpers/app-harness.js";

describe("e2e: a sweep over a repository with no changes is cheap", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "quiet-change", { "clusters/prod/quiet.yaml": "replicas: 7\n" });
    await h.settle();
    await h.review(bob, pr.number, "APPROVE");
    await h.settle();
    await h.world.merge(olivia, pr.number, "merge");
    await h.settle();
    const first = await h.server.reconciler.sweep();
    expect(first?.errors).toEqual([]);
    await h.settle();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("publishes, alerts and re-evaluates nothing, within 2 requests per governed branch plus the listings", async () => {
    h.t.sandbox.instrumentation.resetCounts();
    const report = await h.server.reconciler.sweep({ org: "acme" });
    await h.settle();
    const seen = h.t.sandbox.instrumentation.totalRequests();
    const notModified = h.t.sandbox.instrumentation.totalNotModified();
    const routes = h.t.sandbox.instrumentation.requestCounts();
    expect(report).not.toBeNull();
    if (!report) return;
    expect(report.complete).toBe(true);
    expect(report.errors).toEqual([]);
    expect(report.published).toEqual([]);
    expect(report.alerted).toEqual([]);
    expect(report.reevaluated).toEqual([]);
    expect(report.governedBranches).toBeGreaterThan(0);
    // The sweep's own count is the sandbox's count (counted plus 304s): nothing goes unmetered.
    expect(report.requests).toBe(seen + notModified);
    // Per sweep: the installations and each installation's repositories (1 page each here), then
    // per repository the refs and the open pulls, within the target of 2 per governed branch.
    const listings = report.installations + 1;
    console.log(
      `quiet sweep: ${seen} counted requests + ${notModified} answered 304, ${report.governedBranches} governed branch(es)`,
      routes,
    );
    expect(seen + notModified - listings).toBeLessThanOrEqual(2 * report.governedBranches);
    // Nothing changed since the previous sweep, so every repository read was revalidated for free
    // (the installation listings too, unless the app's JWT was renewed between the two sweeps).
    expect(Object.keys(routes).filter((route) => route.includes("/repos/"))).toEqual([]);
    expect(seen).toBeLessThanOrEqual(listings);
  });
});
