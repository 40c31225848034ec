/**
 * The code-owner rule (when reviews.requireCodeOwnerReview): every changed file that has owners
 * needs an approval from one of them. A user owner is satisfied by that user's counting approval;
 * a team owner by a counting approval from any member (per facts.teamMembers); an email owner
 * cannot be resolved to a GitHub account here, so a file owned only by emails cannot be satisfied
 * and the rule says why. Files without owners need nothing from this rule.
 *
 * Invariant 2 (docs/architecture.md): the matcher MUST be built from the BASE branch's CODEOWNERS.
 * The adapter supplies it; this function never sees the PR's CODEOWNERS, so a PR that rewrites
 * CODEOWNERS to make its author (or an accomplice) the owner gains nothing here, and the
 * sensitive-paths rule demands an admin's approval for the edit itself.
 */
import type { CodeownersMatcher } from "../../codeowners/types.js";
import type { Missing, RuleResult } from "../../verdict/types.js";
import type { Approval } from "../approvers.js";
import type { TeamDirectory } from "../principals.js";
import { listFiles, plural } from "./format.js";
import { describeQualifying, qualifyingApprovals, unresolvablePrincipals } from "./qualifying.js";

export const CODEOWNERS_RULE_ID = "codeowners";

export interface CodeownersRuleInput {
  changedFiles: readonly string[];
  /** Built from the base branch's CODEOWNERS (never the PR's). */
  codeowners: CodeownersMatcher;
  /** Counting approvers, after the last-push rule removed the last pusher. */
  approvers: readonly Approval[];
  teams: TeamDirectory;
}

interface OwnerGroup {
  owners: string[];
  files: string[];
}

export function codeownersRule(input: CodeownersRuleInput): RuleResult {
  const { groups, unowned } = groupByOwners(input.changedFiles, input.codeowners);
  const satisfied: string[] = [];
  const missing: Missing[] = [];
  const fix: string[] = [];
  const notes: string[] = [];

  for (const group of groups) {
    const qualifying = qualifyingApprovals(group.owners, input.approvers, input.teams);
    const unresolvable = unresolvablePrincipals(group.owners);
    if (qualifying.length > 0) {
      satisfied.push(
        `${listFiles(group.files)}: approved by ${qualifying.map(describeQualifying).join(", ")}`,
      );
      continue;
    }
    missing.push({
      kind: "owner-approval",
      files: group.files,
      owners: group.owners,
      needed: 1,
      have: 0,
      rule: CODEOWNERS_RULE_ID,
    });
    if (unresolvable.length === group.owners.length) {
      fix.push(
        `${listFiles(group.files)} ${group.files.length === 1 ? "is" : "are"} owned only by ${unresolvable.join(", ")}, which pullgate cannot resolve to GitHub accounts: name the owners as @user or @org/team in the base branch's CODEOWNERS.`,
      );
    } else {
      const resolvable = group.owners.filter((owner) => !unresolvable.includes(owner));
      fix.push(`Get an approval from one of ${resolvable.join(", ")} for ${listFiles(group.files)}.`);
      if (unresolvable.length > 0) {
        notes.push(
          `Owners ${unresolvable.join(", ")} cannot be resolved to GitHub accounts and cannot approve here.`,
        );
      }
    }
  }
  if (unowned.length > 0) {
    satisfied.push(`${plural(unowned.length, "changed file")} without a code owner: ${listFiles(unowned)}`);
  }

  const owned = groups.reduce((n, g) => n + g.files.length, 0);
  const missingFiles = missing.reduce((n, m) => n + (m.kind === "owner-approval" ? m.files.length : 0), 0);
  const summary =
    owned === 0
      ? "No changed file has a code owner."
      : missingFiles === 0
        ? `Code owners approved all ${plural(owned, "owned file")}.`
        : `${plural(missingFiles, "file")} of ${owned} owned still ${missingFiles === 1 ? "needs" : "need"} a code owner's approval.`;
  return {
    id: CODEOWNERS_RULE_ID,
    title: "Code owners",
    status: missing.length === 0 ? "pass" : "fail",
    summary,
    satisfied,
    missing,
    fix,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Files grouped by their exact owner set (order and case of owners do not split a group). */
function groupByOwners(
  files: readonly string[],
  matcher: CodeownersMatcher,
): { groups: OwnerGroup[]; unowned: string[] } {
  const groups = new Map<string, OwnerGroup>();
  const unowned: string[] = [];
  for (const file of files) {
    const { owners } = matcher.ownersOf(file);
    if (owners.length === 0) {
      unowned.push(file);
      continue;
    }
    const key = [...new Set(owners.map((o) => o.toLowerCase()))].sort().join(" ");
    const group = groups.get(key);
    if (group) group.files.push(file);
    else groups.set(key, { owners: [...owners], files: [file] });
  }
  return { groups: [...groups.values()], unowned };
}
