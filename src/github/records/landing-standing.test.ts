import { describe, expect, it } from "vitest";
import { compileCodeowners, parseCodeowners } from "../../core/codeowners/index.js";
import { branchPolicyFor } from "../../core/policy/match.js";
import { parsePolicy } from "../../core/policy/parse.js";
import { BASE_CODEOWNERS, basePolicy } from "../../demo/seed.js";
import type { Decision } from "../decision.js";
import { landingStanding, teamsToResolve, type StandingInput } from "./landing-standing.js";

const HEAD = "h".repeat(40).replace(/h/g, "a");
const parsed = parsePolicy(basePolicy(), ".github/pullgate.yml");
if (!parsed.policy) throw new Error(JSON.stringify(parsed.errors));
const policy = parsed.policy;
const branch = branchPolicyFor(policy, "main");
if (!branch) throw new Error("main is not governed");
const codeowners = compileCodeowners(parseCodeowners(BASE_CODEOWNERS));

const decision: Decision = {
  version: 1,
  repository: "acme/gitops",
  pullRequest: 4,
  headSha: HEAD,
  headTree: "b".repeat(40),
  baseRef: "main",
  baseSha: "c".repeat(40),
  environment: "production",
  policyDigest: `sha256:${"d".repeat(64)}`,
  approvedBy: ["bob"],
  reviews: [{ user: "bob", state: "APPROVED", commitId: HEAD }],
  signatures: [],
  lastPusher: "alice",
  status: "pass",
  rules: [],
};

const input = (over: Partial<StandingInput> = {}): StandingInput => ({
  decision,
  author: "alice",
  changedFiles: ["clusters/prod/app.yaml"],
  policy,
  branch,
  codeowners,
  permissions: { bob: "write" },
  teamMembers: { "acme/sre": ["bob"], "acme/platform": ["olivia"] },
  ...over,
});

describe("landingStanding: the decision's approvals judged again with current facts", () => {
  it("stands when nothing changed", () => {
    expect(landingStanding(input())).toEqual({ ok: true });
  });

  it("names the approval that lapsed when the approver left the owning team (finding 3)", () => {
    const standing = landingStanding(input({ teamMembers: { "acme/sre": [], "acme/platform": ["olivia"] } }));
    expect(standing.ok).toBe(false);
    if (standing.ok) return;
    expect(standing.lostAccess).toEqual([]);
    expect(standing.lapsed).toEqual([
      "@bob's approval no longer satisfies @acme/sre for clusters/prod/app.yaml (Code owners)",
    ]);
  });

  it("reports an approver who lost write access separately", () => {
    const standing = landingStanding(input({ permissions: { bob: "read" } }));
    expect(standing).toMatchObject({ ok: false, lostAccess: ["bob"] });
  });

  it("never lets an approval the decision did not count stand in for one that lapsed", () => {
    // carol (an SRE member) approved too, but the decision did not count her (she signed a commit
    // of the PR, say): when bob leaves the team, her approval must not carry the landing.
    const withCarol: Decision = {
      ...decision,
      reviews: [...decision.reviews, { user: "carol", state: "APPROVED", commitId: HEAD }],
    };
    const standing = landingStanding(
      input({
        decision: withCarol,
        permissions: { bob: "write", carol: "write" },
        teamMembers: { "acme/sre": ["carol"], "acme/platform": ["olivia"] },
      }),
    );
    expect(standing.ok).toBe(false);
  });

  it("fails closed on a review it cannot read", () => {
    const broken = { ...decision, reviews: [{ user: "bob", state: "LGTM", commitId: HEAD }] };
    expect(landingStanding(input({ decision: broken }))).toMatchObject({ ok: false });
  });

  it("asks for the rosters of the teams that own the files and of the policy admins", () => {
    expect(teamsToResolve(policy, branch, codeowners, ["clusters/prod/app.yaml"]).sort()).toEqual([
      "acme/platform",
      "acme/sre",
    ]);
  });
});
