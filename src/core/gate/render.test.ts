import { describe, expect, it } from "vitest";
import type { Verdict } from "../verdict/types.js";
import { decide } from "./decide.js";
import { decodeDecision, encodeDecision, type Decision } from "./decision.js";
import { memoryFacts, policyYaml } from "./testing.js";
import {
  CHECK_OUTPUT_LIMIT,
  CHECK_TITLE_LIMIT,
  TRUNCATION_NOTE,
  escapeMarkdown,
  fitOutput,
  renderCheck,
  renderRecordRefRefusal,
  renderUngoverned,
  truncateBytes,
  utf8Prefix,
} from "./render.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Does `s` survive a UTF-8 round trip unchanged, with no replacement character (no cut sequence)? */
function wellFormed(s: string): boolean {
  return Buffer.from(s, "utf8").toString("utf8") === s && !s.includes("\uFFFD");
}

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
    expect(bytes(out.text)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(bytes(out.summary)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(decodeDecision(out.text)).not.toBeNull();
  });

  it("a 3,000-file PR with non-ASCII paths stays within GitHub's limit in bytes, not characters", () => {
    // The case: `.length`-based truncation sent 65,535 characters = far more bytes (422).
    const files = Array.from(
      { length: 3000 },
      (_, i) => `clusters/prod/équipe-${i}/déploiement-日本-${i}.yaml`,
    );
    const v = verdict();
    v.rules[1]!.missing = files.map((f) => ({
      kind: "owner-approval" as const,
      files: [f],
      owners: ["@acme/sre"],
      needed: 1,
      have: 0,
      rule: "CODEOWNERS line 3",
    }));
    const untruncated = renderCheck(v, decision(v));
    expect(bytes(untruncated.text)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(bytes(untruncated.summary)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(untruncated.text.endsWith(TRUNCATION_NOTE)).toBe(true);
    expect(wellFormed(untruncated.text)).toBe(true);
    expect(decodeDecision(untruncated.text)).toEqual(decision(v));
    // What the old character count would have let through is over GitHub's byte limit.
    const full = files.map((f) => `- 1 file(s) ... ${escapeMarkdown(f)}`).join("\n");
    expect(full.slice(0, CHECK_OUTPUT_LIMIT).length).toBe(CHECK_OUTPUT_LIMIT);
    expect(bytes(full.slice(0, CHECK_OUTPUT_LIMIT))).toBeGreaterThan(CHECK_OUTPUT_LIMIT);
  });

  it("cuts only on character boundaries, at every length (1- to 4-byte characters)", () => {
    const text = "aé€😀\n".repeat(40);
    for (let limit = 0; limit <= bytes(text) + 1; limit++) {
      const cut = utf8Prefix(text, limit);
      expect(bytes(cut)).toBeLessThanOrEqual(limit);
      expect(text.startsWith(cut)).toBe(true);
      expect(wellFormed(cut)).toBe(true);
    }
    expect(utf8Prefix(text, bytes(text))).toBe(text);
  });

  it("truncateBytes keeps the pointer to the rest and never exceeds the limit", () => {
    const long = "日".repeat(30_000); // 90,000 bytes, 30,000 characters
    const out = truncateBytes(long, CHECK_OUTPUT_LIMIT);
    expect(bytes(out)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(bytes(out)).toBeGreaterThan(CHECK_OUTPUT_LIMIT - 4 - bytes(TRUNCATION_NOTE));
    expect(out.endsWith(TRUNCATION_NOTE)).toBe(true);
    expect(wellFormed(out)).toBe(true);
    expect(truncateBytes("short", CHECK_OUTPUT_LIMIT)).toBe("short");
    // A limit below the note's own size still gives a bounded, well-formed string.
    expect(bytes(truncateBytes(long, 10))).toBeLessThanOrEqual(10);
  });

  it("fits any output (an error message, a long title) before it is written", () => {
    const out = fitOutput({
      conclusion: "failure" as const,
      title: "😀".repeat(200) + "\nsecond line",
      summary: "é".repeat(40_000),
      text: "x",
    });
    expect(bytes(out.title)).toBeLessThanOrEqual(CHECK_TITLE_LIMIT);
    expect(out.title).not.toContain("\n");
    expect(wellFormed(out.title)).toBe(true);
    expect(bytes(out.summary)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(out.text).toBe("x");
    expect(out.conclusion).toBe("failure");
  });
});

describe("renderUngoverned and renderRecordRefRefusal", () => {
  it("a PR into an ungoverned branch gets a neutral check naming the branch, escaped", () => {
    const out = renderUngoverned("dev<script>", ["This head is also the head of #2 into main: passes."]);
    expect(out.conclusion).toBe("neutral");
    expect(out.title).toBe("No pullgate policy governs dev<script>");
    expect(out.summary).toContain("<code>dev&#60;script&#62;</code>");
    expect(out.summary).toContain("\n> This head is also the head of &#35;2 into main: passes.");
  });

  it("a title longer than the cap is cut on one line", () => {
    const out = renderUngoverned(`dev/${"x".repeat(400)}\nmain`);
    expect(Buffer.byteLength(out.title)).toBeLessThanOrEqual(CHECK_TITLE_LIMIT);
    expect(out.title).not.toContain("\n");
  });

  it("a PR into a record ref fails, titled with what to do, its decision readable first in the text", async () => {
    const d = await decide(
      memoryFacts({ policy: policyYaml(), baseRef: "approved/production", defaultBranch: "main" }),
      {
        now: new Date("2026-06-01T00:00:00Z"),
      },
    );
    if (d.kind !== "record-ref") throw new Error(`expected a record-ref refusal, got ${d.kind}`);
    const out = renderRecordRefRefusal(d.verdict, d.decision, []);
    expect(out.conclusion).toBe("failure");
    expect(out.title).toBe(
      "approved/production is a record ref written only by pullgate: close this pull request",
    );
    expect(decodeDecision(out.text)).toEqual(d.decision);
  });
});
