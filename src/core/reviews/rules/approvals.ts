/**
 * The approvals rule: at least `requiredApprovals` counting approvers (see approvers.ts for who
 * counts), and no outstanding change request from a writer. As on GitHub, a changes-requested
 * review blocks merging only when approvals are required (requiredApprovals >= 1), until that
 * reviewer approves or the review is dismissed. With no approvals required it is reported as a
 * note and does not block: that keeps reviews monotonic (taking reviews away can never turn a
 * failing verdict into a passing one), which the property tests check.
 */
import type { Missing, RuleResult } from "../../verdict/types.js";
import type { ApproverSet } from "../approvers.js";
import { shortSha } from "../approvers.js";
import { describeApproval, isCount, plural } from "./format.js";

export const APPROVALS_RULE_ID = "approvals";

export function approvalsRule(set: ApproverSet, requiredApprovals: number): RuleResult {
  const title = "Approvals";
  const notes = set.ignored.map((i) => `@${i.login}'s approval does not count: ${i.reason}`);
  if (!isCount(requiredApprovals)) {
    const reason = `the policy's required approval count ${String(requiredApprovals)} is not a whole number`;
    return {
      id: APPROVALS_RULE_ID,
      title,
      status: "error",
      summary: `Cannot evaluate: ${reason}.`,
      satisfied: [],
      missing: [{ kind: "facts", reason }],
      fix: ["Fix reviews.requiredApprovals in the base branch's policy."],
    };
  }

  const have = set.approvers.length;
  const missing: Missing[] = [];
  const fix: string[] = [];
  if (have < requiredApprovals) {
    missing.push({ kind: "approvals", needed: requiredApprovals, have });
    fix.push(
      `Get ${plural(requiredApprovals - have, "more approval")} from reviewers with write access other than the author.`,
    );
  }
  const blocking = requiredApprovals > 0 ? set.changesRequested : [];
  for (const request of blocking) {
    missing.push({ kind: "changes-requested", reviewer: request.login, commit: request.commitId });
    fix.push(
      `Address @${request.login}'s requested changes (given on ${shortSha(request.commitId)}) and get their approval, or have the review dismissed.`,
    );
  }
  if (blocking.length === 0) {
    for (const request of set.changesRequested) {
      notes.push(
        `@${request.login} requested changes on ${shortSha(request.commitId)} (not blocking: the policy requires no approvals).`,
      );
    }
  }

  const blockers = blocking.map((r) => `@${r.login} requested changes on ${shortSha(r.commitId)}`);
  const summary = [
    `${have} of ${requiredApprovals} required ${requiredApprovals === 1 ? "approval" : "approvals"}`,
  ]
    .concat(blockers)
    .join("; ");
  return {
    id: APPROVALS_RULE_ID,
    title,
    status: missing.length === 0 ? "pass" : "fail",
    summary: `${summary}.`,
    satisfied: set.approvers.map(describeApproval),
    missing,
    fix,
    ...(notes.length > 0 ? { notes } : {}),
  };
}
