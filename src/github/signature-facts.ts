import { ImmutableCache } from "./immutable-cache.js";
import { FactsError, type GitHub, type RepoRef } from "./octokit.js";

/** Paths changed by one commit (for key scopes); immutable per commit SHA. */
const commitPaths = new ImmutableCache<string, string[]>(20_000);

async function changedPathsOf(gh: GitHub, repo: RepoRef, sha: string): Promise<string[]> {
  return commitPaths.getOrLoad(`${repo.owner}/${repo.repo}:${sha}`, async () => {
    // The commit endpoint pages its file list (at most 3,000 files in all).
    const files: { filename: string; previous_filename?: string }[] = [];
    for (let page = 1; ; page++) {
      const { data } = await gh.rest.repos.getCommit({ ...repo, ref: sha, per_page: 100, page });
      const batch = data.files ?? [];
      files.push(...batch);
      if (batch.length < 100) break;
    }
    if (files.length >= 3_000)
      throw new FactsError(
        `commit ${sha.slice(0, 7)} changes 3,000 files or more; its paths cannot be listed completely`,
      );
    return files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename]));
  });
}

/**
 * The paths each commit changes, by SHA, for the signature rule's key scopes (a key may sign only
 * some paths). The verification itself is pure: src/core/gate/signatures.ts.
 */
export async function fetchCommitPaths(
  gh: GitHub,
  repo: RepoRef,
  shas: readonly string[],
): Promise<Record<string, string[]>> {
  const entries = await Promise.all(
    shas.map(async (sha): Promise<[string, string[]]> => [sha, await changedPathsOf(gh, repo, sha)]),
  );
  return Object.fromEntries(entries);
}
