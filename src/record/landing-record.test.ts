/**
 * The record built for an approved landing, without GitHub: its fields say exactly what landed and
 * who approved it, chain on the previous record, and format into a message the agents parse back.
 */
import { describe, expect, it } from "vitest";
import { buildRecordCommit } from "./commit.js";
import { extractDecision, parseRecordMessage } from "./format.js";
import { landingRecord, type LandingRecordInput } from "./landing-record.js";
import { ISSUE_BACKDATE_MS } from "./time.js";

const FINGERPRINT = "A".repeat(40);
const NOW = new Date("2026-12-04T03:00:00Z");
const decision = {
  headSha: "1".repeat(40),
  approvedBy: ["bob", "carol"],
  policyDigest: `sha256:${"c".repeat(64)}`,
  reviews: [{ login: "bob", state: "APPROVED" }],
  signatures: [],
  rules: [{ id: "codeowners", status: "pass" }],
};
const input = (over: Partial<LandingRecordInput> = {}): LandingRecordInput => ({
  repository: "acme/gitops",
  environment: "prod",
  branch: "main",
  previous: null,
  landing: { commit: "2".repeat(40), tree: "3".repeat(40), pullRequest: 7, decision },
  signer: {
    fingerprint: FINGERPRINT,
    identity: { name: "pullgate[bot]", email: "1+pullgate[bot]@users.noreply.github.com" },
    key: { getCreationTime: () => new Date("2026-01-01T00:00:00Z") },
  },
  now: NOW,
  ...over,
});

describe("landingRecord: the content of a landing's record", () => {
  it("the first record of an environment: sequence 1, no parent record, the landing's commit and tree", () => {
    const record = landingRecord(input());
    expect(record.previousRecord).toBeNull();
    expect(record.fields).toEqual({
      repository: "acme/gitops",
      environment: "prod",
      branch: "main",
      sequence: 1,
      sourceCommit: "2".repeat(40),
      sourceTree: "3".repeat(40),
      pullRequest: 7,
      approvedBy: ["bob", "carol"],
      policyDigest: decision.policyDigest,
      issuedAt: new Date(NOW.getTime() - ISSUE_BACKDATE_MS).toISOString().replace(/\.\d{3}Z$/, "Z"),
      key: FINGERPRINT,
    });
  });

  it("a next record chains on the previous one and never dates itself before it", () => {
    const later = "2026-12-04T02:58:00Z"; // after now minus the backdate
    const record = landingRecord(input({ previous: { sha: "9".repeat(40), sequence: 41, issuedAt: later } }));
    expect(record.previousRecord).toBe("9".repeat(40));
    expect(record.fields.sequence).toBe(42);
    expect(record.fields.issuedAt).toBe(later);
  });

  it("formats into a record message the agents parse back to the same fields, with the decision block", () => {
    const record = landingRecord(input());
    const commit = buildRecordCommit(record);
    const parsed = parseRecordMessage(commit.message);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fields).toEqual(record.fields);
    expect(parsed.body).toContain("Pull request #7 was approved by @bob, @carol and merged as 2222222.");
    expect(extractDecision(parsed.body)).toEqual({
      reviews: decision.reviews,
      signatures: decision.signatures,
      rules: decision.rules,
      headSha: decision.headSha,
    });
    // The record commit holds exactly the landed tree.
    expect(commit.tree).toBe("3".repeat(40));
  });

  it("the approvers are copied: a later change to the decision does not change a built record", () => {
    const approvedBy = ["bob"];
    const record = landingRecord(
      input({ landing: { ...input().landing, decision: { ...decision, approvedBy } } }),
    );
    approvedBy.push("mallory");
    expect(record.fields.approvedBy).toEqual(["bob"]);
  });
});
