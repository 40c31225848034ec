import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Permission } from "../reviews/types.js";
import { decide } from "./decide.js";
import { memoryFacts, policyYaml, type MemoryReview } from "./testing.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const USERS = ["alice", "bob", "carol", "dave", "erin"] as const;
const PERMISSIONS: Permission[] = ["admin", "maintain", "write", "triage", "read", "none"];

const review = fc.record({
  user: fc.constantFrom(...USERS),
  state: fc.constantFrom("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED") as fc.Arbitrary<
    MemoryReview["state"]
  >,
});
const permissions = fc.record(
  Object.fromEntries(USERS.map((u) => [u, fc.constantFrom(...PERMISSIONS)])) as Record<
    (typeof USERS)[number],
    fc.Arbitrary<Permission>
  >,
);
const policy = fc.record({
  approvals: fc.integer({ min: 0, max: 3 }),
  owners: fc.boolean(),
  lastPush: fc.boolean(),
});
const CODEOWNERS = "/deploy/ @carol @acme/sre\n";
const FILES = ["deploy/prod.yaml", "app/config.yaml"];

async function verdictOf(
  opts: { approvals: number; owners: boolean; lastPush: boolean; signatures: boolean },
  reviews: MemoryReview[],
  perms: Record<string, Permission>,
) {
  const d = await decide(
    memoryFacts({
      policy: policyYaml(opts),
      files: FILES,
      codeowners: CODEOWNERS,
      teamMembers: { "acme/sre": ["dave"] },
      reviews,
      permissions: perms,
      lastPusher: "bob",
    }),
    { now: NOW },
  );
  if (d.kind !== "evaluated") throw new Error(`expected an evaluation, got ${d.kind}`);
  return d;
}

describe("decide: properties", () => {
  it("no set of approvals turns a failing signature rule into a pass", async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.array(review, { maxLength: 8 }), permissions, async (p, reviews, perms) => {
        const base = await verdictOf({ ...p, signatures: true }, [], perms);
        const approved = await verdictOf({ ...p, signatures: true }, reviews, perms);
        const rule = (d: typeof base) => d.verdict.rules.find((r) => r.id === "signatures")?.status;
        expect(rule(base)).toBe("fail");
        expect(rule(approved)).toBe("fail");
        expect(approved.verdict.status).not.toBe("pass");
      }),
      { numRuns: 60 },
    );
  });

  it("withdrawing one reviewer's approvals never turns a failing verdict into a pass", async () => {
    await fc.assert(
      fc.asyncProperty(
        policy,
        fc.array(review, { minLength: 1, maxLength: 8 }),
        permissions,
        fc.constantFrom(...USERS),
        async (p, reviews, perms, withdrawn) => {
          const opts = { ...p, signatures: false };
          const before = await verdictOf(opts, reviews, perms);
          const fewer = reviews.filter((r) => !(r.user === withdrawn && r.state === "APPROVED"));
          const after = await verdictOf(opts, fewer, perms);
          if (before.verdict.status !== "pass") expect(after.verdict.status).not.toBe("pass");
          // The record never names more approvers than before.
          for (const login of after.decision.approvedBy) expect(before.decision.approvedBy).toContain(login);
          expect(after.decision.approvedBy).not.toContain(withdrawn);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("the record names only approvers with write access who are neither the author nor the last pusher (when that rule is on)", async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.array(review, { maxLength: 8 }), permissions, async (p, reviews, perms) => {
        const d = await verdictOf({ ...p, signatures: false }, reviews, perms);
        for (const login of d.decision.approvedBy) {
          expect(["admin", "maintain", "write"]).toContain(perms[login as (typeof USERS)[number]]);
          expect(login).not.toBe("alice");
          if (p.lastPush) expect(login).not.toBe("bob");
        }
      }),
      { numRuns: 60 },
    );
  });
});
