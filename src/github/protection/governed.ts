import { isGlob } from "../../core/policy/glob.js";
import { branchPolicyFor } from "../../core/policy/match.js";
import type { BranchPolicy, Policy } from "../../core/policy/types.js";

/**
 * Which branches of a repository the policy governs. Same semantics as the policy's branch
 * matching: entries are tried in order and the first whose pattern matches wins; `*` matches
 * within one path segment, `**` across "/", everything else is literal.
 */

/** A branch pattern with wildcards (the policy's own definition). */
export const isBranchGlob = isGlob;

/** The entry governing `branch` (first match), or null: the policy's own branch matching. */
export const entryFor = branchPolicyFor;

export interface GovernedBranch {
  branch: string;
  entry: BranchPolicy;
}

/**
 * The governed branches among `existing` (branch names of the repository). Record refs are never
 * governed as ordinary branches, even when a broad pattern ("**") matches them: they are the app's
 * alone and are checked by the record-ref rules instead.
 */
export function governedBranches(policy: Policy, existing: Iterable<string>): GovernedBranch[] {
  const prefix = policy.recordRefPrefix || "approved/";
  const result: GovernedBranch[] = [];
  const seen = new Set<string>();
  for (const branch of existing) {
    if (seen.has(branch) || branch.startsWith(prefix)) continue;
    seen.add(branch);
    const entry = entryFor(policy, branch);
    if (entry) result.push({ branch, entry });
  }
  return result.sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
}

/** Literal branch names the policy names (globs need a branch listing to resolve). */
export function literalBranches(policy: Policy): string[] {
  return [...new Set(policy.branches.filter((e) => !isBranchGlob(e.branch)).map((e) => e.branch))];
}

export function hasGlobBranches(policy: Policy): boolean {
  return policy.branches.some((e) => isBranchGlob(e.branch));
}

/**
 * Record refs to check: one per environment of an entry whose protection is not off, with the
 * strictest mode among the entries feeding it.
 */
export function recordRefs(
  policy: Policy,
): { ref: string; environment: string; mode: "audit" | "enforce" }[] {
  const prefix = policy.recordRefPrefix || "approved/";
  const byEnv = new Map<string, "audit" | "enforce">();
  for (const entry of policy.branches) {
    const mode = entry.protection.mode;
    if (mode === "off") continue;
    const had = byEnv.get(entry.environment);
    byEnv.set(entry.environment, had === "enforce" || mode === "enforce" ? "enforce" : "audit");
  }
  return [...byEnv.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([environment, mode]) => ({ ref: `${prefix}${environment}`, environment, mode }));
}
