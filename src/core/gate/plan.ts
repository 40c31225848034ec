/**
 * The pure steps that tell the facts adapter what to read next, in order: the pull's listing caps,
 * whether its base is a record ref, whether a policy governs it, and then which teams, keyrings and
 * commit paths the governed rules need. The adapter plans its reads with these, and `decide`
 * applies the same steps to the gathered facts, so the two can never disagree.
 */
import type { CodeownersMatcher } from "../codeowners/types.js";
import { branchPolicyFor } from "../policy/match.js";
import type { BranchPolicy, Policy } from "../policy/types.js";
import {
  judgeRecordRefBase,
  type PrefixSource,
  type RecordRefJudgement,
} from "../protection/record-ref-pull.js";
import { parsePrincipal } from "../reviews/principals.js";
import {
  MAX_PR_COMMITS,
  MAX_PR_FILES,
  type ListingCounts,
  type PolicyAtBase,
  type PullSnapshot,
} from "./facts.js";

/** Facts that cannot be complete: the gate fails closed with this reason (and `cause`, the adapter's own error). */
export interface Incomplete {
  kind: "incomplete";
  reason: string;
  fix?: string;
  cause?: unknown;
}

/**
 * The PR's own counts against GitHub's listing caps: past a cap the listing is truncated, so the
 * gate cannot see the whole change (files) or verify every signature (commits). Checked before
 * anything is paged.
 */
export function listingProblem(counts: ListingCounts): Incomplete | null {
  if (counts.files > MAX_PR_FILES) {
    return {
      kind: "incomplete",
      reason: `the pull request changes ${counts.files} files; GitHub lists at most ${MAX_PR_FILES}, so pullgate cannot see the whole change`,
      fix: `Split it into pull requests of at most ${MAX_PR_FILES} files each.`,
    };
  }
  if (counts.commits > MAX_PR_COMMITS) {
    return {
      kind: "incomplete",
      reason: `the pull request has ${counts.commits} commits; GitHub lists at most ${MAX_PR_COMMITS}, so pullgate cannot verify every signature`,
      fix: `Squash or split the branch so each pull request has at most ${MAX_PR_COMMITS} commits.`,
    };
  }
  return null;
}

/** What a policy outcome says about the record-ref prefix, named by where it was read. */
export function prefixSource(outcome: PolicyAtBase, where: string): PrefixSource {
  if (outcome.kind === "policy") return { kind: "policy", prefix: outcome.policy.recordRefPrefix, where };
  if (outcome.kind === "none") return { kind: "none", where };
  return { kind: "error", reason: outcome.reason, where };
}

/**
 * Whether the PR's base is a record ref (docs/protection.md, "Pull requests into record refs").
 * Unsure because the base's own policy is broken: that error says more, and fails closed too.
 */
export function judgeBase(
  pull: PullSnapshot,
  governing: PrefixSource,
  base: PrefixSource,
  policy: PolicyAtBase,
): Exclude<RecordRefJudgement, { kind: "unsure" }> | Incomplete {
  const judgement = judgeRecordRefBase(pull.baseRef, governing, base);
  if (judgement.kind !== "unsure") return judgement;
  if (policy.kind === "error") return policyIncomplete(policy);
  return { kind: "incomplete", reason: judgement.reason };
}

function policyIncomplete(policy: Extract<PolicyAtBase, { kind: "error" }>): Incomplete {
  return {
    kind: "incomplete",
    reason: policy.reason,
    ...(policy.fix !== undefined ? { fix: policy.fix } : {}),
    cause: policy.cause,
  };
}

/** The governing step: a broken policy fails closed; no policy, or none for this branch, is ungoverned. */
export function governingPolicy(
  pull: PullSnapshot,
  policy: PolicyAtBase,
):
  | { kind: "governed"; policy: Policy; digest: string; notes: string[]; branch: BranchPolicy }
  | { kind: "ungoverned" }
  | Incomplete {
  if (policy.kind === "error") return policyIncomplete(policy);
  if (policy.kind === "none") return { kind: "ungoverned" };
  const branch = branchPolicyFor(policy.policy, pull.baseRef);
  if (!branch) return { kind: "ungoverned" };
  return { kind: "governed", policy: policy.policy, digest: policy.digest, notes: policy.notes, branch };
}

/** Teams the rules may need to resolve: code owners of changed files, path-rule approvers, admins. */
export function teamsToResolve(
  policy: Policy,
  branch: BranchPolicy,
  codeowners: CodeownersMatcher | null,
  files: readonly string[],
): string[] {
  const principals = new Set<string>(policy.admins);
  for (const rule of branch.pathRules) for (const p of rule.from) principals.add(p);
  if (codeowners) for (const f of files) for (const o of codeowners.ownersOf(f).owners) principals.add(o);
  const teams: string[] = [];
  for (const p of principals) {
    const parsed = parsePrincipal(p);
    if (parsed.kind === "team") teams.push(`${parsed.org}/${parsed.slug}`);
  }
  return teams;
}

/** Whose permission the review rules need: every reviewer (lowercase, once each). */
export function reviewersOf(pull: PullSnapshot): string[] {
  return [...new Set(pull.reviews.map((r) => r.user.toLowerCase()))].filter((l) => l !== "");
}
