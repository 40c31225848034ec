import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import type { IssueRecord, PullRecord, RepoRecord, ReviewRecord } from "../state/types.js";
import { headRepoOf } from "./heads.js";

export interface PullDetail {
  mergeable: boolean | null;
  mergeable_state: string;
  rebaseable: boolean | null;
  commits: number;
  additions: number;
  deletions: number;
  changed_files: number;
  base_sha: string;
}

export function labelJson(core: SandboxCore, repo: RepoRecord, name: string): Record<string, unknown> {
  const id = [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, repo.id);
  return {
    id,
    node_id: nodeId("Label", id),
    url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
    name,
    color: "ededed",
    default: false,
    description: null,
  };
}

function authorAssociation(core: SandboxCore, repo: RepoRecord, login: string): string {
  const org = core.org(repo.owner);
  if (org?.members[login] === "admin") return "OWNER";
  if (org?.members[login] !== undefined) return "MEMBER";
  if (repo.collaborators[login] !== undefined) return "COLLABORATOR";
  return "NONE";
}

export { authorAssociation };

/**
 * GitHub's pull request object. Without `detail` it is the list shape (pull-request-simple);
 * with it, the full object (mergeability, counts).
 */
export function pullJson(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  issue: IssueRecord,
  baseSha: string,
  detail?: PullDetail,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const api = `${core.apiUrl}/repos/${full}`;
  const html = `${core.origin}/${full}/pull/${pr.number}`;
  const side = (ref: string, sha: string, sideRepo: RepoRecord) => ({
    label: `${sideRepo.owner}:${ref}`,
    ref,
    sha,
    user: core.userJson(sideRepo.owner),
    repo: core.repoJson(sideRepo),
  });
  const json: Record<string, unknown> = {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: nodeId("PullRequest", pr.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${pr.head_sha}`,
    number: pr.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: core.userJson(issue.user),
    body: issue.body,
    labels: issue.labels.map((l) => labelJson(core, repo, l)),
    milestone: null,
    active_lock_reason: null,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    assignee: issue.assignees[0] === undefined ? null : core.userJson(issue.assignees[0]),
    assignees: issue.assignees.map((a) => core.userJson(a)),
    requested_reviewers: [],
    requested_teams: [],
    // A fork PR's head is the fork's branch (label `forkowner:branch`, the fork's repository).
    head: side(pr.head_ref, pr.head_sha, headRepoOf(core, repo, pr)),
    base: side(pr.base_ref, baseSha, repo),
    _links: {
      self: { href: `${api}/pulls/${pr.number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${pr.number}` },
      comments: { href: `${api}/issues/${pr.number}/comments` },
      review_comments: { href: `${api}/pulls/${pr.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pr.number}/commits` },
      statuses: { href: `${api}/statuses/${pr.head_sha}` },
    },
    author_association: authorAssociation(core, repo, issue.user),
    auto_merge: null,
    draft: pr.draft,
  };
  if (detail !== undefined) {
    Object.assign(json, {
      merged: pr.merged,
      mergeable: detail.mergeable,
      rebaseable: detail.rebaseable,
      mergeable_state: detail.mergeable_state,
      merged_by: pr.merged_by === null ? null : core.userJson(pr.merged_by),
      comments: Object.values(core.state.comments).filter(
        (c) => c.repo === full && c.issue_number === pr.number,
      ).length,
      review_comments: 0,
      maintainer_can_modify: pr.maintainer_can_modify,
      commits: detail.commits,
      additions: detail.additions,
      deletions: detail.deletions,
      changed_files: detail.changed_files,
    });
  }
  return json;
}

export function reviewJson(
  core: SandboxCore,
  repo: RepoRecord,
  review: ReviewRecord,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const html = `${core.origin}/${full}/pull/${review.pull_number}#pullrequestreview-${review.id}`;
  return {
    id: review.id,
    node_id: nodeId("PullRequestReview", review.id),
    user: core.userJson(review.user),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: `${core.apiUrl}/repos/${full}/pulls/${review.pull_number}`,
    author_association: authorAssociation(core, repo, review.user),
    _links: {
      html: { href: html },
      pull_request: { href: `${core.apiUrl}/repos/${full}/pulls/${review.pull_number}` },
    },
    submitted_at: review.submitted_at,
    commit_id: review.commit_id,
  };
}
