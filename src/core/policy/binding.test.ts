import { describe, expect, it } from "vitest";
import { judgeEnvironmentBinding } from "./binding.js";
import { parsePolicy } from "./parse.js";

function policy(text: string) {
  const { policy: parsed, errors } = parsePolicy(text, ".github/pullgate.yml");
  if (!parsed) throw new Error(JSON.stringify(errors));
  return parsed;
}

const DEFAULT = policy(`version: 1
branches:
  - branch: main
    environment: production
  - branch: staging
  - branch: release/*
    environment: release
`);

/** The branch's entry in its own copy: `environment` claimed, the default rules. */
function ownEntry(branch: string, environment: string) {
  const entry = policy(`version: 1
branches:
  - branch: ${JSON.stringify(branch)}
    environment: ${environment}
`).branches[0];
  if (!entry) throw new Error("no entry");
  return entry;
}

const judge = (branch: string, environment: string, defaultPolicy: typeof DEFAULT | null = DEFAULT) =>
  judgeEnvironmentBinding({
    branch,
    environment,
    defaultBranch: "main",
    defaultPolicy,
    ownEntry: ownEntry(branch, environment),
  });

describe("judgeEnvironmentBinding", () => {
  it("a landing on the default branch is bound by the policy that judged it", () => {
    expect(judge("main", "production")).toEqual({ ok: true });
    expect(judge("main", "x", null)).toEqual({ ok: true });
  });

  it("a branch the default branch's policy maps to the same environment may publish there", () => {
    expect(judge("staging", "staging")).toEqual({ ok: true });
    expect(judge("release/1.2", "release")).toEqual({ ok: true });
  });

  it("attack: a branch whose own copy of the policy claims production, unknown to the default branch", () => {
    const verdict = judge("hijack", "production");
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toBe(
        "the policy on the default branch `main` does not govern `hijack`; a branch's own copy of the policy cannot make it feed `production`",
      );
    }
  });

  it("attack: a governed branch whose own copy redirects it to another environment", () => {
    const verdict = judge("staging", "production");
    expect(verdict).toEqual({
      ok: false,
      reason:
        "the policy on the default branch `main` makes `staging` feed `staging`, not `production` as the branch's own copy says",
    });
  });

  it("fails closed when the default branch has no policy at all", () => {
    expect(judge("staging", "staging", null).ok).toBe(false);
  });
});

describe("judgeEnvironmentBinding: the branch's own rules against the default branch's", () => {
  const FLOOR = policy(`version: 1
branches:
  - branch: main
  - branch: staging
    signatures:
      required: true
    reviews:
      required_approvals: 2
    paths:
      - name: cluster
        paths: ["/clusters/"]
        approvals: 1
        from: ["@acme/sre"]
`);
  const own = (text: string) => {
    const entry = policy(text).branches.find((b) => b.branch === "staging");
    if (!entry) throw new Error("no staging entry");
    return entry;
  };
  const judgeOwn = (text: string) =>
    judgeEnvironmentBinding({
      branch: "staging",
      environment: "staging",
      defaultBranch: "main",
      defaultPolicy: FLOOR,
      ownEntry: own(text),
    });
  const SAME = `version: 1
branches:
  - branch: staging
    signatures:
      required: true
    reviews:
      required_approvals: 2
    paths:
      - name: cluster
        paths: ["/clusters/"]
        approvals: 1
        from: ["@acme/sre"]
`;

  it("the same rules, or tighter ones, pass", () => {
    expect(judgeOwn(SAME)).toEqual({ ok: true });
    expect(judgeOwn(SAME.replace("required_approvals: 2", "required_approvals: 3"))).toEqual({ ok: true });
  });

  it("attack: a branch created with a copy that needs fewer approvals", () => {
    const verdict = judgeOwn(SAME.replace("required_approvals: 2", "required_approvals: 1"));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok)
      expect(verdict.reason).toContain(
        "reviews.required_approvals 1 against 2 (fewer approvals would be required)",
      );
  });

  it("attack: a copy that turns signatures off", () => {
    const verdict = judgeOwn(SAME.replace("      required: true", "      required: false"));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain("signatures.required false against true");
  });

  it("attack: a copy that drops or weakens a path rule", () => {
    const dropped = judgeOwn(SAME.replace(/ {4}paths:\n[\s\S]*$/, ""));
    expect(dropped.ok).toBe(false);
    if (!dropped.ok) expect(dropped.reason).toContain('the path rule "cluster" is missing or changed');
    expect(judgeOwn(SAME.replace(`from: ["@acme/sre"]`, `from: ["@acme/sre", "@acme/dev"]`)).ok).toBe(false);
  });
});
