/**
 * Changes to sensitive paths (CODEOWNERS, the policy, keyrings, workflows: policy.sensitivePaths)
 * need an approval from a policy admin, whatever CODEOWNERS says. This closes the self-approval
 * loop where a PR edits CODEOWNERS or the policy to make its author's friends the owners of
 * everything, including of the edit itself.
 *
 * Hardening beyond the stale-approval setting: only admin approvals given on the current head
 * count here, even when reviews.dismissStaleApprovals is off, so an admin's approval of a harmless
 * CODEOWNERS edit cannot be carried over to a later push that rewrites the policy.
 */
import type { Principal } from "../../policy/types.js";
import type { RuleResult } from "../../verdict/types.js";
import type { Approval } from "../approvers.js";
import { shortSha } from "../approvers.js";
import type { PatternMatcher } from "../pattern.js";
import type { TeamDirectory } from "../principals.js";
import { listFiles, plural } from "./format.js";
import { describeQualifying, qualifyingApprovals, unresolvablePrincipals } from "./qualifying.js";

export const SENSITIVE_PATHS_RULE_ID = "sensitive-paths";

export interface SensitivePathsInput {
  changedFiles: readonly string[];
  sensitivePaths: readonly string[];
  admins: readonly Principal[];
  approvers: readonly Approval[];
  headSha: string;
  teams: TeamDirectory;
  matchesPattern: PatternMatcher;
}

export function sensitivePathsRule(input: SensitivePathsInput): RuleResult {
  const id = SENSITIVE_PATHS_RULE_ID;
  const title = "Sensitive paths";
  const files = input.changedFiles.filter((file) =>
    input.sensitivePaths.some((p) => input.matchesPattern(p, file)),
  );
  if (files.length === 0) {
    return {
      id,
      title,
      status: "pass",
      summary: "No sensitive path changed.",
      satisfied: [],
      missing: [],
      fix: [],
    };
  }

  const admins = qualifyingApprovals(input.admins, input.approvers, input.teams);
  const onHead = admins.filter((q) => q.approval.commitId === input.headSha);
  const notes = admins
    .filter((q) => q.approval.commitId !== input.headSha)
    .map(
      (q) =>
        `${describeQualifying(q)} approved older head ${shortSha(q.approval.commitId)}; sensitive changes need an admin approval of the current head.`,
    );
  const unresolvable = unresolvablePrincipals(input.admins);
  if (unresolvable.length > 0) {
    notes.push(
      `Admins ${unresolvable.join(", ")} cannot be resolved to GitHub accounts and cannot approve here.`,
    );
  }

  if (onHead.length > 0) {
    return {
      id,
      title,
      status: "pass",
      summary: `${plural(files.length, "sensitive file")} changed; approved by a policy admin.`,
      satisfied: onHead.map(
        (q) => `${describeQualifying(q)} approved ${listFiles(files)} at ${shortSha(input.headSha)}`,
      ),
      missing: [],
      fix: [],
      ...(notes.length > 0 ? { notes } : {}),
    };
  }
  const fix =
    input.admins.length === unresolvable.length
      ? `The policy names no admin who can approve (${input.admins.join(", ") || "none"}): add @user or @org/team admins to the base branch's policy.`
      : `Get an approval of the current head from a policy admin (${input.admins.join(", ")}) for ${listFiles(files)}.`;
  return {
    id,
    title,
    status: "fail",
    summary: `${plural(files.length, "sensitive file")} changed without a policy admin's approval of the current head.`,
    satisfied: [],
    missing: [{ kind: "admin-approval", files, admins: [...input.admins] }],
    fix: [fix],
    ...(notes.length > 0 ? { notes } : {}),
  };
}
