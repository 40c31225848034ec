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

const judge = (branch: string, environment: string, defaultPolicy = DEFAULT) =>
  judgeEnvironmentBinding({ branch, environment, defaultBranch: "main", defaultPolicy });

describe("judgeEnvironmentBinding", () => {
  it("a landing on the default branch is bound by the policy that judged it", () => {
    expect(judge("main", "production")).toEqual({ ok: true });
    expect(
      judgeEnvironmentBinding({
        branch: "main",
        environment: "x",
        defaultBranch: "main",
        defaultPolicy: null,
      }),
    ).toEqual({
      ok: true,
    });
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
    const verdict = judgeEnvironmentBinding({
      branch: "staging",
      environment: "staging",
      defaultBranch: "main",
      defaultPolicy: null,
    });
    expect(verdict.ok).toBe(false);
  });
});
