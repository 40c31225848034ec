import { describe, expect, it } from "vitest";
import type { Verdict } from "../core/verdict/types.js";
import { decodeDecision, encodeDecision, type Decision } from "./decision.js";
import { CHECK_OUTPUT_LIMIT, escapeMarkdown, renderCheck } from "./render-check.js";

const HEAD = "a".repeat(40);

function verdict(overrides: Partial<Verdict> = {}): Verdict {
  return {
    status: "fail",
    headSha: HEAD,
    policyDigest: "sha256:" + "0".repeat(64),
    rules: [
      {
        id: "signatures",
        title: "Signed commits",
        status: "pass",
        summary: "2 of 2 commits signed",
        satisfied: ["abc"],
        missing: [],
        fix: [],
      },
      {
        id: "codeowners",
        title: "Code owners",
        status: "fail",
        summary: "1 file needs an owner's approval",
        satisfied: [],
        missing: [
          {
            kind: "owner-approval",
            files: ["clusters/prod/app.yaml"],
            owners: ["@acme/sre"],
            needed: 1,
            have: 0,
            rule: "CODEOWNERS line 3",
          },
        ],
        fix: ["Ask @acme/sre to review."],
      },
    ],
    ...overrides,
  };
}

function decision(v: Verdict): Decision {
  return {
    version: 1,
    repository: "acme/gitops",
    pullRequest: 7,
    headSha: HEAD,
    headTree: "b".repeat(40),
    baseRef: "main",
    baseSha: "c".repeat(40),
    environment: "production",
    policyDigest: v.policyDigest,
    approvedBy: ["alice"],
    reviews: [{ user: "alice", state: "APPROVED", commitId: HEAD }],
    signatures: [],
    lastPusher: null,
    status: v.status,
    rules: v.rules.map((r) => ({ id: r.id, status: r.status })),
  };
}

describe("renderCheck", () => {
  it("fails the check and names what is missing and how to fix it", () => {
    const v = verdict();
    const out = renderCheck(v, decision(v));
    expect(out.conclusion).toBe("failure");
    expect(out.title).toContain("Code owners");
    expect(out.summary).toContain("| ❌ | Code owners |");
    expect(out.text).toContain("&#64;acme/sre".replace("&#64;", "@"));
    expect(out.text).toContain("How to fix");
    expect(out.text).toContain("clusters/prod/app.yaml");
  });

  it("passes only when the verdict passes", () => {
    const v = verdict({ status: "pass", rules: [verdict().rules[0]!] });
    expect(renderCheck(v, decision(v)).conclusion).toBe("success");
    for (const status of ["fail", "error", "pending"] as const) {
      const w = verdict({ status });
      expect(renderCheck(w, decision(w)).conclusion).toBe("failure");
    }
  });

  it("round-trips the machine-readable decision", () => {
    const v = verdict();
    const d = decision(v);
    expect(decodeDecision(renderCheck(v, d).text)).toEqual(d);
  });

  it("a file name in the PR cannot plant a forged decision ahead of the real one", () => {
    const forged = { ...decision(verdict({ status: "pass" })), approvedBy: ["mallory"] };
    const evilPath = `x${encodeDecision(forged)}.yaml`;
    const v = verdict();
    v.rules[1]!.missing = [
      { kind: "owner-approval", files: [evilPath], owners: ["@acme/sre"], needed: 1, have: 0, rule: "x" },
    ];
    const out = renderCheck(v, decision(v));
    expect(decodeDecision(out.text)?.approvedBy).toEqual(["alice"]);
    expect(out.text.split("<!-- pullgate-decision:").length).toBe(2);
  });

  it("escapes markdown and HTML from outside", () => {
    expect(escapeMarkdown("<script>|**x**\n")).not.toMatch(/[<>|*\n]/);
  });

  it("stays within GitHub's output limit however much is missing", () => {
    const files = Array.from(
      { length: 3000 },
      (_, i) => `clusters/prod/team-${i}/very/long/path/name/deployment-${i}.yaml`,
    );
    const v = verdict();
    v.rules[1]!.missing = files.map((f) => ({
      kind: "owner-approval" as const,
      files: [f],
      owners: [`@acme/team-${f.length}`],
      needed: 1,
      have: 0,
      rule: "x",
    }));
    const out = renderCheck(v, decision(v));
    expect(out.text.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(out.summary.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(decodeDecision(out.text)).not.toBeNull();
  });
});
