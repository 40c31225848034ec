import { canonicalJson } from "./digest.js";
import { branchPolicyFor } from "./match.js";
import { FIELD_RULES, show, valueOf } from "./merge.js";
import type { BranchPolicy, Policy } from "./types.js";

export type EnvironmentBinding = { ok: true } | { ok: false; reason: string };

/**
 * Whether a landing on `branch` may publish to `environment` (docs/architecture.md, invariant 9).
 * The environment a branch feeds is the policy's most powerful statement: a record there is what
 * agents deploy. The landing's own rules come from the branch itself (the base of its pull
 * requests), but which branches feed which environment is read from the default branch (over the
 * org's policy), whose changes the gate itself approves: otherwise anyone who can create a branch
 * could give it a copy of the policy that makes it feed production under rules of their choosing.
 * Pure.
 */
export function judgeEnvironmentBinding(input: {
  branch: string;
  environment: string;
  defaultBranch: string;
  /** The effective policy at the default branch's tip; null when it has none. */
  defaultPolicy: Policy | null;
  /** The branch's entry in its own copy of the policy, which judged the landing. */
  ownEntry: BranchPolicy;
}): EnvironmentBinding {
  const { branch, environment, defaultBranch, defaultPolicy, ownEntry } = input;
  // The policy in force on the default branch is the one that decided this landing already.
  if (branch === defaultBranch) return { ok: true };
  if (defaultPolicy === null) {
    return {
      ok: false,
      reason: `the default branch \`${defaultBranch}\` has no pullgate policy, so nothing there makes \`${branch}\` feed \`${environment}\`; a branch's own copy of the policy cannot`,
    };
  }
  const entry = branchPolicyFor(defaultPolicy, branch);
  if (entry === null) {
    return {
      ok: false,
      reason: `the policy on the default branch \`${defaultBranch}\` does not govern \`${branch}\`; a branch's own copy of the policy cannot make it feed \`${environment}\``,
    };
  }
  if (entry.environment !== environment) {
    return {
      ok: false,
      reason: `the policy on the default branch \`${defaultBranch}\` makes \`${branch}\` feed \`${entry.environment}\`, not \`${environment}\` as the branch's own copy says`,
    };
  }
  const looser = looserThan(ownEntry, entry);
  if (looser.length > 0) {
    return {
      ok: false,
      reason: `\`${branch}\`'s own copy of the policy is looser than the default branch \`${defaultBranch}\`'s for it: ${looser.join("; ")}. Bring \`${branch}\`'s copy up to \`${defaultBranch}\`'s`,
    };
  }
  return { ok: true };
}

/**
 * Where `own` is looser than `floor`, by the same field rules as the org -> repository merge
 * (merge.ts), plus every path rule and key scope of the floor, which `own` must keep as written:
 * a branch created with its creator's copy cannot weaken the rules the default branch sets for it.
 */
export function looserThan(own: BranchPolicy, floor: BranchPolicy): string[] {
  const found: string[] = [];
  for (const rule of FIELD_RULES) {
    const mine = valueOf(own, rule.field);
    const theirs = valueOf(floor, rule.field);
    if (rule.looser(mine, theirs))
      found.push(`${rule.field} ${show(mine)} against ${show(theirs)} (${rule.why})`);
  }
  const ownRules = new Set(own.pathRules.map((r) => canonicalJson(r)));
  for (const r of floor.pathRules) {
    if (!ownRules.has(canonicalJson(r))) found.push(`the path rule "${r.name}" is missing or changed`);
  }
  const ownScopes = new Set(own.signatures.scopes.map((s) => canonicalJson(s)));
  for (const s of floor.signatures.scopes) {
    if (!ownScopes.has(canonicalJson(s)))
      found.push(`the key scope for ${s.signers.join(", ")} is missing or changed`);
  }
  return found;
}
