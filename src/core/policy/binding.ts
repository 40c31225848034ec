import { branchPolicyFor } from "./match.js";
import type { Policy } from "./types.js";

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
}): EnvironmentBinding {
  const { branch, environment, defaultBranch, defaultPolicy } = input;
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
  return { ok: true };
}
