import type { GitHub, RepoRef } from "../octokit.js";

export interface MergedPull {
  number: number;
  headSha: string;
  mergedBy: string | null;
  /** The PR's author: the landing re-check needs it (their own approval never counts). */
  author: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The PR whose merge produced `commit` on `branch`: merged into that branch, with GitHub's
 * merge_commit_sha equal to the commit (a merge commit, the squash commit, or the last rebased
 * commit). GitHub can answer `commits/{sha}/pulls` before the merge is indexed, so ask a few times.
 */
export async function findMergedPull(
  gh: GitHub,
  repo: RepoRef,
  commit: string,
  branch: string,
  retryDelaysMs: readonly number[],
): Promise<MergedPull | null> {
  for (let attempt = 0; ; attempt++) {
    const { data } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({
      ...repo,
      commit_sha: commit,
      per_page: 100,
    });
    const pr = data.find(
      (p) => p.merged_at !== null && p.base.ref === branch && p.merge_commit_sha === commit,
    );
    if (pr) return { number: pr.number, headSha: pr.head.sha, mergedBy: null, author: pr.user?.login ?? "" };
    const delay = retryDelaysMs[attempt];
    if (delay === undefined) return null;
    await sleep(delay);
  }
}
