import { describe, expect, it } from "vitest";
import { approvalsRule } from "./approvals.js";
import type { ApproverSet } from "../approvers.js";
import { HEAD, OLD } from "../__fixtures__/facts.js";

function set(partial: Partial<ApproverSet>): ApproverSet {
  return { approvers: [], ignored: [], changesRequested: [], ...partial };
}
const approval = (login: string, commitId = HEAD) => ({ login, commitId, reviewId: 1 });

describe("approvalsRule", () => {
  it("passes with enough counting approvers", () => {
    const result = approvalsRule(set({ approvers: [approval("alice"), approval("bob")] }), 2);
    expect(result).toMatchObject({ id: "approvals", status: "pass", missing: [], fix: [] });
    expect(result.satisfied).toEqual(["@alice approved at hhhhhhh", "@bob approved at hhhhhhh"]);
  });

  it("fails with too few, saying how many are needed", () => {
    const result = approvalsRule(set({ approvers: [approval("alice")] }), 2);
    expect(result.status).toBe("fail");
    expect(result.missing).toEqual([{ kind: "approvals", needed: 2, have: 1 }]);
    expect(result.summary).toBe("1 of 2 required approvals.");
    expect(result.fix[0]).toContain("1 more approval");
  });

  it("fails on a writer's outstanding change request even with enough approvals", () => {
    const result = approvalsRule(
      set({
        approvers: [approval("alice")],
        changesRequested: [{ login: "bob", commitId: OLD, reviewId: 2 }],
      }),
      1,
    );
    expect(result.status).toBe("fail");
    expect(result.missing).toEqual([{ kind: "changes-requested", reviewer: "bob", commit: OLD }]);
    expect(result.summary).toContain("@bob requested changes on 0000000");
  });

  it("like GitHub, a change request does not block when no approvals are required (noted instead)", () => {
    const result = approvalsRule(
      set({ changesRequested: [{ login: "bob", commitId: HEAD, reviewId: 2 }] }),
      0,
    );
    expect(result.status).toBe("pass");
    expect(result.missing).toEqual([]);
    expect(result.notes).toEqual([
      "@bob requested changes on hhhhhhh (not blocking: the policy requires no approvals).",
    ]);
  });

  it("passes with zero required and nothing outstanding", () => {
    expect(approvalsRule(set({}), 0).status).toBe("pass");
  });

  it("explains ignored approvals as notes", () => {
    const result = approvalsRule(
      set({ ignored: [{ ...approval("author"), reason: "author's own approval" }] }),
      1,
    );
    expect(result.status).toBe("fail");
    expect(result.notes).toEqual(["@author's approval does not count: author's own approval"]);
  });

  it("errors (fail closed) on a nonsensical required count", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const result = approvalsRule(set({ approvers: [approval("alice"), approval("bob")] }), bad);
      expect(result.status, String(bad)).toBe("error");
      expect(result.missing[0]?.kind).toBe("facts");
    }
  });
});
