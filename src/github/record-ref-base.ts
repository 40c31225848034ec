import {
  judgeRecordRefBase,
  type PrefixSource,
  type RecordRefJudgement,
} from "../core/protection/record-ref-pull.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";
import { ORG_POLICY_REPO, loadEffectivePolicy, type EffectivePolicy } from "./policy-source.js";
import type { PullSnapshot } from "./pull-facts.js";

/** The policy at one commit: parsed, absent, or broken (the error is kept to rethrow it). */
export type PolicyOutcome =
  { kind: "policy"; effective: EffectivePolicy } | { kind: "none" } | { kind: "error"; error: unknown };

/** `loadEffectivePolicy` with its failure kept as a value, so a broken policy can still be judged. */
export async function readPolicyOutcome(gh: GitHub, repo: RepoRef, sha: string): Promise<PolicyOutcome> {
  try {
    const effective = await loadEffectivePolicy(gh, repo, sha);
    return effective ? { kind: "policy", effective } : { kind: "none" };
  } catch (error) {
    return { kind: "error", error };
  }
}

function asSource(outcome: PolicyOutcome, where: string): PrefixSource {
  if (outcome.kind === "policy")
    return { kind: "policy", prefix: outcome.effective.policy.recordRefPrefix, where };
  if (outcome.kind === "none") return { kind: "none", where };
  const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  return { kind: "error", reason, where };
}

/**
 * Whether a PR's base is a record ref (docs/protection.md, "Pull requests into record refs"). The
 * prefix comes from the policy of the governed branches: the default branch's head (repository
 * policy over the org's). When the base policy parsed and includes the org policy, the prefix is
 * the org's for every branch (a repository cannot move records, core/policy/merge.ts), so nothing
 * more is read; when the base is the default branch its own policy is that policy. Otherwise two
 * requests: the default branch's head and the policy there (cached by SHA).
 */
export async function judgeBase(
  gh: GitHub,
  repo: RepoRef,
  snapshot: PullSnapshot,
  base: PolicyOutcome,
): Promise<RecordRefJudgement> {
  const baseWhere = `${snapshot.baseRef}@${snapshot.baseSha.slice(0, 7)}`;
  const baseSource = asSource(base, baseWhere);
  const orgPolicy = `${repo.owner}/${ORG_POLICY_REPO}:`;
  let governing: PrefixSource;
  if (base.kind === "policy" && base.effective.sources.some((s) => s.startsWith(orgPolicy))) {
    governing = {
      kind: "policy",
      prefix: base.effective.policy.recordRefPrefix,
      where: `the org policy ${orgPolicy}`,
    };
  } else {
    let defaultBranch = snapshot.defaultBranch;
    try {
      defaultBranch ??= (await gh.request("GET /repos/{owner}/{repo}", { ...repo })).data.default_branch;
    } catch (error) {
      governing = {
        kind: "error",
        reason: `the repository could not be read: ${message(error)}`,
        where: "the default branch",
      };
      return decide(snapshot, governing, baseSource, base);
    }
    if (defaultBranch === snapshot.baseRef) {
      governing = asSource(base, `the default branch ${defaultBranch}`);
    } else {
      governing = await governingSource(gh, repo, defaultBranch);
    }
  }
  return decide(snapshot, governing, baseSource, base);
}

function decide(
  snapshot: PullSnapshot,
  governing: PrefixSource,
  baseSource: PrefixSource,
  base: PolicyOutcome,
): RecordRefJudgement {
  const judgement = judgeRecordRefBase(snapshot.baseRef, governing, baseSource);
  // Unsure because the base's own policy is broken: that error says more (and fails closed too).
  if (judgement.kind === "unsure" && base.kind === "error") throw base.error;
  return judgement;
}

async function governingSource(gh: GitHub, repo: RepoRef, branch: string): Promise<PrefixSource> {
  const where = `the default branch ${branch}`;
  let sha: string;
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/branches/{branch}", { ...repo, branch });
    sha = data.commit.sha;
  } catch (error) {
    // An empty repository has no default branch head, hence no policy there.
    if (httpStatus(error) === 404) return { kind: "none", where };
    return { kind: "error", reason: `its head could not be read: ${message(error)}`, where };
  }
  return asSource(await readPolicyOutcome(gh, repo, sha), `${where}@${sha.slice(0, 7)}`);
}

function message(error: unknown): string {
  if (error instanceof FactsError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
