/**
 * The record publisher's judgement of a landing, without GitHub: each refusal is an attack a
 * record must not follow (docs/architecture.md, invariant 5: a record holds exactly the approved
 * tree of a PR pullgate passed, for this branch and environment).
 */
import { describe, expect, it } from "vitest";
import {
  judgeLanding,
  judgeVerdict,
  landedRefusal,
  NO_PULL_REASON,
  standingRefusal,
  type LandingDecision,
  type LandingFacts,
} from "./landing.js";

const HEAD = "1".repeat(40);
const TREE = "2".repeat(40);
const decision: LandingDecision = {
  status: "pass",
  headSha: HEAD,
  headTree: TREE,
  baseRef: "main",
  environment: "prod",
  approvedBy: ["bob"],
};
const facts = (over: Partial<LandingFacts> = {}): LandingFacts => ({
  branch: "main",
  environment: "prod",
  pull: { number: 7, headSha: HEAD },
  verdict: { conclusion: "success", decision },
  landedTree: TREE,
  ...over,
});

describe("judgeLanding: a record only for the approved tree of a PR pullgate passed", () => {
  it("the merge of the approved head, unchanged, is an approved landing", () => {
    expect(judgeLanding(facts())).toEqual({ ok: true, decision });
  });

  it("a direct push (no merged PR) is refused", () => {
    expect(judgeLanding(facts({ pull: null }))).toEqual({ ok: false, reason: NO_PULL_REASON });
  });

  it("a PR merged without pullgate's pass (admin merge past a failing or missing check) is refused", () => {
    for (const verdict of [
      null,
      { conclusion: "failure", decision: { ...decision, status: "fail" } },
      { conclusion: "success", decision: null },
      // A success conclusion whose decision says otherwise is no pass either.
      { conclusion: "success", decision: { ...decision, status: "fail" } },
      { conclusion: "neutral", decision },
    ])
      expect(judgeLanding(facts({ verdict })), JSON.stringify(verdict)).toEqual({
        ok: false,
        reason: `pull request #7 was merged without pullgate's passing check on its head ${HEAD.slice(0, 7)}`,
      });
  });

  it("a pass for another head, branch or environment is not a pass for this landing", () => {
    for (const other of [
      { headSha: "3".repeat(40) },
      { baseRef: "staging" },
      { environment: "staging" },
      { environment: null },
    ]) {
      const result = judgeLanding(
        facts({ verdict: { conclusion: "success", decision: { ...decision, ...other } } }),
      );
      expect(result, JSON.stringify(other)).toEqual({
        ok: false,
        reason: "pullgate's decision for #7 was made for another head, branch or environment",
      });
    }
  });

  it("a merged tree that is not the approved head's (the base moved under the PR) is refused", () => {
    const landed = "4".repeat(40);
    expect(judgeLanding(facts({ landedTree: landed }))).toEqual({
      ok: false,
      reason: `the merged tree ${landed.slice(0, 7)} differs from the approved head's tree ${TREE.slice(0, 7)} (the base moved: require branches to be up to date before merging)`,
    });
    // A decision that recorded no tree approves none.
    const noTree = { ...decision, headTree: null };
    expect(judgeLanding(facts({ verdict: { conclusion: "success", decision: noTree } })).ok).toBe(false);
  });

  it("a pass that counted no approver has no one to name in a record", () => {
    const none = { ...decision, approvedBy: [] };
    expect(judgeLanding(facts({ verdict: { conclusion: "success", decision: none } }))).toEqual({
      ok: false,
      reason: "pull request #7 has no counted approver to name in a record",
    });
  });

  it("the steps agree with the whole: judgeVerdict then landedRefusal", () => {
    const pull = { number: 7, headSha: HEAD };
    const verdict = judgeVerdict(pull, { conclusion: "success", decision }, "main", "prod");
    expect(verdict).toEqual({ ok: true, decision });
    expect(landedRefusal(pull, decision, TREE)).toBeNull();
    expect(landedRefusal(pull, decision, "5".repeat(40))).toContain("differs from the approved head's tree");
  });
});

describe("standingRefusal: approvals judged again with the facts current at landing", () => {
  it("an approval that still stands refuses nothing", () => {
    expect(standingRefusal("acme/gitops", 7, { ok: true })).toBeNull();
  });

  it("an approver who lost write access after approving is named", () => {
    expect(standingRefusal("acme/gitops", 7, { ok: false, lostAccess: ["bob", "eve"], lapsed: [] })).toBe(
      "@bob, @eve approved pull request #7 but no longer had write access to acme/gitops when it landed",
    );
  });

  it("every lapsed rule is named, after the lost access", () => {
    expect(
      standingRefusal("acme/gitops", 7, {
        ok: false,
        lostAccess: ["bob"],
        lapsed: ["code owner approval missing for clusters/prod", "two approvals needed"],
      }),
    ).toBe(
      "@bob approved pull request #7 but no longer had write access to acme/gitops when it landed; pull request #7 would not pass with the facts current when it landed: code owner approval missing for clusters/prod; two approvals needed",
    );
  });
});
