import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  classifyAccessEvent,
  mayBeStale,
  planAccessWork,
  type AccessChange,
  type PullVerdictState,
} from "./access-change.js";
import type { Decision } from "./decision.js";

const repository = { name: "gitops", owner: { login: "acme" } };
const organization = { login: "acme" };

function decision(approvedBy: string[], reviews: [string, string][] = []): Decision {
  return {
    version: 1,
    repository: "acme/gitops",
    pullRequest: 1,
    headSha: "a".repeat(40),
    headTree: null,
    baseRef: "main",
    baseSha: "b".repeat(40),
    environment: "production",
    policyDigest: "sha256:00",
    approvedBy,
    reviews: reviews.map(([user, state]) => ({ user, state, commitId: "a".repeat(40) })),
    signatures: [],
    lastPusher: null,
    status: approvedBy.length > 0 ? "pass" : "fail",
    rules: [],
  };
}

function pull(
  number: number,
  conclusion: string | null,
  d: Decision | null,
  inProgress = false,
): PullVerdictState {
  return {
    repo: { owner: "acme", repo: "gitops" },
    number,
    headSha: String(number).padStart(40, "0"),
    conclusion,
    decision: d,
    inProgress,
  };
}

describe("classifyAccessEvent", () => {
  it("member.removed is a loss for that person on that repository", () => {
    expect(
      classifyAccessEvent("member", {
        action: "removed",
        member: { login: "Bob" },
        repository,
        organization,
      }),
    ).toEqual({
      direction: "loss",
      login: "bob",
      scope: { kind: "repository", owner: "acme", repo: "gitops" },
      reason: "@bob was removed as a collaborator of acme/gitops",
    });
  });

  it("member.edited: lower is a loss, higher a gain, equal nothing, unknown a loss (fail closed)", () => {
    const edited = (changes: object) =>
      classifyAccessEvent("member", { action: "edited", member: { login: "bob" }, repository, changes })
        ?.direction ?? null;
    expect(edited({ old_permission: { from: "write" }, permission: { from: "write", to: "read" } })).toBe(
      "loss",
    );
    expect(edited({ permission: { from: "maintain", to: "triage" } })).toBe("loss");
    expect(edited({ permission: { from: "read", to: "write" } })).toBe("gain");
    expect(edited({ permission: { from: "push", to: "write" } })).toBeNull();
    expect(edited({ old_permission: { from: "admin" } })).toBe("loss");
    expect(edited({ permission: { from: "write", to: "custom-role" } })).toBe("loss");
    expect(edited({})).toBe("loss");
  });

  it("team and org membership removals are installation-wide losses for that person; additions do nothing", () => {
    expect(
      classifyAccessEvent("membership", {
        action: "removed",
        scope: "team",
        member: { login: "bob" },
        team: { name: "SRE", slug: "sre" },
        organization,
      }),
    ).toEqual({
      direction: "loss",
      login: "bob",
      scope: { kind: "installation", owner: "acme" },
      reason: "@bob was removed from @acme/sre",
    });
    expect(
      classifyAccessEvent("organization", {
        action: "member_removed",
        membership: { user: { login: "bob" } },
        organization,
      }),
    ).toMatchObject({ direction: "loss", login: "bob", scope: { kind: "installation", owner: "acme" } });
    expect(
      classifyAccessEvent("membership", {
        action: "added",
        member: { login: "bob" },
        team: { name: "sre" },
        organization,
      }),
    ).toBeNull();
    expect(
      classifyAccessEvent("organization", {
        action: "member_added",
        membership: { user: { login: "bob" } },
        organization,
      }),
    ).toBeNull();
  });

  it("team repository events: removal is a loss for everyone on the repository, addition a gain, edits by permissions", () => {
    const team = { name: "sre", slug: "sre" };
    expect(
      classifyAccessEvent("team", { action: "removed_from_repository", team, repository, organization }),
    ).toEqual({
      direction: "loss",
      login: null,
      scope: { kind: "repository", owner: "acme", repo: "gitops" },
      reason: "@acme/sre was removed from acme/gitops",
    });
    // No repository named: every repository may be affected.
    expect(
      classifyAccessEvent("team", { action: "removed_from_repository", team, organization })?.scope,
    ).toEqual({ kind: "installation", owner: "acme" });
    expect(
      classifyAccessEvent("team", { action: "added_to_repository", team, repository, organization }),
    ).toMatchObject({ direction: "gain", login: null });
    const edited = (from: object, now: object | undefined) =>
      classifyAccessEvent("team", {
        action: "edited",
        team,
        organization,
        repository: { ...repository, ...(now ? { permissions: now } : {}) },
        changes: { repository: { permissions: { from } } },
      })?.direction ?? null;
    expect(edited({ admin: false, push: true, pull: true }, { admin: false, push: false, pull: true })).toBe(
      "loss",
    );
    expect(edited({ admin: false, push: false, pull: true }, { admin: true, push: true, pull: true })).toBe(
      "gain",
    );
    expect(
      edited({ admin: false, push: true, pull: true }, { admin: false, push: true, pull: true }),
    ).toBeNull();
    expect(edited({ admin: false, push: true, pull: true }, undefined)).toBe("loss");
    // A rename or privacy change cannot change who may approve.
    expect(classifyAccessEvent("team", { action: "edited", team, organization, changes: {} })).toBeNull();
  });
});

describe("mayBeStale", () => {
  const loss = (login: string | null): AccessChange => ({
    direction: "loss",
    login,
    scope: { kind: "repository", owner: "acme", repo: "gitops" },
    reason: "test",
  });
  const gain = (login: string | null): AccessChange => ({ ...loss(login), direction: "gain" });

  it("a loss re-gates passing PRs the person approved, not other passing or failing ones", () => {
    expect(mayBeStale(loss("bob"), pull(1, "success", decision(["bob"])))).toBe(true);
    expect(mayBeStale(loss("bob"), pull(2, "success", decision(["alice"])))).toBe(false);
    expect(mayBeStale(loss("bob"), pull(3, "failure", decision([], [["bob", "APPROVED"]])))).toBe(false);
    expect(mayBeStale(loss("bob"), pull(4, null, null))).toBe(false);
    expect(mayBeStale(loss("bob"), pull(5, "neutral", null))).toBe(false);
  });

  it("a loss re-gates a pass it cannot read, an evaluation under way, and any pass for a team change", () => {
    expect(mayBeStale(loss("bob"), pull(1, "success", null))).toBe(true);
    expect(mayBeStale(loss("bob"), pull(2, "failure", decision([]), true))).toBe(true);
    expect(mayBeStale(loss(null), pull(3, "success", decision(["alice"])))).toBe(true);
  });

  it("a gain re-gates failing PRs with an approval that did not count (from that person, if named)", () => {
    const uncounted = decision([], [["Bob", "APPROVED"]]);
    expect(mayBeStale(gain("bob"), pull(1, "failure", uncounted))).toBe(true);
    expect(mayBeStale(gain("carol"), pull(2, "failure", uncounted))).toBe(false);
    expect(mayBeStale(gain(null), pull(3, "failure", uncounted))).toBe(true);
    expect(mayBeStale(gain("bob"), pull(4, "failure", decision([], [["bob", "CHANGES_REQUESTED"]])))).toBe(
      false,
    );
    expect(mayBeStale(gain("bob"), pull(5, "failure", decision(["bob"], [["bob", "APPROVED"]])))).toBe(false);
    expect(mayBeStale(gain("bob"), pull(6, "success", decision(["bob"], [["bob", "APPROVED"]])))).toBe(false);
  });
});

describe("planAccessWork", () => {
  const loss: AccessChange = {
    direction: "loss",
    login: "bob",
    scope: { kind: "installation", owner: "acme" },
    reason: "test",
  };

  it("re-gates the lowest numbers up to the cap and marks the rest failing on a loss; a gain skips the rest", () => {
    const pulls = [5, 3, 9, 1].map((n) => pull(n, "success", decision(["bob"])));
    const work = planAccessWork(loss, [...pulls, pull(2, "success", decision(["alice"]))], { maxRegates: 2 });
    expect(work.regate.map((p) => p.number)).toEqual([1, 3]);
    expect(work.markStale.map((p) => p.number)).toEqual([5, 9]);
    expect(work.skipped).toEqual([]);
    const gained = planAccessWork(
      { ...loss, direction: "gain" },
      [4, 2, 6].map((n) => pull(n, "failure", decision([], [["bob", "APPROVED"]]))),
      { maxRegates: 1 },
    );
    expect(gained.regate.map((p) => p.number)).toEqual([2]);
    expect(gained.markStale).toEqual([]);
    expect(gained.skipped.map((p) => p.number)).toEqual([4, 6]);
  });

  it("property: every stale PR of a loss is re-gated or marked, exactly once, and nothing else", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            number: fc.integer({ min: 1, max: 10_000 }),
            conclusion: fc.constantFrom("success", "failure", "neutral", null),
            approvers: fc.subarray(["bob", "alice", "carol"]),
            inProgress: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 50 }),
        (rows, maxRegates) => {
          const pulls = rows.map((r, i) =>
            pull(r.number * 100 + i, r.conclusion, decision(r.approvers), r.inProgress),
          );
          const work = planAccessWork(loss, pulls, { maxRegates });
          const handled = [...work.regate, ...work.markStale].map((p) => p.number).sort((a, b) => a - b);
          const expected = pulls
            .filter((p) => mayBeStale(loss, p))
            .map((p) => p.number)
            .sort((a, b) => a - b);
          expect(handled).toEqual(expected);
          expect(work.regate.length).toBeLessThanOrEqual(maxRegates);
          expect(work.skipped).toEqual([]);
        },
      ),
    );
  });
});
