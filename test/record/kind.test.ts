import { describe, expect, it } from "vitest";
import { RECORD_KINDS, recordKind, type KindFields } from "../../src/record/kind.js";

const fields: KindFields = {
  repository: "acme/deploy",
  environment: "production",
  branch: "main",
  sequence: 3,
  sourceCommit: "1".repeat(40),
  sourceTree: "2".repeat(40),
  pullRequest: 7,
  approvedBy: ["alice"],
  policyDigest: "sha256:" + "ab".repeat(32),
  issuedAt: "2026-12-01T10:00:00Z",
  key: "A".repeat(40),
};

const PROMOTED = { environment: "staging", sequence: 4, recordCommit: "4".repeat(40) };
const BREAK_GLASS = { approvedBy: ["olivia", "oscar"] };

describe("recordKind", () => {
  it("a version-1 record is a landing, or a refresh when the verifier says it re-issues its previous source", () => {
    expect(recordKind(fields, { refresh: false })).toBe("landing");
    expect(recordKind(fields, { refresh: true })).toBe("refresh");
  });

  it("the break-glass and promotion marks win over landing", () => {
    expect(recordKind({ ...fields, breakGlass: BREAK_GLASS }, { refresh: false })).toBe("break-glass");
    expect(recordKind({ ...fields, promotedFrom: PROMOTED }, { refresh: false })).toBe("promotion");
    // An emergency landing must never be shown as a plain promotion.
    expect(
      recordKind({ ...fields, breakGlass: BREAK_GLASS, promotedFrom: PROMOTED }, { refresh: false }),
    ).toBe("break-glass");
  });

  it("a refresh copies its previous record's marks and stays a refresh", () => {
    expect(recordKind({ ...fields, breakGlass: BREAK_GLASS }, { refresh: true })).toBe("refresh");
  });

  it("every kind it returns is one of RECORD_KINDS, and every one of them is reachable", () => {
    const seen = new Set([
      recordKind(fields, { refresh: false }),
      recordKind(fields, { refresh: true }),
      recordKind({ ...fields, breakGlass: BREAK_GLASS }, { refresh: false }),
      recordKind({ ...fields, promotedFrom: PROMOTED }, { refresh: false }),
    ]);
    expect([...seen].sort()).toEqual([...RECORD_KINDS].sort());
  });
});
