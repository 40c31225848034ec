/**
 * Scale-out: several app replicas with the same credentials behind a load balancer.
 *
 * Property protected (docs/architecture.md, "Record contract" and invariant 5): publishing is a
 * compare-and-swap, so replicas racing never fork or lose the approved chain: approved/production
 * stays linear, each approved landing gets exactly one record, sequences go +1, and every record
 * verifies with the agent's verifier, GnuPG and `pullgate verify`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./support/cluster.js";
import { approvedPull, latestCheck } from "./support/flow.js";
import { chainProblems, verifyChain } from "./support/records.js";

const MERGES = 10;

async function expectVerifiedChain(c: Cluster, landings: string[]): Promise<void> {
  const report = await verifyChain(c.world, c.root);
  expect(chainProblems(report.records)).toEqual([]);
  expect(report.agentRefusals).toEqual([]);
  expect(report.gpgFailures).toEqual([]);
  expect(report.cli?.code, report.cli?.stderr).toBe(0);
  expect(report.cli?.json).toMatchObject({ verified: true, sequence: report.records.length });
  // No rollback: record sources appear in the order they landed on main.
  const order = report.records.map((r) => landings.indexOf(r.fields.sourceCommit));
  expect(order.every((i) => i >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
}

describe("scale-out: three replicas behind a round-robin relay", () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ replicas: 3, mode: "round-robin" });
  });
  afterAll(async () => {
    await c?.close();
  });

  it(`${MERGES} approved PRs merged in quick succession: one record per landing, linear, +1, verified`, async () => {
    const { olivia } = c.world.people;
    const landings: string[] = [];
    for (let i = 0; i < MERGES; i++) {
      const pr = await approvedPull(c, `scale-${i}`, `replicas: ${i + 3}\n`);
      expect((await latestCheck(c, pr.headSha))?.conclusion).toBe("success");
      // Merge without waiting for the push to be handled: the next PR's events interleave with it.
      landings.push(await c.world.merge(olivia, pr.number));
    }
    await c.settle();
    const report = await verifyChain(c.world, c.root);
    expect(report.records.map((r) => r.fields.sourceCommit)).toEqual(landings);
    await expectVerifiedChain(c, landings);
    // Every replica did some of the work (the relay really spread it).
    const perReplica = [0, 1, 2].map((i) => c.relay.forwarded.filter((f) => f.replica === i).length);
    expect(perReplica.every((n) => n > 0)).toBe(true);
    expect(c.relay.forwarded.every((f) => f.status === 200)).toBe(true);
    const counts = c.egress.counts();
    console.log(
      `[reliability] scale-out: ${MERGES} PR lifecycles on 3 replicas: ${c.egress.total()} app requests ` +
        `(${(c.egress.total() / MERGES).toFixed(1)} per lifecycle), ${c.relay.forwarded.length} deliveries ` +
        `(${perReplica.join("/")} per replica), ${counts["POST /app/installations/{n}/access_tokens"] ?? 0} installation tokens`,
    );
  });
});

describe("scale-out: every replica handles every push at once (publish race)", () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ replicas: 3, mode: "round-robin" });
  });
  afterAll(async () => {
    await c?.close();
  });

  it("pushes held, then each delivered to all three replicas concurrently: no fork, no duplicate, no rollback", async () => {
    const { olivia } = c.world.people;
    c.relay.holdWhile = (d) => d.event === "push";
    const landings: string[] = [];
    for (let i = 0; i < 6; i++) {
      const pr = await approvedPull(c, `race-${i}`, `replicas: ${i + 20}\n`);
      expect((await latestCheck(c, pr.headSha))?.conclusion).toBe("success");
      landings.push(await c.world.merge(olivia, pr.number));
    }
    await c.settle();
    c.relay.holdWhile = null;
    const pushes = c.relay.held.length;
    const results = await c.relay.release({ copies: 3 });
    await c.settle();
    expect(results).toHaveLength(pushes * 3);
    // 202 is Probot's "accepted, still processing" (a handler outlived the 9 s webhook timeout under
    // 18 concurrent deliveries): GitHub counts it as delivered; settle() waits for the work to end.
    expect(results.filter((r) => r.status !== 200 && r.status !== 202)).toEqual([]);
    await expectVerifiedChain(c, landings);
    const report = await verifyChain(c.world, c.root);
    // The newest landing always gets its record (agents converge on what is on main).
    expect(report.records.at(-1)?.fields.sourceCommit).toBe(landings.at(-1));
    console.log(
      `[reliability] publish race: ${landings.length} landings, ${report.records.length} records, ${pushes} push events x3 replicas`,
    );
  });
});
