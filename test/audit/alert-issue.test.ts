import { describe, expect, it } from "vitest";
import {
  DRIFT_LABEL,
  DRIFT_TITLE,
  planDriftIssue,
  renderDriftIssueBody,
  type ExistingIssue,
} from "../../src/github/protection/alert-issue.js";
import type { BranchAudit, RepositoryAudit } from "../../src/github/protection/audit.js";

function branch(overrides: Partial<BranchAudit> = {}): BranchAudit {
  return {
    branch: "main",
    environment: "production",
    mode: "audit",
    status: "drift",
    result: {
      id: "protection",
      title: "Branch protection",
      status: "fail",
      summary: "2 protection settings short of the policy (no protection at all).",
      satisfied: [],
      missing: [],
      fix: ['Enable "Require a pull request before merging".', 'Enable "Require signed commits".'],
    },
    drift: [
      {
        setting: "pull_request",
        expected: "required",
        actual: "not required",
        fix: 'Enable "Require a pull request before merging".',
      },
      {
        setting: "signed_commits",
        expected: "required",
        actual: "not | required\nreally <b>",
        fix: 'Enable "Require signed commits".',
      },
    ],
    ...overrides,
  };
}

function report(branches: BranchAudit[], overrides: Partial<RepositoryAudit> = {}): RepositoryAudit {
  return {
    repo: "acme/deploy",
    status: branches.some((b) => b.status === "drift") ? "drift" : "ok",
    policySources: ["acme/.github:.github/pullgate.yml"],
    branches,
    approvedRefs: [],
    notes: [],
    ...overrides,
  };
}

const clean = branch({ status: "ok", drift: [], result: { ...branch().result, status: "pass", fix: [] } });

describe("drift issue body", () => {
  it("is null when every branch and record ref meets the policy", () => {
    expect(renderDriftIssueBody(report([clean]))).toBeNull();
  });

  it("lists each drifting branch with its settings and fix sentences", () => {
    const body = renderDriftIssueBody(report([branch(), clean]));
    expect(body).not.toBeNull();
    expect(body).toContain("**acme/deploy**");
    expect(body).toContain("### Branch `main` (environment `production`, mode audit)");
    expect(body).toContain("| pull_request | required | not required |");
    expect(body).toContain('- Enable "Require signed commits".');
    // Only the drifting branch has a section.
    expect(body?.match(/^### /gm)).toHaveLength(1);
  });

  it("cannot be broken out of its table by drift text (pipes, newlines, HTML)", () => {
    const body = renderDriftIssueBody(report([branch()])) ?? "";
    const row = body.split("\n").find((l) => l.startsWith("| signed_commits"));
    expect(row).toBe("| signed_commits | required | not \\| required really &lt;b> |");
  });

  it("lists branches that could not be checked: not knowing is not fine", () => {
    const errored = branch({
      status: "error",
      drift: [],
      result: { ...branch().result, status: "error", summary: "Could not check: HTTP 403", fix: [] },
    });
    const body = renderDriftIssueBody(report([errored], { status: "error" })) ?? "";
    expect(body).toContain("Could not be checked: Could not check: HTTP 403");
  });

  it("lists record refs with drift", () => {
    const body =
      renderDriftIssueBody(
        report([], {
          approvedRefs: [
            {
              ref: "approved/production",
              environment: "production",
              status: "drift",
              result: { ...branch().result, fix: [] },
              drift: [
                {
                  setting: "ref_update",
                  expected: "updates restricted to pullgate",
                  actual: "not restricted",
                  fix: "Add an active ruleset on refs/heads/approved/*.",
                },
              ],
            },
          ],
        }),
      ) ?? "";
    expect(body).toContain("### Record ref `approved/production`");
    expect(body).toContain("- Add an active ruleset on refs/heads/approved/*.");
  });

  it("renders the same drift byte-identically (no churn)", () => {
    expect(renderDriftIssueBody(report([branch()]))).toBe(renderDriftIssueBody(report([branch()])));
  });
});

describe("drift issue plan", () => {
  const body = renderDriftIssueBody(report([branch()])) as string;
  const other = renderDriftIssueBody(report([branch({ branch: "release" })])) as string;
  const issue = (overrides: Partial<ExistingIssue>): ExistingIssue => ({
    number: 1,
    state: "open",
    title: DRIFT_TITLE,
    body,
    author: "pullgate[bot]",
    ...overrides,
  });

  it("creates the labelled issue when drift appears and none exists", () => {
    expect(planDriftIssue([], body)).toEqual({
      action: "create",
      title: DRIFT_TITLE,
      body,
      labels: [DRIFT_LABEL],
    });
  });

  it("does nothing when the open issue already says exactly this", () => {
    expect(planDriftIssue([issue({})], body)).toEqual({ action: "none", number: 1 });
  });

  it("edits the body when the drift changed", () => {
    expect(planDriftIssue([issue({})], other)).toEqual({
      action: "update",
      number: 1,
      body: other,
      reopen: false,
    });
  });

  it("reopens the newest closed issue when drift comes back, editing only if needed", () => {
    const closed = [issue({ number: 3, state: "closed" }), issue({ number: 7, state: "closed" })];
    expect(planDriftIssue(closed, body)).toEqual({ action: "update", number: 7, reopen: true });
    expect(planDriftIssue(closed, other)).toEqual({ action: "update", number: 7, body: other, reopen: true });
  });

  it("closes the open issue when the drift is fixed, and leaves a closed one alone", () => {
    expect(planDriftIssue([issue({ number: 4 })], null)).toEqual({ action: "close", number: 4 });
    expect(planDriftIssue([issue({ number: 4, state: "closed" })], null)).toEqual({
      action: "none",
      number: 4,
    });
    expect(planDriftIssue([], null)).toEqual({ action: "none" });
  });

  it("never adopts or closes an issue pullgate did not write (label added by someone else)", () => {
    const human = issue({ number: 9, body: "our own notes about protection", author: "mallory" });
    expect(planDriftIssue([human], null)).toEqual({ action: "none" });
    expect(planDriftIssue([human], body).action).toBe("create");
    // Copying pullgate's marker into an issue does not help when the author is known.
    const forged = issue({ number: 10, author: "mallory" });
    expect(planDriftIssue([forged], null, "pullgate[bot]")).toEqual({ action: "none" });
    expect(planDriftIssue([forged, issue({ number: 2 })], null, "pullgate[bot]")).toEqual({
      action: "close",
      number: 2,
    });
  });

  it("ignores pull requests carrying the label", () => {
    expect(planDriftIssue([issue({ number: 5, isPullRequest: true })], null)).toEqual({ action: "none" });
  });
});
