/**
 * The facts for judging a landing (src/record/landing.ts decides): the merged PR, pullgate's
 * verdict on its head, the landed commit, and the approvals' standing now. Read in that order and
 * no further than the judgement needs: a direct push costs the PR lookup only.
 */
import { judgeVerdict, landedRefusal, NO_PULL_REASON, standingRefusal } from "../../record/landing.js";
import { latestVerdict } from "../check-run.js";
import type { Decision } from "../decision.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { findMergedPull, type MergedPull } from "./find-pull.js";
import { recheckLanding } from "./recheck.js";
import type { PublishDeps } from "./types.js";

/** An approved landing: the commit, the PR it came through and pullgate's decision on that PR's head. */
export interface Landing {
  commit: string;
  tree: string;
  /** The commit's first parent: the branch's tip before it landed. */
  firstParent: string | null;
  pull: MergedPull;
  decision: Decision;
}

export type Approval = { ok: true; landing: Landing } | { ok: false; reason: string };

/**
 * Whether `commit` landed on `branch` as the merge of a PR whose head pullgate approved, for this
 * environment, with exactly the approved head's tree (docs/architecture.md, invariant 5); otherwise why not.
 */
export async function approvedLanding(
  deps: Pick<PublishDeps, "appId" | "pullLookupRetryDelaysMs">,
  gh: GitHub,
  repo: RepoRef,
  commit: string,
  branch: string,
  environment: string,
): Promise<Approval> {
  const pull = await findMergedPull(gh, repo, commit, branch, deps.pullLookupRetryDelaysMs);
  if (!pull) return { ok: false, reason: NO_PULL_REASON };
  const verdict = judgeVerdict(
    pull,
    await latestVerdict(gh, repo, pull.headSha, deps.appId),
    branch,
    environment,
  );
  if (!verdict.ok) return verdict;
  const { decision } = verdict;
  const { data: landed } = await gh.rest.git.getCommit({ ...repo, commit_sha: commit });
  const refused = landedRefusal(pull, decision, landed.tree.sha);
  if (refused !== null) return { ok: false, reason: refused };
  const standing = await recheckLanding(gh, repo, { number: pull.number, author: pull.author }, decision);
  const lapsed = standingRefusal(`${repo.owner}/${repo.repo}`, pull.number, standing);
  if (lapsed !== null) return { ok: false, reason: lapsed };
  return {
    ok: true,
    landing: {
      commit,
      tree: landed.tree.sha,
      firstParent: landed.parents[0]?.sha ?? null,
      pull,
      decision,
    },
  };
}
