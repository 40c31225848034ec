import { matchesBranch } from "./glob.js";
import type { BranchPolicy, Policy } from "./types.js";

/**
 * The policy of a branch: the first entry whose pattern matches, or null when the branch is not
 * governed. `branchName` is a plain branch name ("main", "release/1.2"), not "refs/heads/...";
 * a full ref is refused (null) rather than guessed at, so a caller's mistake cannot select the
 * wrong entry.
 */
export function branchPolicyFor(policy: Policy, branchName: string): BranchPolicy | null {
  if (branchName === "" || branchName.startsWith("refs/")) return null;
  return policy.branches.find((entry) => matchesBranch(entry.branch, branchName)) ?? null;
}
