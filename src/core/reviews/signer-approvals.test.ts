/**
 * An approval by a person who signed a commit of the PR is a self-approval (issue 12, finding 2;
 * docs/policy.md, "Who signed: keys are people"): bob signs alice's change and approves it.
 */
import { describe, expect, it } from "vitest";
import { countingApprovers } from "./approvers.js";
import { effectiveApprovers, evaluateReviews } from "./evaluate.js";
import { HEAD, facts, literalMatcher, policy, review } from "./__fixtures__/facts.js";

const C1 = "c".repeat(40);
const C2 = "d".repeat(40);

describe("signers' approvals", () => {
  it("attack: bob signed a commit and approves: his approval does not count, and says why", () => {
    const result = countingApprovers(
      facts({ reviews: [review("bob", "APPROVED")], signers: [{ commit: C1, login: "bob" }] }),
      policy(),
    );
    expect(result.approvers).toEqual([]);
    expect(result.ignored).toMatchObject([
      { login: "bob", reason: "self-approval: signed commit ccccccc of this pull request" },
    ]);
  });

  it("matches logins case-insensitively and names every commit the approver signed", () => {
    const result = countingApprovers(
      facts({
        reviews: [review("BoB", "APPROVED"), review("alice", "APPROVED")],
        signers: [
          { commit: C1, login: "bob" },
          { commit: C2, login: "Bob" },
        ],
      }),
      policy(),
    );
    expect(result.approvers.map((a) => a.login)).toEqual(["alice"]);
    expect(result.ignored).toMatchObject([
      { login: "BoB", reason: "self-approval: signed commits ccccccc, ddddddd of this pull request" },
    ]);
  });

  it("a signer's change request still blocks (only approvals are discounted)", () => {
    const result = countingApprovers(
      facts({ reviews: [review("bob", "CHANGES_REQUESTED")], signers: [{ commit: C1, login: "bob" }] }),
      policy(),
    );
    expect(result.changesRequested.map((r) => r.login)).toEqual(["bob"]);
  });

  it("the signer's approval satisfies no rule: code owners, path rules, last push; the record does not name them", () => {
    const input = {
      facts: facts({
        lastPusher: "author",
        changedFiles: ["app/main.ts"],
        reviews: [review("bob", "APPROVED")],
        signers: [{ commit: HEAD, login: "bob" }],
      }),
      reviews: policy({ requireCodeOwnerReview: true, requireLastPushApproval: true }),
      pathRules: [{ name: "app", paths: ["app/"], approvals: 1, from: ["@bob"] }],
      admins: [],
      sensitivePaths: [],
      codeowners: literalMatcher({ "app/": ["@bob"] }),
    };
    const results = evaluateReviews(input);
    const status = Object.fromEntries(results.map((r) => [r.id, r.status]));
    expect(status).toMatchObject({ approvals: "fail", "last-push": "fail", codeowners: "fail" });
    expect(results.find((r) => r.id.startsWith("path"))?.status).toBe("fail");
    expect(results.find((r) => r.id === "approvals")?.notes).toContain(
      "@bob's approval does not count: self-approval: signed commit hhhhhhh of this pull request",
    );
    expect(effectiveApprovers(input.facts, input.reviews).approverSet.approvers).toEqual([]);
  });

  it("the same approval counts when bob signed nothing (the rule is about signers, not reviewers)", () => {
    const result = countingApprovers(
      facts({ reviews: [review("bob", "APPROVED")], signers: [{ commit: C1, login: "alice" }] }),
      policy(),
    );
    expect(result.approvers.map((a) => a.login)).toEqual(["bob"]);
  });
});
