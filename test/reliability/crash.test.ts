/**
 * Crash mid-evaluation: the replica evaluating a PR dies (SIGKILL, a real crash) while its
 * evaluation hangs on the API; the event is redelivered and the other replica handles it.
 *
 * Properties protected (docs/architecture.md, invariant 4): the PR's check ends completed with the
 * right conclusion after the redelivery; no check run is left in_progress forever.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./support/cluster.js";
import { checkRuns, latestCheck } from "./support/flow.js";

const REVIEWS_ROUTE = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a replica crashes while its evaluation hangs", () => {
  let c: Cluster;
  let headSha = "";
  let orphan: number | null = null;

  beforeAll(async () => {
    // Replica 0 in this process (the survivor), replica 1 a child process (the one that crashes).
    c = await startCluster({ replicas: 1, mode: "hold" });
    await c.addChildReplica();
  });
  afterAll(async () => {
    await c?.close();
  });

  it("the redelivered event completes the check with the right conclusion on the surviving replica", async () => {
    const { alice, bob } = c.world.people;
    const pr = await c.world.openPull(alice, "crash", { "clusters/prod/app.yaml": "replicas: 12\n" });
    await c.world.review(bob, pr.number, "APPROVE");
    headSha = pr.headSha;
    await c.settle();
    const review = c.relay.held.find((d) => d.event === "pull_request_review");
    expect(review).toBeDefined();
    if (!review) return;
    c.relay.held = [];

    // The evaluation on replica 1 hangs on the reviews listing...
    c.world.sandbox.instrumentation.setFault(REVIEWS_ROUTE, { timeout: true });
    const forwarded = c.relay.forward(review, 1);
    const hangs = c.world.sandbox.instrumentation.count(REVIEWS_ROUTE) + 1;
    for (let i = 0; i < 200 && c.world.sandbox.instrumentation.count(REVIEWS_ROUTE) < hangs; i++)
      await sleep(25);
    expect(c.world.sandbox.instrumentation.count(REVIEWS_ROUTE)).toBe(hangs);
    const during = await checkRuns(c.world, headSha);
    expect(during.at(-1)?.status).toBe("in_progress");
    orphan = during.at(-1)?.id ?? null;

    // ...and the replica dies.
    await c.replicas[1]?.kill?.();
    c.relay.down.add(1);
    const lost = await forwarded;
    expect(lost.status).toBeNull();
    c.world.sandbox.instrumentation.clearFaults();
    c.relay.mode = "round-robin";
    await c.settle();
    // Nothing else touches the run the dead replica started (there is no sweeper).
    expect((await checkRuns(c.world, headSha)).find((r) => r.id === orphan)?.status).toBe("in_progress");

    // GitHub's "Redeliver" of the review event reaches the surviving replica.
    const original = c.world.sandbox.webhooks
      .deliveries()
      .find((d) => d.guid === review.guid && !d.redelivery);
    expect(original).toBeDefined();
    c.world.sandbox.webhooks.redeliver(original?.id ?? -1);
    await c.settle();
    const latest = await latestCheck(c, headSha);
    expect(latest?.status).toBe("completed");
    expect(latest?.conclusion).toBe("success");
    expect(c.relay.forwarded.filter((f) => f.replica === 0 && f.event === "pull_request_review")).not.toEqual(
      [],
    );
  });

  // Regression test for a finding of this suite, since fixed (was: src/github/gate.ts gatePull / src/github/check-run.ts startCheck): every evaluation
  // creates a new check run and only that evaluation can complete it. A replica that dies
  // mid-evaluation leaves its run in_progress forever: the recovery evaluation creates another run
  // instead of completing (or superseding as completed) the open ones on the head. GitHub shows the
  // newest run per name, so merging is judged correctly, but the orphan never completes.
  it("after recovery no run on the head is left in_progress", async () => {
    expect(orphan).not.toBeNull();
    const runs = await checkRuns(c.world, headSha);
    expect(runs.filter((r) => r.status !== "completed")).toEqual([]);
  });
});
