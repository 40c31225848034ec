import type { PolicyAtBase, PullSnapshot, RecordRefFacts } from "../core/gate/facts.js";
import { prefixSource } from "../core/gate/plan.js";
import type { PrefixSource } from "../core/protection/record-ref-pull.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";
import { ORG_POLICY_REPO, loadEffectivePolicy } from "./policy-source.js";

/** `loadEffectivePolicy` with its failure kept as a value, so a broken policy can still be judged. */
export async function readPolicyOutcome(gh: GitHub, repo: RepoRef, sha: string): Promise<PolicyAtBase> {
  try {
    const effective = await loadEffectivePolicy(gh, repo, sha);
    return effective ? { kind: "policy", ...effective } : { kind: "none" };
  } catch (error) {
    const fix = error instanceof FactsError ? error.fix : undefined;
    return {
      kind: "error",
      reason: error instanceof Error ? error.message : String(error),
      ...(fix !== undefined ? { fix } : {}),
      cause: error,
    };
  }
}

/**
 * What decides whether a PR's base is a record ref (docs/protection.md, "Pull requests into record
 * refs"); the judgement itself is pure (src/core/gate/plan.ts `judgeBase`). The prefix comes from
 * the policy of the governed branches: the default branch's head (repository policy over the
 * org's). When the base policy parsed and includes the org policy, the prefix is the org's for
 * every branch (a repository cannot move records, core/policy/merge.ts), so nothing more is read;
 * when the base is the default branch its own policy is that policy. Otherwise two requests: the
 * default branch's head and the policy there (cached by SHA).
 */
export async function readRecordRefFacts(
  gh: GitHub,
  repo: RepoRef,
  snapshot: PullSnapshot,
  base: PolicyAtBase,
): Promise<RecordRefFacts> {
  const baseSource = prefixSource(base, `${snapshot.baseRef}@${snapshot.baseSha.slice(0, 7)}`);
  const orgPolicy = `${repo.owner}/${ORG_POLICY_REPO}:`;
  if (base.kind === "policy" && base.sources.some((s) => s.startsWith(orgPolicy))) {
    return {
      governing: {
        kind: "policy",
        prefix: base.policy.recordRefPrefix,
        where: `the org policy ${orgPolicy}`,
      },
      base: baseSource,
    };
  }
  let defaultBranch = snapshot.defaultBranch;
  try {
    defaultBranch ??= (await gh.request("GET /repos/{owner}/{repo}", { ...repo })).data.default_branch;
  } catch (error) {
    return {
      governing: {
        kind: "error",
        reason: `the repository could not be read: ${message(error)}`,
        where: "the default branch",
      },
      base: baseSource,
    };
  }
  const governing =
    defaultBranch === snapshot.baseRef
      ? prefixSource(base, `the default branch ${defaultBranch}`)
      : await governingSource(gh, repo, defaultBranch);
  return { governing, base: baseSource };
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
  return prefixSource(await readPolicyOutcome(gh, repo, sha), `${where}@${sha.slice(0, 7)}`);
}

function message(error: unknown): string {
  if (error instanceof FactsError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
