/**
 * Rate-limit budget: the app's own API requests (counted by the egress proxy every replica call
 * goes through), per PR event, over a run of PR lifecycles (open, approve, merge + record).
 *
 * Property protected: the installation's rate limit (GitHub: 5,000-15,000 requests/hour) covers
 * hundreds of PRs an hour. A bound per event catches a regression that multiplies requests
 * (a lost cache, a listing re-read per file, a retry loop) before it meets GitHub.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./support/cluster.js";

const LIFECYCLES = 5;

/**
 * Bounds per step (measured on this suite, see docs/reliability.md, plus headroom). "open" covers
 * the branch push, check_suite.requested and pull_request.opened; "review" one approval;
 * "merge" the merge's push (record published) and pull_request.closed.
 */
const BOUNDS = { open: 25, review: 14, merge: 16 } as const;

/**
 * Bounds per step on the requests GitHub counts against the rate limit: those above minus the
 * ones answered `304 Not Modified` (the app's ETag cache revalidated them; docs/performance.md,
 * "Conditional requests"). Open and review: measured on this suite (2026-12-04: open 15-18,
 * review 7-8) plus one request of headroom. Merge keeps the bound above: the branch's first
 * record (its catch-up reads) measured 24 counted, 39 in all, over it (docs/performance.md); with
 * the record path's re-reads removed (2026-12-04): 20 counted, 29 in all, and every later merge 12
 * counted, 16 in all. Open measured 18-22 counted the same run (the secrets rule's tree and blob
 * reads), over its bound: neither bound is loosened here.
 */
const COUNTED_BOUNDS = { open: 19, review: 9, merge: 16 } as const;

describe("rate-limit budget", () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ replicas: 1, mode: "round-robin" });
  });
  afterAll(async () => {
    await c?.close();
  });

  it(`requests per PR event stay within bounds over ${LIFECYCLES} PR lifecycles`, async () => {
    const { alice, bob, olivia } = c.world.people;
    const steps: Record<keyof typeof BOUNDS, number[]> = { open: [], review: [], merge: [] };
    const counted: Record<keyof typeof BOUNDS, number[]> = { open: [], review: [], merge: [] };
    const routes = new Map<string, number>();
    const notModifiedRoutes = new Map<string, number>();
    const measure = async (step: keyof typeof BOUNDS, work: () => Promise<unknown>) => {
      await c.settle();
      c.egress.reset();
      await work();
      await c.settle();
      steps[step].push(c.egress.total());
      counted[step].push(c.egress.total() - c.egress.notModifiedTotal());
      for (const [route, n] of Object.entries(c.egress.counts()))
        routes.set(route, (routes.get(route) ?? 0) + n);
      for (const [route, n] of Object.entries(c.egress.notModifiedCounts()))
        notModifiedRoutes.set(route, (notModifiedRoutes.get(route) ?? 0) + n);
    };
    const eventsBefore = c.relay.forwarded.length;
    for (let i = 0; i < LIFECYCLES; i++) {
      let pr = { number: 0, headSha: "" };
      await measure("open", async () => {
        pr = await c.world.openPull(alice, `budget-${i}`, {
          "clusters/prod/app.yaml": `replicas: ${i + 60}\n`,
        });
      });
      await measure("review", () => c.world.review(bob, pr.number, "APPROVE"));
      expect((await c.world.check(pr.headSha))?.conclusion).toBe("success");
      await measure("merge", () => c.world.merge(olivia, pr.number));
    }
    const events = c.relay.forwarded.length - eventsBefore;
    const total = Object.values(steps)
      .flat()
      .reduce((a, b) => a + b, 0);
    const countedTotal = Object.values(counted)
      .flat()
      .reduce((a, b) => a + b, 0);
    const top = [...routes].sort((a, b) => b[1] - a[1]).slice(0, 40);
    console.log(
      `[reliability] budget: ${JSON.stringify(steps)}; ${total} requests for ${events} webhook deliveries ` +
        `(${(total / events).toFixed(1)} per delivery, ${(total / LIFECYCLES).toFixed(1)} per PR lifecycle)\n` +
        top.map(([r, n]) => `  ${n}\t${r}\t(${notModifiedRoutes.get(r) ?? 0} answered 304)`).join("\n") +
        `\n[reliability] budget, counted against the rate limit (304s excluded): ${JSON.stringify(counted)}; ` +
        `${countedTotal} counted, ${(countedTotal / LIFECYCLES).toFixed(1)} per PR lifecycle`,
    );
    for (const step of Object.keys(BOUNDS) as (keyof typeof BOUNDS)[]) {
      expect(Math.max(...steps[step]), `${step}: ${steps[step].join(", ")}`).toBeLessThanOrEqual(
        BOUNDS[step],
      );
    }
    for (const step of Object.keys(COUNTED_BOUNDS) as (keyof typeof COUNTED_BOUNDS)[]) {
      expect(Math.max(...counted[step]), `${step} counted: ${counted[step].join(", ")}`).toBeLessThanOrEqual(
        COUNTED_BOUNDS[step],
      );
    }
    // A record per merge: the budget was measured on the real path, not an early exit.
    const { data } = await c.world.admin.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: c.world.org,
      repo: c.world.repo,
      ref: "heads/approved/production",
    });
    const { data: head } = await c.world.admin.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner: c.world.org,
      repo: c.world.repo,
      commit_sha: data.object.sha,
    });
    expect(head.message).toContain(`Pullgate-Sequence: ${LIFECYCLES}`);
  });
});
