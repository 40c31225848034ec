/**
 * Reads what judgeEnvironmentBinding (src/core/policy/binding.ts) needs for a landing on a branch
 * other than the default: the effective policy at the default branch's tip. Costs nothing for the
 * default branch, and two or three reads (its ref, its policy file, the org's) for any other.
 */
import { judgeEnvironmentBinding, type EnvironmentBinding } from "../../core/policy/index.js";
import type { BranchPolicy } from "../../core/policy/types.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { readRefSha } from "./chain-guard.js";

export async function environmentBinding(
  gh: GitHub,
  repo: RepoRef,
  landing: { branch: string; environment: string; defaultBranch: string | undefined; ownEntry: BranchPolicy },
): Promise<EnvironmentBinding> {
  const { branch, environment, defaultBranch, ownEntry } = landing;
  if (defaultBranch === undefined) {
    return {
      ok: false,
      reason:
        "the push did not say which branch is the default, whose policy says which branches feed an environment",
    };
  }
  if (branch === defaultBranch)
    return judgeEnvironmentBinding({ branch, environment, defaultBranch, defaultPolicy: null, ownEntry });
  const tip = await readRefSha(gh, repo, `heads/${defaultBranch}`);
  const effective = tip === null ? null : await loadEffectivePolicy(gh, repo, tip);
  return judgeEnvironmentBinding({
    branch,
    environment,
    defaultBranch,
    defaultPolicy: effective?.policy ?? null,
    ownEntry,
  });
}
