import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import type { Actor } from "../auth/actor.js";
import { fetchCommitInto } from "../git/fork.js";
import type { PullRecord, RepoRecord } from "../state/types.js";

/**
 * Where a pull request's head lives. A PR's head is a branch of the base repository itself or of
 * a repository in its fork network (a fork, a fork of a fork, or the parent of a fork). GitHub
 * keeps every PR's head commit in the base repository as `refs/pull/<n>/head`, so the base
 * repository's API (files, commits, contents at the head sha, merge) works for fork PRs too.
 */

/** "owner/name" of the root of a repository's fork network (the repository itself if not a fork). */
export function networkRoot(repo: RepoRecord): string {
  return repo.fork_source ?? `${repo.owner}/${repo.name}`;
}

export function sameNetwork(a: RepoRecord, b: RepoRecord): boolean {
  return networkRoot(a).toLowerCase() === networkRoot(b).toLowerCase();
}

/** The repository holding the PR's head branch (the base repository for same-repository PRs). */
export function headRepoOf(core: SandboxCore, base: RepoRecord, pr: PullRecord): RepoRecord {
  if (pr.head_repo === undefined) return base;
  const [owner = "", name = ""] = pr.head_repo.split("/");
  return core.repo(owner, name) ?? base;
}

export interface HeadSpec {
  repo: RepoRecord;
  ref: string;
}

/**
 * Resolves a PR's `head` (`branch` or `owner:branch`) and optional `head_repo` (`owner/name`, or a
 * bare name under the head's owner) against the base repository: the head's repository must be the
 * base or one in its fork network that `actor` can read. null when there is no such repository.
 */
export function resolveHead(
  core: SandboxCore,
  base: RepoRecord,
  head: string,
  headRepo: string | undefined,
  actor: Actor | null,
): HeadSpec | null {
  const colon = head.indexOf(":");
  const owner = colon === -1 ? undefined : head.slice(0, colon);
  const ref = colon === -1 ? head : head.slice(colon + 1);
  let repo: RepoRecord | undefined;
  if (headRepo !== undefined) {
    const slash = headRepo.indexOf("/");
    const repoOwner = slash === -1 ? (owner ?? base.owner) : headRepo.slice(0, slash);
    if (owner !== undefined && owner.toLowerCase() !== repoOwner.toLowerCase()) return null;
    repo = core.repo(repoOwner, slash === -1 ? headRepo : headRepo.slice(slash + 1));
  } else if (owner === undefined || owner.toLowerCase() === base.owner.toLowerCase()) {
    repo = base;
  } else {
    // GitHub picks the owner's repository in the base's network (its fork of the base, normally).
    const candidates = Object.values(core.state.repos).filter(
      (r) => r.owner.toLowerCase() === owner.toLowerCase() && sameNetwork(r, base),
    );
    repo = candidates.find((r) => r.name.toLowerCase() === base.name.toLowerCase()) ?? candidates[0];
  }
  if (repo === undefined || !sameNetwork(repo, base)) return null;
  if (repo !== base && !roleAtLeast(core.role(actor, repo), "read")) return null;
  return { repo, ref };
}

/** GitHub's `head.label`: `owner:branch` of the head's repository. */
export function headLabel(core: SandboxCore, base: RepoRecord, pr: PullRecord): string {
  return `${headRepoOf(core, base, pr).owner}:${pr.head_ref}`;
}

export function pullHeadRef(pr: PullRecord): string {
  return `refs/pull/${pr.number}/head`;
}

/**
 * Points the base repository's `refs/pull/<n>/head` at the PR's head sha, first copying the
 * commit's objects from the fork when the head lives in one. Called on open and on every head move.
 */
export async function syncPullHeadRef(core: SandboxCore, base: RepoRecord, pr: PullRecord): Promise<void> {
  const git = core.gitRepo(base);
  const headRepo = headRepoOf(core, base, pr);
  if (headRepo !== base) await fetchCommitInto(git.path, core.gitRepo(headRepo).path, pr.head_sha);
  await git.git(["update-ref", pullHeadRef(pr), pr.head_sha]);
}
