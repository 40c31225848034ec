/**
 * End to end: budget awareness (src/github/budget, docs/performance.md, "Conditional requests and
 * the rate-limit budget"). The app reads every response's `x-ratelimit-*` headers per installation
 * and exports them on /metrics; when an installation's window runs low its work degrades in a
 * stated order: the reconcile sweep waits first (then audits); PR checks and records are never held
 * back by the budget. When the window is gone, nothing passes: GitHub refuses the reads, so no
 * check turns green. The sandbox plays other work spending the installation's window with the
 * `spendRateLimit` fault (the installation's own counter moves; every later answer reports it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf } from "../helpers/check-text.js";
import { installationScope } from "../../src/github/budget/index.js";

const LIST_INSTALLATION_REPOS = "GET /installation/repositories";
const LIST_REVIEWS = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews";
/** The sandbox's primary rate limit per credential and hour (its default, GitHub Enterprise Cloud's). */
const SANDBOX_LIMIT = 15_000;

describe("e2e: rate-limit budget awareness", () => {
  let h: AppHarness;
  let scope: string;
  beforeAll(async () => {
    h = await startAppHarness();
    scope = installationScope(h.installationId);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The app's /metrics gauge `name` for this installation's core window. */
  const gauge = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${h.server.url}/metrics`)).text();
    const line = text
      .split("\n")
      .find(
        (l) => l.startsWith(`${name}{`) && l.includes(`scope="${scope}"`) && l.includes('resource="core"'),
      );
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
  };

  it("exports the installation's x-ratelimit-remaining, limit and reset on /metrics, as GitHub last reported them", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "budget-metrics", { "clusters/dev/app.yaml": "replicas: 51\n" });
    expect((await h.check(pr.headSha))?.status).toBe("completed");
    const snapshot = h.server.budget.snapshot(scope);
    expect(snapshot).toBeDefined();
    const remaining = await gauge("pullgate_github_ratelimit_remaining");
    expect(remaining).toBe(snapshot?.remaining);
    expect(await gauge("pullgate_github_ratelimit_limit")).toBe(SANDBOX_LIMIT);
    expect(remaining).toBeLessThan(SANDBOX_LIMIT);
    const reset = await gauge("pullgate_github_ratelimit_reset_seconds");
    expect(reset).toBe(snapshot?.reset);
    expect(reset).toBeGreaterThan(Date.now() / 1000);
  });

  it("a window below the sweep's reserve: the sweep waits (reported, not swept), the PR check still runs and passes on its facts; given back, the sweep runs", async () => {
    const { alice, bob } = h.people;
    const limit = SANDBOX_LIMIT;
    // Other work of the installation spends the window down to under 30% (the sweep's reserve)
    // but above 15% (the audit's): the sandbox charges it on the sweep's own listing.
    const spent = Math.ceil(limit * 0.75);
    h.t.sandbox.instrumentation.setFault(LIST_INSTALLATION_REPOS, { spendRateLimit: spent, times: 1 });
    const waited = await h.server.reconciler.sweep({ org: "acme" });
    expect(waited).not.toBeNull();
    if (!waited) return;
    expect(waited.complete).toBe(false);
    expect(waited.repositories).toBe(0);
    expect(waited.swept).toEqual([]);
    expect(waited.errors).toEqual([
      { where: `installation ${h.installationId}`, message: expect.stringContaining("sweep waits: only") },
    ]);
    const low = h.server.budget.snapshot(scope)?.remaining ?? Infinity;
    expect(low).toBeLessThanOrEqual(limit * 0.3);
    expect(await gauge("pullgate_github_ratelimit_remaining")).toBe(low);

    // PR checks go first: with the window as low, a PR is opened and approved; its check runs.
    const pr = await h.openPull(alice, "budget-low-window", { "clusters/prod/app.yaml": "replicas: 52\n" });
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("success");
    expect(decisionOf(check).approvedBy).toEqual(["bob"]);
    expect(h.server.budget.snapshot(scope)?.remaining).toBeLessThanOrEqual(limit * 0.3);
    // The order, at this level: sweeps wait, audits may still start, checks and records run.
    expect(h.server.budget.admit("sweep", scope).go).toBe(false);
    expect(h.server.budget.admit("audit", scope).go).toBe(true);
    expect(h.server.budget.admit("check", scope).go).toBe(true);
    expect(h.server.budget.admit("record", scope).go).toBe(true);

    // The window given back (it reset): the next sweep covers the repositories.
    h.t.sandbox.instrumentation.setFault(LIST_INSTALLATION_REPOS, { spendRateLimit: -spent, times: 1 });
    const swept = await h.server.reconciler.sweep({ org: "acme" });
    expect(swept?.complete).toBe(true);
    expect(swept?.repositories).toBeGreaterThan(0);
    expect(swept?.errors).toEqual([]);
  });

  // Last in this file: the installation's window stays spent (nothing of the app's gets through
  // to give it back), as it would until GitHub's reset. The harness runs without Octokit's
  // throttling, so the refused read fails at once; with it (production), Probot waits for the
  // reset and the evaluation's deadline fails the check closed instead (docs/operations.md).
  it("the window runs out in the middle of an evaluation: GitHub refuses the reads and no check turns green", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "budget-exhausted", { "clusters/prod/app.yaml": "replicas: 53\n" });
    const before = await h.check(pr.headSha);
    expect(before?.conclusion).toBe("failure");
    // The approval's evaluation reads the reviews; from that read on, the window is empty.
    h.t.sandbox.instrumentation.setFault(LIST_REVIEWS, {
      spendRateLimit: SANDBOX_LIMIT,
      times: 1,
    });
    await h.review(bob, pr.number, "APPROVE");
    await h.settle();
    expect(h.t.sandbox.instrumentation.listFaults()).toEqual({});
    const after = await h.check(pr.headSha);
    expect(after?.conclusion).not.toBe("success");
    if (after?.id !== before?.id) {
      // A check the evaluation had started: it never completes as a pass.
      expect(after?.status === "completed" ? decisionOf(after).status : "incomplete").not.toBe("pass");
    }
    expect(h.server.budget.snapshot(scope)?.remaining).toBe(0);
    expect(await gauge("pullgate_github_ratelimit_remaining")).toBe(0);
    // Nothing waits on the budget but sweeps and audits; a check still tries, and fails closed.
    expect(h.server.budget.admit("check", scope).go).toBe(false);
  });
});
