import { describe, expect, it } from "vitest";
import { effectiveApprovers, evaluateReviews } from "./evaluate.js";
import type { EvaluateReviewsInput } from "./evaluate.js";
import { combineVerdict } from "../verdict/combine.js";
import type { Verdict } from "../verdict/types.js";
import type { CodeownersMatcher } from "../codeowners/types.js";
import type { Review, ReviewFacts } from "./types.js";
import { HEAD, OLD, facts, literalMatcher, policy, review } from "./__fixtures__/facts.js";

const DIGEST = "sha256:" + "1".repeat(64);

// CODEOWNERS as on the BASE branch.
const baseCodeowners = literalMatcher({
  "app/": ["@bob"],
  "deploy/": ["@acme/ops"],
  "deploy/secrets/": ["@acme/ops", "@acme/sec"],
  ".github/CODEOWNERS": ["@bob"],
});

function input(
  overrides: Partial<EvaluateReviewsInput> & { facts?: ReviewFacts } = {},
): EvaluateReviewsInput {
  return {
    facts: facts(),
    reviews: policy({ requireCodeOwnerReview: true }),
    pathRules: [],
    admins: ["@acme/admins"],
    sensitivePaths: ["CODEOWNERS", ".github/pullgate.yml"],
    codeowners: baseCodeowners,
    ...overrides,
  };
}

function verdict(i: EvaluateReviewsInput): Verdict {
  return combineVerdict(i.facts.headSha, DIGEST, evaluateReviews(i));
}

function withReviews(reviews: Review[], more: Partial<ReviewFacts> = {}): ReviewFacts {
  return facts({
    changedFiles: ["app/main.ts"],
    teamMembers: { "acme/ops": ["olivia"], "acme/sec": ["sam"], "acme/admins": ["ada"] },
    permissions: {
      author: "write",
      bob: "write",
      alice: "write",
      olivia: "write",
      sam: "write",
      ada: "admin",
    },
    reviews,
    ...more,
  });
}

const ruleStatus = (v: Verdict) => Object.fromEntries(v.rules.map((r) => [r.id, r.status]));

describe("evaluateReviews scenarios", () => {
  it("a compliant PR passes", () => {
    const v = verdict(input({ facts: withReviews([review("bob", "APPROVED")]) }));
    expect(v.status).toBe("pass");
    expect(ruleStatus(v)).toEqual({ approvals: "pass", codeowners: "pass", "sensitive-paths": "pass" });
    expect(v.headSha).toBe(HEAD);
  });

  it("attack: the author approving their own PR", () => {
    const v = verdict(input({ facts: withReviews([review("author", "APPROVED")]) }));
    expect(v.status).toBe("fail");
    expect(ruleStatus(v)).toMatchObject({ approvals: "fail", codeowners: "fail" });
  });

  it("attack: case-insensitive login trick (author Alice approving as alice)", () => {
    const f = withReviews([review("alice", "APPROVED")], {
      author: "Alice",
      changedFiles: ["README.md"],
      permissions: { alice: "admin" },
    });
    expect(verdict(input({ facts: f })).status).toBe("fail");
  });

  it("attack: an approval given before a new push is stale", () => {
    const v = verdict(input({ facts: withReviews([review("bob", "APPROVED", OLD)]) }));
    expect(v.status).toBe("fail");
    expect(v.rules.find((r) => r.id === "approvals")?.notes).toEqual([
      "@bob's approval does not count: approved older head 0000000 (stale)",
    ]);
  });

  it("attack: a reviewer who approved then requested changes", () => {
    const v = verdict(
      input({
        facts: withReviews([
          review("bob", "APPROVED"),
          review("alice", "APPROVED"),
          review("bob", "CHANGES_REQUESTED"),
        ]),
      }),
    );
    expect(v.status).toBe("fail");
    const approvals = v.rules.find((r) => r.id === "approvals");
    expect(approvals?.missing).toEqual([{ kind: "changes-requested", reviewer: "bob", commit: HEAD }]);
  });

  it("a change request does not block when the policy requires no approvals (as on GitHub; keeps reviews monotonic)", () => {
    const f = withReviews([review("bob", "CHANGES_REQUESTED")], { changedFiles: ["README.md"] });
    expect(verdict(input({ facts: f, reviews: policy({ requiredApprovals: 0 }) })).status).toBe("pass");
    expect(verdict(input({ facts: f, reviews: policy({ requiredApprovals: 1 }) })).status).toBe("fail");
  });

  it("approve then comment: still approved", () => {
    const v = verdict(input({ facts: withReviews([review("bob", "APPROVED"), review("bob", "COMMENTED")]) }));
    expect(v.status).toBe("pass");
  });

  it("approve then dismissed: gone", () => {
    const v = verdict(input({ facts: withReviews([review("bob", "DISMISSED")]) }));
    expect(v.status).toBe("fail");
  });

  it("attack: a non-writer's (read/triage) approval", () => {
    for (const permission of ["read", "triage", "none"] as const) {
      const f = withReviews([review("bob", "APPROVED")]);
      f.permissions = { ...f.permissions, bob: permission };
      expect(verdict(input({ facts: f })).status, permission).toBe("fail");
    }
  });

  it("attack: a removed team member no longer satisfies a team owner", () => {
    const f = withReviews([review("olivia", "APPROVED")], { changedFiles: ["deploy/x.yaml"] });
    expect(verdict(input({ facts: f })).status).toBe("pass");
    f.teamMembers = { ...f.teamMembers, "acme/ops": [] };
    const v = verdict(input({ facts: f }));
    expect(v.status).toBe("fail");
    expect(ruleStatus(v)).toMatchObject({ approvals: "pass", codeowners: "fail" });
  });

  it("a file owned by two teams is satisfied by a member of either", () => {
    for (const member of ["olivia", "sam"]) {
      const f = withReviews([review(member, "APPROVED")], { changedFiles: ["deploy/secrets/db.yaml"] });
      expect(verdict(input({ facts: f })).status, member).toBe("pass");
    }
  });

  it("unowned files need only the general approvals", () => {
    const f = withReviews([review("alice", "APPROVED")], { changedFiles: ["README.md"] });
    expect(verdict(input({ facts: f })).status).toBe("pass");
  });

  it("attack: a PR editing CODEOWNERS to make an accomplice the owner of everything", () => {
    // The PR's new CODEOWNERS would read "* @mallory"; only the base matcher is ever consulted.
    const f = withReviews([review("mallory", "APPROVED")], {
      changedFiles: [".github/CODEOWNERS", "app/main.ts"],
      permissions: { author: "write", mallory: "write", bob: "write", ada: "admin" },
    });
    const v = verdict(input({ facts: f }));
    expect(v.status).toBe("fail");
    expect(ruleStatus(v)).toEqual({ approvals: "pass", codeowners: "fail", "sensitive-paths": "fail" });

    // Even the base CODEOWNERS' owner of CODEOWNERS (bob) is not enough: an admin must approve.
    f.reviews = [review("bob", "APPROVED")];
    expect(ruleStatus(verdict(input({ facts: f })))).toMatchObject({
      codeowners: "pass",
      "sensitive-paths": "fail",
    });

    f.reviews = [review("bob", "APPROVED"), review("ada", "APPROVED")];
    expect(verdict(input({ facts: f })).status).toBe("pass");
  });

  it("attack: a PR editing the policy needs an admin even with no CODEOWNERS entry for it", () => {
    const f = withReviews([review("bob", "APPROVED")], { changedFiles: [".github/pullgate.yml"] });
    expect(ruleStatus(verdict(input({ facts: f })))).toMatchObject({
      codeowners: "pass",
      "sensitive-paths": "fail",
    });
  });

  it("attack: the author being an admin cannot approve their own policy change", () => {
    const f = withReviews([review("ada", "APPROVED"), review("bob", "APPROVED")], {
      author: "ada",
      lastPusher: "ada",
      changedFiles: [".github/pullgate.yml"],
    });
    expect(ruleStatus(verdict(input({ facts: f })))).toMatchObject({ "sensitive-paths": "fail" });
  });

  it("attack: the last pusher as the only approver", () => {
    // bob approved, then pushed a commit of his own and approved it again.
    const f = withReviews([review("bob", "APPROVED", OLD), review("bob", "APPROVED")], { lastPusher: "bob" });
    const i = input({
      facts: f,
      reviews: policy({ requireCodeOwnerReview: true, requireLastPushApproval: true }),
    });
    const v = verdict(i);
    expect(v.status).toBe("fail");
    expect(ruleStatus(v)).toEqual({
      approvals: "fail",
      "last-push": "fail",
      codeowners: "fail",
      "sensitive-paths": "pass",
    });
    // Someone else approving the head fixes the last-push rule, but bob still cannot be the code owner approval.
    f.reviews.push(review("alice", "APPROVED"));
    expect(ruleStatus(verdict(i))).toMatchObject({
      approvals: "pass",
      "last-push": "pass",
      codeowners: "fail",
    });
  });

  it("path rules with teams", () => {
    const pathRules = [
      { name: "prod", paths: ["clusters/prod/"], approvals: 2, from: ["@acme/sre", "@dave"] },
    ];
    const f = withReviews([review("sara", "APPROVED"), review("bob", "APPROVED")], {
      changedFiles: ["clusters/prod/app.yaml"],
      teamMembers: { "acme/sre": ["sara", "sid"] },
      permissions: { sara: "write", sid: "write", bob: "write", dave: "write" },
    });
    const i = input({ facts: f, pathRules });
    expect(ruleStatus(verdict(i))).toMatchObject({ approvals: "pass", "path:prod": "fail" });
    f.reviews.push(review("sid", "APPROVED"));
    expect(verdict(i).status).toBe("pass");
  });

  it("fails closed when two path rules share a name", () => {
    const rule = { name: "prod", paths: ["clusters/prod/"], approvals: 0, from: [] };
    const v = verdict(input({ facts: withReviews([review("bob", "APPROVED")]), pathRules: [rule, rule] }));
    expect(v.status).toBe("error");
    expect(v.rules.filter((r) => r.id === "path:prod").map((r) => r.status)).toEqual(["pass", "error"]);
  });

  it("fails closed when a policy pattern is unsupported", () => {
    const v = verdict(
      input({ facts: withReviews([review("bob", "APPROVED")]), sensitivePaths: ["!CODEOWNERS"] }),
    );
    expect(v.status).toBe("error");
    const rule = v.rules.find((r) => r.id === "sensitive-paths");
    expect(rule?.status).toBe("error");
    expect(rule?.summary).toMatch(/negation .*is not supported/);
  });

  it("fails closed when the CODEOWNERS matcher throws", () => {
    const broken: CodeownersMatcher = {
      ownersOf() {
        throw new Error("boom");
      },
    };
    const v = verdict(input({ facts: withReviews([review("bob", "APPROVED")]), codeowners: broken }));
    expect(v.status).toBe("error");
    expect(v.rules.find((r) => r.id === "codeowners")?.status).toBe("error");
  });

  it("fails closed on facts it cannot evaluate", () => {
    expect(evaluateReviews(input({ facts: facts({ headSha: "" }) }))).toMatchObject([
      { id: "facts", status: "error" },
    ]);
    expect(evaluateReviews(input({ facts: facts({ author: " " }) }))).toMatchObject([
      { id: "facts", status: "error" },
    ]);
    expect(evaluateReviews(input({ facts: facts({ changedFiles: [""] }) }))).toMatchObject([
      { id: "facts", status: "error" },
    ]);
  });

  it("omits the code-owner rule when the policy does not require it", () => {
    const v = verdict(input({ facts: withReviews([review("alice", "APPROVED")]), reviews: policy() }));
    expect(v.status).toBe("pass");
    expect(v.rules.map((r) => r.id)).toEqual(["approvals", "sensitive-paths"]);
  });
});

describe("effectiveApprovers", () => {
  it("drops the last pusher's approval, so records never name an approval the rules discarded", () => {
    const facts = withReviews([review("bob", "APPROVED"), review("olivia", "APPROVED")]);
    const pushedByBob = { ...facts, lastPusher: "bob" };
    const strict = { ...input({ facts: pushedByBob }).reviews, requireLastPushApproval: true };
    expect(effectiveApprovers(pushedByBob, strict).approverSet.approvers.map((a) => a.login)).toEqual([
      "olivia",
    ]);
    const lax = { ...strict, requireLastPushApproval: false };
    expect(
      effectiveApprovers(pushedByBob, lax)
        .approverSet.approvers.map((a) => a.login)
        .sort(),
    ).toEqual(["bob", "olivia"]);
  });
});
