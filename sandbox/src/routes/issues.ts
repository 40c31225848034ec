import type { SandboxCore } from "../core.js";
import { nodeId, roleAtLeast } from "../core.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, ok, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { IssueCommentRecord, IssueRecord, RepoRecord } from "../state/types.js";
import { authorAssociation, labelJson } from "../pulls/serialize.js";
import { appJson } from "./app.js";

/** GitHub's reaction rollup; the sandbox has no reactions, so every count is 0. */
function reactionsJson(url: string): Record<string, unknown> {
  return {
    url: `${url}/reactions`,
    total_count: 0,
    "+1": 0,
    "-1": 0,
    laugh: 0,
    hooray: 0,
    confused: 0,
    heart: 0,
    rocket: 0,
    eyes: 0,
  };
}

export function issueJson(core: SandboxCore, repo: RepoRecord, issue: IssueRecord): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const api = `${core.apiUrl}/repos/${full}/issues/${issue.number}`;
  const json: Record<string, unknown> = {
    id: issue.id,
    node_id: nodeId("Issue", issue.id),
    url: api,
    repository_url: `${core.apiUrl}/repos/${full}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${core.origin}/${full}/${issue.isPull ? "pull" : "issues"}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.state_reason,
    title: issue.title,
    body: issue.body,
    user: core.userJson(issue.user),
    labels: issue.labels.map((l) => labelJson(core, repo, l)),
    assignee: issue.assignees[0] === undefined ? null : core.userJson(issue.assignees[0]),
    assignees: issue.assignees.map((a) => core.userJson(a)),
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: Object.values(core.state.comments).filter(
      (c) => c.repo === full && c.issue_number === issue.number,
    ).length,
    closed_at: issue.closed_at,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_by: issue.closed_by === null ? null : core.userJson(issue.closed_by),
    author_association: authorAssociation(core, repo, issue.user),
    reactions: reactionsJson(api),
  };
  if (issue.isPull) {
    const pr = core.state.pulls[`${full}#${issue.number}`];
    json.pull_request = {
      url: `${core.apiUrl}/repos/${full}/pulls/${issue.number}`,
      html_url: `${core.origin}/${full}/pull/${issue.number}`,
      diff_url: `${core.origin}/${full}/pull/${issue.number}.diff`,
      patch_url: `${core.origin}/${full}/pull/${issue.number}.patch`,
      merged_at: pr?.merged_at ?? null,
    };
  }
  return json;
}

function commentJson(core: SandboxCore, repo: RepoRecord, c: IssueCommentRecord): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: c.id,
    node_id: nodeId("IssueComment", c.id),
    url: `${core.apiUrl}/repos/${full}/issues/comments/${c.id}`,
    html_url: `${core.origin}/${full}/issues/${c.issue_number}#issuecomment-${c.id}`,
    issue_url: `${core.apiUrl}/repos/${full}/issues/${c.issue_number}`,
    body: c.body,
    user: core.userJson(c.user),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: authorAssociation(core, repo, c.user),
    // Set when a GitHub App wrote the comment (pullgate's alert comments are the app's).
    performed_via_github_app: c.user === core.appBot().login ? appJson(core) : null,
    reactions: reactionsJson(`${core.apiUrl}/repos/${full}/issues/comments/${c.id}`),
  };
}

/**
 * Applies a PATCH's `title` and `body` to an issue (a PR's title and body live on its issue) and
 * returns GitHub's `changes` object for the `edited` webhook: the previous value of each field
 * that really changed.
 */
export function applyTitleAndBody(req: ApiRequest, issue: IssueRecord): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const title = req.body.optString("title");
  if (title !== undefined && title !== issue.title) {
    changes.title = { from: issue.title };
    issue.title = title;
  }
  const body = req.body.nullableString("body");
  if (body !== undefined && body !== issue.body) {
    changes.body = { from: issue.body ?? "" };
    issue.body = body;
  }
  return changes;
}

function requireIssue(core: SandboxCore, req: ApiRequest, repo: RepoRecord): IssueRecord {
  const issue = core.state.issues[`${repo.owner}/${repo.name}#${Number(req.params.issue_number)}`];
  if (issue === undefined) throw notFound();
  return issue;
}

export function registerIssueRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/repos/{owner}/{repo}/issues", (req) => {
    const repo = core.requireRepo(req, "read");
    const full = `${repo.owner}/${repo.name}`;
    const author = core.actingUser(req.actor);
    const number = core.state.nextNumber[full] ?? 1;
    core.state.nextNumber[full] = number + 1;
    const now = core.now();
    const canTriage = roleAtLeast(core.role(req.actor, repo), "triage");
    const issue: IssueRecord = {
      id: core.nextId(),
      repo: full,
      number,
      title: req.body.string("title"),
      body: req.body.optString("body") ?? null,
      state: "open",
      state_reason: null,
      user: author.login,
      labels: canTriage ? [...new Set(req.body.optStringArray("labels") ?? [])] : [],
      assignees: canTriage ? (req.body.optStringArray("assignees") ?? []) : [],
      created_at: now,
      updated_at: now,
      closed_at: null,
      closed_by: null,
      isPull: false,
    };
    for (const a of issue.assignees)
      if (core.user(a) === undefined)
        throw validationFailed({ resource: "Issue", field: "assignees", code: "invalid" });
    core.state.issues[`${full}#${number}`] = issue;
    core.emit("issues", { action: "opened", issue: issueJson(core, repo, issue) }, { repo, sender: author });
    return created(issueJson(core, repo, issue));
  });

  router.on("GET", "/repos/{owner}/{repo}/issues", (req) => {
    const repo = core.requireRepo(req);
    const full = `${repo.owner}/${repo.name}`;
    const state = req.query.get("state") ?? "open";
    const labels = (req.query.get("labels") ?? "")
      .split(",")
      .map((l) => l.trim())
      .filter(Boolean);
    const creator = req.query.get("creator");
    const direction = req.query.get("direction") ?? "desc";
    const issues = Object.values(core.state.issues)
      .filter((i) => i.repo === full)
      .filter((i) => state === "all" || i.state === state)
      .filter((i) => labels.every((l) => i.labels.includes(l)))
      .filter((i) => creator === null || i.user === creator)
      .sort((a, b) => (direction === "asc" ? a.number - b.number : b.number - a.number));
    const page = paginate(req, issues);
    return { ...page, body: (page.body as IssueRecord[]).map((i) => issueJson(core, repo, i)) };
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/{issue_number}", (req) => {
    const repo = core.requireRepo(req);
    return ok(issueJson(core, repo, requireIssue(core, req, repo)));
  });

  router.on("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", (req) => {
    const repo = core.requireRepo(req, "read");
    const issue = requireIssue(core, req, repo);
    const actor = core.actingUser(req.actor);
    if (issue.user !== actor.login && !roleAtLeast(core.role(req.actor, repo), "triage"))
      throw new HttpError(403, "Must have triage access to repository");
    const changes = applyTitleAndBody(req, issue);
    const labels = req.body.optStringArray("labels");
    if (labels !== undefined) issue.labels = [...new Set(labels)];
    const assignees = req.body.optStringArray("assignees");
    if (assignees !== undefined) issue.assignees = assignees;
    issue.updated_at = core.now();
    if (Object.keys(changes).length > 0)
      core.emit(
        "issues",
        { action: "edited", issue: issueJson(core, repo, issue), changes },
        { repo, sender: actor },
      );
    const state = req.body.oneOf("state", ["open", "closed"] as const);
    if (state !== undefined && state !== issue.state) {
      issue.state = state;
      issue.state_reason =
        state === "closed" ? (req.body.optString("state_reason") ?? "completed") : "reopened";
      issue.closed_at = state === "closed" ? core.now() : null;
      issue.closed_by = state === "closed" ? actor.login : null;
      core.emit(
        "issues",
        { action: state === "closed" ? "closed" : "reopened", issue: issueJson(core, repo, issue) },
        { repo, sender: actor },
      );
    }
    return ok(issueJson(core, repo, issue));
  });

  router.on("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", (req) => {
    const repo = core.requireRepo(req, "triage");
    const issue = requireIssue(core, req, repo);
    const labels =
      req.body.optStringArray("labels") ??
      (Array.isArray(req.body.raw.__array) ? (req.body.raw.__array as string[]) : []);
    issue.labels = [...new Set([...issue.labels, ...labels])];
    issue.updated_at = core.now();
    return ok(issue.labels.map((l) => labelJson(core, repo, l)));
  });

  router.on("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (req) => {
    const repo = core.requireRepo(req, "read");
    const issue = requireIssue(core, req, repo);
    const author = core.actingUser(req.actor);
    const now = core.now();
    const comment: IssueCommentRecord = {
      id: core.nextId(),
      repo: issue.repo,
      issue_number: issue.number,
      user: author.login,
      body: req.body.string("body"),
      created_at: now,
      updated_at: now,
    };
    core.state.comments[String(comment.id)] = comment;
    issue.updated_at = now;
    core.emit(
      "issue_comment",
      { action: "created", issue: issueJson(core, repo, issue), comment: commentJson(core, repo, comment) },
      { repo, sender: author },
    );
    return created(commentJson(core, repo, comment));
  });

  router.on("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (req) => {
    const repo = core.requireRepo(req);
    const issue = requireIssue(core, req, repo);
    const comments = Object.values(core.state.comments)
      .filter((c) => c.repo === issue.repo && c.issue_number === issue.number)
      .sort((a, b) => a.id - b.id);
    const page = paginate(req, comments);
    return { ...page, body: (page.body as IssueCommentRecord[]).map((c) => commentJson(core, repo, c)) };
  });

  router.on("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (req) => {
    const repo = core.requireRepo(req, "read");
    const comment = core.state.comments[String(req.params.comment_id)];
    if (comment === undefined || comment.repo !== `${repo.owner}/${repo.name}`) throw notFound();
    if (
      comment.user !== core.actingUser(req.actor).login &&
      !roleAtLeast(core.role(req.actor, repo), "write")
    )
      throw new HttpError(403, "Must have push access to repository");
    comment.body = req.body.string("body");
    comment.updated_at = core.now();
    return ok(commentJson(core, repo, comment));
  });
}
