/**
 * A per-path rule from the policy: if any changed file matches one of its patterns, the PR needs
 * `approvals` counting approvers from its `from` principals (users, or members of teams). Team
 * membership comes from facts.teamMembers, so someone removed from a team no longer qualifies.
 */
import type { PathRule } from "../../policy/types.js";
import type { RuleResult } from "../../verdict/types.js";
import type { Approval } from "../approvers.js";
import type { PatternMatcher } from "../pattern.js";
import type { TeamDirectory } from "../principals.js";
import { isCount, listFiles, plural } from "./format.js";
import { describeQualifying, qualifyingApprovals, unresolvablePrincipals } from "./qualifying.js";

export interface PathRuleInput {
  changedFiles: readonly string[];
  approvers: readonly Approval[];
  teams: TeamDirectory;
  matchesPattern: PatternMatcher;
}

export function pathRuleId(rule: PathRule): string {
  return `path:${rule.name}`;
}

export function pathRuleResult(rule: PathRule, input: PathRuleInput): RuleResult {
  const id = pathRuleId(rule);
  const title = `Path rule "${rule.name}"`;
  const problem = !isCount(rule.approvals)
    ? `its approval count ${String(rule.approvals)} is not a whole number`
    : rule.paths.length === 0
      ? "it lists no paths"
      : null;
  if (problem) {
    const reason = `path rule "${rule.name}" is invalid: ${problem}`;
    return {
      id,
      title,
      status: "error",
      summary: `Cannot evaluate: ${reason}.`,
      satisfied: [],
      missing: [{ kind: "facts", reason }],
      fix: [`Fix path rule "${rule.name}" in the base branch's policy.`],
    };
  }

  const files = input.changedFiles.filter((file) => rule.paths.some((p) => input.matchesPattern(p, file)));
  if (files.length === 0) {
    return {
      id,
      title,
      status: "pass",
      summary: `No changed file matches ${rule.paths.join(", ")}.`,
      satisfied: [],
      missing: [],
      fix: [],
    };
  }

  const qualifying = qualifyingApprovals(rule.from, input.approvers, input.teams);
  const have = qualifying.length;
  const unresolvable = unresolvablePrincipals(rule.from);
  const notes =
    unresolvable.length > 0
      ? [`${unresolvable.join(", ")} cannot be resolved to GitHub accounts and cannot approve here.`]
      : [];
  const passed = have >= rule.approvals;
  return {
    id,
    title,
    status: passed ? "pass" : "fail",
    summary: `${plural(files.length, "changed file")} under this rule; ${have} of ${rule.approvals} required ${rule.approvals === 1 ? "approval" : "approvals"} from ${rule.from.join(", ") || "nobody"}.`,
    satisfied: qualifying.map((q) => `${describeQualifying(q)} approved ${listFiles(files)}`),
    missing: passed
      ? []
      : [{ kind: "owner-approval", files, owners: [...rule.from], needed: rule.approvals, have, rule: id }],
    fix: passed
      ? []
      : [
          `Get ${plural(rule.approvals - have, "more approval")} from ${rule.from.join(", ") || "(the rule names nobody: fix the policy)"} for ${listFiles(files)}.`,
        ],
    ...(notes.length > 0 ? { notes } : {}),
  };
}
