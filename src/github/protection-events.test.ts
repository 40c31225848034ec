import { describe, expect, it } from "vitest";
import { pushCallsForAudit } from "./protection-events.js";

const base = { ref: "refs/heads/main", defaultBranch: "main", before: "a".repeat(40), commits: [] };

describe("pushCallsForAudit", () => {
  it("re-audits when the default branch is created (first push to an empty repository)", () => {
    expect(pushCallsForAudit({ ...base, created: true })).toBe(true);
    expect(pushCallsForAudit({ ...base, before: "0".repeat(40) })).toBe(true);
  });
  it("re-audits when the policy file changes on the default branch", () => {
    expect(pushCallsForAudit({ ...base, commits: [{ modified: [".github/pullgate.yml"] }] })).toBe(true);
  });
  it("does not for other pushes, or for other branches", () => {
    expect(pushCallsForAudit({ ...base, commits: [{ modified: ["README.md"] }] })).toBe(false);
    expect(pushCallsForAudit({ ...base, ref: "refs/heads/feature", created: true })).toBe(false);
  });
});
