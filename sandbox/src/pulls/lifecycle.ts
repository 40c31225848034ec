import type { SandboxCore } from "../core.js";
import type { IssueRecord, PullRecord, RepoRecord, UserRecord } from "../state/types.js";
import { checkMerge } from "../protection/enforce.js";
import { rulesFor } from "../protection/rulesets.js";
import { pullJson, reviewJson, type PullDetail } from "./serialize.js";
import { syncPullHeadRef } from "./heads.js";

export function pullKey(repo: RepoRecord, number: number): string {
  return `${repo.owner}/${repo.name}#${number}`;
}

export function issueOf(core: SandboxCore, pr: PullRecord): IssueRecord {
  const issue = core.state.issues[`${pr.repo}#${pr.number}`];
  if (issue === undefined) throw new Error(`issue record missing for ${pr.repo}#${pr.number}`);
  return issue;
}

/** Mergeability, counts and state, computed from git and protection (GitHub computes them lazily too). */
export async function pullDetail(core: SandboxCore, repo: RepoRecord, pr: PullRecord): Promise<PullDetail> {
  const git = core.gitRepo(repo);
  const baseSha = (await git.refSha(`refs/heads/${pr.base_ref}`)) ?? pr.head_sha;
  const base = (await git.mergeBase(baseSha, pr.head_sha)) ?? baseSha;
  const commits = (await git.commitsBetween(baseSha, pr.head_sha)).length;
  const files = await git.changedFiles(base, pr.head_sha);
  const detail: PullDetail = {
    mergeable: null,
    mergeable_state: "unknown",
    rebaseable: null,
    commits,
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    changed_files: files.length,
    base_sha: baseSha,
  };
  const issue = issueOf(core, pr);
  if (pr.merged || issue.state === "closed") {
    detail.mergeable_state = "unknown";
    return detail;
  }
  const tree = await git.mergeTree(baseSha, pr.head_sha);
  detail.mergeable = tree !== null;
  detail.rebaseable = tree !== null;
  const upToDate = await git.isAncestor(baseSha, pr.head_sha);
  if (tree === null) detail.mergeable_state = "dirty";
  else if (pr.draft) detail.mergeable_state = "draft";
  else {
    const reasons = await checkMerge(core, repo, pr, issue.user, { kind: "app", appId: 0 }, "merge", {
      baseSha,
      upToDate,
      unverifiedCommits: 0,
    });
    if (reasons.some((r) => r.startsWith("Head branch was not up to date")))
      detail.mergeable_state = "behind";
    else if (reasons.length > 0) detail.mergeable_state = "blocked";
    else detail.mergeable_state = "clean";
  }
  return detail;
}

export async function fullPullJson(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
): Promise<Record<string, unknown>> {
  const detail = await pullDetail(core, repo, pr);
  return pullJson(core, repo, pr, issueOf(core, pr), detail.base_sha, detail);
}

export async function emitPull(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  action: string,
  sender: UserRecord,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const json = await fullPullJson(core, repo, pr);
  core.emit("pull_request", { action, number: pr.number, pull_request: json, ...extra }, { repo, sender });
}

/** Does the base branch dismiss stale approvals on push (protection or a ruleset's pull_request rule)? */
function dismissesStale(core: SandboxCore, repo: RepoRecord, branch: string): boolean {
  const p = core.state.protections[`${repo.owner}/${repo.name}:${branch}`];
  if (p?.required_pull_request_reviews?.dismiss_stale_reviews === true) return true;
  return rulesFor(core, repo, branch).some(
    (r) => r.type === "pull_request" && r.parameters?.dismiss_stale_reviews_on_push === true,
  );
}

/**
 * The PR's head branch moved (push or API ref update, in the base repository or, for a fork PR,
 * in the fork): new head sha, copied into the base repository as `refs/pull/<n>/head`, stale
 * approvals dismissed when the base branch asks for it, `synchronize` webhook (for `repo`, the base).
 */
export async function headMoved(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  before: string,
  after: string,
  sender: UserRecord,
): Promise<void> {
  pr.head_sha = after;
  pr.last_pusher = sender.login;
  await syncPullHeadRef(core, repo, pr);
  const issue = issueOf(core, pr);
  issue.updated_at = core.now();
  const dismissed = [];
  if (dismissesStale(core, repo, pr.base_ref)) {
    for (const review of Object.values(core.state.reviews)) {
      if (review.repo !== pr.repo || review.pull_number !== pr.number) continue;
      if (review.state !== "APPROVED" || review.commit_id === after) continue;
      review.state = "DISMISSED";
      dismissed.push(review);
    }
  }
  await emitPull(core, repo, pr, "synchronize", sender, { before, after });
  if (dismissed.length > 0) {
    const json = await fullPullJson(core, repo, pr);
    for (const review of dismissed) {
      core.emit(
        "pull_request_review",
        { action: "dismissed", review: reviewJson(core, repo, review), pull_request: json },
        { repo, sender },
      );
    }
  }
}
