import type { ListingCounts, PullCommit, PullSnapshot } from "../core/gate/facts.js";
import { listingProblem } from "../core/gate/plan.js";
import type { ReviewState } from "../core/reviews/types.js";
import { ImmutableCache } from "./immutable-cache.js";
import { FactsError, type GitHub, type RepoRef } from "./octokit.js";

export { MAX_PR_COMMITS, MAX_PR_FILES, type PullCommit, type PullSnapshot } from "../core/gate/facts.js";

/** Complete PR listings by (repo, number, base SHA, head SHA), kept in their compact form. */
const fileCache = new ImmutableCache<string, string[]>(200);
const commitCache = new ImmutableCache<string, PullCommit[]>(200);

/** Every changed path (both sides of a rename), or FactsError if the listing disagrees with the PR's count. */
async function listChangedFiles(
  gh: GitHub,
  repo: RepoRef,
  number: number,
  expected: number,
): Promise<string[]> {
  const files = await gh.paginate(gh.rest.pulls.listFiles, { ...repo, pull_number: number, per_page: 100 });
  // The count can race with a push; the listing is what we evaluate, so it must match it.
  if (files.length !== expected) {
    throw new FactsError(
      `GitHub listed ${files.length} files but the pull request reports ${expected}; re-run when the listing settles`,
    );
  }
  const changed = new Set<string>();
  for (const f of files) {
    changed.add(f.filename);
    // A rename changes two paths: owners of the old location must see the file leave.
    if (f.previous_filename) changed.add(f.previous_filename);
  }
  return [...changed].sort();
}

/** Every commit of the PR ending at the head, or FactsError if the listing is incomplete. */
async function listCommits(
  gh: GitHub,
  repo: RepoRef,
  number: number,
  expected: number,
  headSha: string,
): Promise<PullCommit[]> {
  const commits = await gh.paginate(gh.rest.pulls.listCommits, {
    ...repo,
    pull_number: number,
    per_page: 100,
  });
  if (commits.length !== expected) {
    throw new FactsError(
      `GitHub listed ${commits.length} commits but the pull request reports ${expected}; re-run when the listing settles`,
    );
  }
  if (commits.length === 0 || commits[commits.length - 1]?.sha !== headSha) {
    throw new FactsError(`the commit listing does not end at the head ${headSha.slice(0, 7)}`);
  }
  return commits.map((c) => ({
    sha: c.sha,
    tree: c.commit.tree.sha,
    parents: c.parents.map((p) => p.sha),
    authorEmail: c.commit.author?.email ?? "",
    authorLogin: c.author?.login ?? null,
    committerEmail: c.commit.committer?.email ?? "",
    committerLogin: c.committer?.login ?? null,
    payload: c.commit.verification?.payload ?? null,
    signature: c.commit.verification?.signature ?? null,
    githubVerified: c.commit.verification?.verified ?? false,
  }));
}

const REVIEW_STATES: ReadonlySet<string> = new Set([
  "APPROVED",
  "CHANGES_REQUESTED",
  "COMMENTED",
  "DISMISSED",
  "PENDING",
]);

/**
 * Lists everything about the PR the gate needs, for exactly `headSha`. Fails closed (FactsError)
 * when the PR's head moved, or when a listing would be truncated by GitHub's caps.
 */
export async function fetchPullSnapshot(
  gh: GitHub,
  repo: RepoRef,
  number: number,
  headSha: string,
): Promise<PullSnapshot> {
  return (await fetchPullListing(gh, repo, number, headSha)).snapshot;
}

/** `fetchPullSnapshot` with the counts the PR reports, for the gate's own check of the caps. */
export async function fetchPullListing(
  gh: GitHub,
  repo: RepoRef,
  number: number,
  headSha: string,
): Promise<{ snapshot: PullSnapshot; counts: ListingCounts }> {
  const { data: pr } = await gh.rest.pulls.get({ ...repo, pull_number: number });
  if (pr.head.sha !== headSha) {
    throw new FactsError(
      `the pull request's head moved from ${headSha.slice(0, 7)} to ${pr.head.sha.slice(0, 7)}; a newer evaluation follows`,
    );
  }
  // The PR object counts files and commits: check the caps before paging through anything.
  const counts: ListingCounts = { files: pr.changed_files, commits: pr.commits };
  const truncated = listingProblem(counts);
  if (truncated)
    throw new FactsError(truncated.reason, truncated.fix !== undefined ? { fix: truncated.fix } : {});
  // Files and commits of a PR are a function of its base and head commits: a review event for the
  // same pair re-uses them. Reviews change without a push, so they are always listed afresh.
  const pair = `${repo.owner}/${repo.repo}#${number}@${pr.base.sha}..${headSha}`;
  const [changedFiles, commits, reviews] = await Promise.all([
    fileCache.get(pair) ?? listChangedFiles(gh, repo, number, pr.changed_files),
    commitCache.get(pair) ?? listCommits(gh, repo, number, pr.commits, headSha),
    gh.paginate(gh.rest.pulls.listReviews, { ...repo, pull_number: number, per_page: 100 }),
  ]);
  // The listings are read by PR number, so they follow the PR's head wherever it is by then: a push
  // while they were read could pair this head's commits and reviews with the next head's files.
  // Only if the head is still `headSha` after the listings are they all about it
  // (docs/architecture.md, invariant 1), and only then are they cached: a listing read during a
  // race must never be served for this head later.
  const { data: after } = await gh.rest.pulls.get({ ...repo, pull_number: number });
  if (after.head.sha !== headSha) {
    throw new FactsError(
      `the pull request's head moved from ${headSha.slice(0, 7)} to ${after.head.sha.slice(0, 7)} while its files, commits and reviews were read; a newer evaluation follows`,
    );
  }
  fileCache.set(pair, changedFiles);
  commitCache.set(pair, commits);
  const snapshot: PullSnapshot = {
    repo,
    number,
    author: pr.user?.login ?? "",
    headSha,
    headRef: pr.head.ref,
    headRepoFullName: pr.head.repo?.full_name ?? null,
    baseRef: pr.base.ref,
    baseSha: pr.base.sha,
    defaultBranch: pr.base.repo?.default_branch ?? null,
    state: pr.state,
    draft: pr.draft ?? false,
    changedFiles,
    commits,
    reviews: reviews
      .filter((r) => r.user && REVIEW_STATES.has(r.state))
      .map((r) => ({
        id: r.id,
        user: r.user?.login ?? "",
        state: r.state as ReviewState,
        commitId: r.commit_id ?? "",
        submittedAt: r.submitted_at ?? "",
      })),
  };
  return { snapshot, counts };
}
