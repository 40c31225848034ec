import type { GitHub, RepoRef } from "../octokit.js";

export const ALERT_LABEL = "pullgate-alert";
export const ALERT_STATUS_CONTEXT = "pullgate/record";
export const ALERT_TITLE = "pullgate: changes reached governed branches without approval";
/**
 * Marks the issue body as pullgate's. Never trusted alone: anyone with triage access can label
 * an issue and copy the marker in, so only an issue the app itself wrote is adopted (as
 * src/github/protection/alert-issue.ts does for drift issues).
 */
export const ALERT_ISSUE_MARKER = "<!-- pullgate:bypass-alert -->";

export interface Bypass {
  branch: string;
  environment: string;
  commit: string;
  pusher: string;
  reason: string;
}

/** One event for the alert issue. */
export interface AlertEvent {
  /**
   * What the event is about, for idempotency: an event is commented once per key (a replayed or
   * duplicated delivery finds its comment and adds none). For a bypass, the commit.
   */
  key: string;
  /** Markdown of the event (pullgate's own text; outside strings are escaped by the caller). */
  body: string;
  /** A failing `pullgate/record` status on this commit, when the event is about one. */
  status?: { commit: string; description: string };
}

/** The hidden line that identifies an event in the issue body or a comment. */
export function eventMarker(key: string): string {
  return `<!-- pullgate:alert-event:${key.replace(/[^A-Za-z0-9:._/-]/g, "_")} -->`;
}

/** Logins are case-insensitive on GitHub. */
const sameLogin = (a: string | null | undefined, b: string) => (a ?? "").toLowerCase() === b.toLowerCase();

export interface IssueView {
  number: number;
  body?: string | null;
  user?: { login: string } | null;
  pull_request?: unknown;
}

/**
 * pullgate's open alert issue among those listed: written by the app, carrying the marker. The
 * oldest one: two replicas can each create one at once, and the newer is then closed as a
 * duplicate (see raiseAlert), so every replica settles on the same issue.
 */
export function ownAlertIssue(issues: readonly IssueView[], appLogin: string): IssueView | null {
  const own = issues
    .filter(
      (i) =>
        !i.pull_request && sameLogin(i.user?.login, appLogin) && (i.body ?? "").includes(ALERT_ISSUE_MARKER),
    )
    .sort((a, b) => a.number - b.number);
  return own[0] ?? null;
}

/** The body of a new alert issue, the event it was opened for included. */
export function alertIssueBody(event: Pick<AlertEvent, "key" | "body">): string {
  return `${ALERT_ISSUE_MARKER}\npullgate found commits on governed branches that did not come through an approved pull request, or changes to its record refs it did not make. Each event is listed below and in the comments.\n\n${eventText(event)}`;
}

/** The text that reports an event: its hidden marker, then its Markdown. */
function eventText(event: Pick<AlertEvent, "key" | "body">): string {
  return `${eventMarker(event.key)}\n${event.body}`;
}

/**
 * Whether the app already reported the event in the issue: in one of the app's own comments, or
 * in the issue body the app opened the issue with for this very event.
 *
 * The body is editable by anyone with write access to the repository, so a marker found in it
 * proves nothing: planting the marker of a commit one is about to push would silence its alert.
 * A body counts only while it is, byte for byte, what the app wrote when it opened the issue for
 * this event (so the event is there, in the app's words); an edited body never does, and the
 * event is then commented again: a duplicate alert rather than a missing one.
 */
export function alreadyReported(
  issue: IssueView,
  comments: readonly { body?: string | null; user?: { login: string } | null }[],
  event: Pick<AlertEvent, "key" | "body">,
  appLogin: string,
): boolean {
  if (sameLogin(issue.user?.login, appLogin) && issue.body === alertIssueBody(event)) return true;
  const marker = eventMarker(event.key);
  return comments.some((c) => sameLogin(c.user?.login, appLogin) && (c.body ?? "").includes(marker));
}

/**
 * Whether the app already refused a record for `commit` (its own failing `pullgate/record` status,
 * written by raiseAlert): a refused landing is not published later by a catch-up. One request.
 */
export async function refusedBefore(
  gh: GitHub,
  repo: RepoRef,
  commit: string,
  appLogin: string,
): Promise<boolean> {
  const statuses = await gh.paginate(gh.rest.repos.listCommitStatusesForRef, {
    ...repo,
    ref: commit,
    per_page: 100,
  });
  return statuses.some(
    (s) =>
      s.context === ALERT_STATUS_CONTEXT && s.state === "failure" && sameLogin(s.creator?.login, appLogin),
  );
}

function describe(b: Bypass): string {
  return [
    `**${b.commit.slice(0, 7)}** reached \`${b.branch}\` (environment \`${b.environment}\`) without an approved pull request.`,
    "",
    `- Commit: ${b.commit}`,
    `- Pushed by: @${b.pusher}`,
    `- Why no record: ${b.reason}`,
    "",
    `No approved-revision record was published, so agents keep deploying the last approved revision of \`${b.environment}\`. Revert the change, or bring it through a pull request that pullgate approves.`,
  ].join("\n");
}

/**
 * Raises the alarm for a commit that reached a governed branch another way: a failing commit
 * status on that commit, and one open issue per repository that gathers every event as a comment.
 */
export async function raiseBypassAlert(
  gh: GitHub,
  repo: RepoRef,
  bypass: Bypass,
  appLogin: string,
): Promise<{ issue: number }> {
  return raiseAlert(gh, repo, appLogin, {
    key: `bypass:${bypass.commit}`,
    body: describe(bypass),
    status: { commit: bypass.commit, description: `No approved-revision record: ${bypass.reason}` },
  });
}

/**
 * Records one event: the failing status when it names a commit, then a comment on pullgate's one
 * open alert issue (created with the event when there is none), once per event key. Cost: the
 * status, the issue search, then either the comment listing of the issue (one page per 100
 * comments) and the comment, or the new issue and a second search (see keepOldest).
 */
export async function raiseAlert(
  gh: GitHub,
  repo: RepoRef,
  appLogin: string,
  event: AlertEvent,
): Promise<{ issue: number; duplicate: boolean }> {
  if (event.status) {
    // A commit status is replaced by the next one with the same context: a repeat is harmless.
    await gh.rest.repos.createCommitStatus({
      ...repo,
      sha: event.status.commit,
      state: "failure",
      context: ALERT_STATUS_CONTEXT,
      description: event.status.description.slice(0, 140),
    });
  }
  const existing = ownAlertIssue(await listOpen(gh, repo, appLogin), appLogin);
  if (existing) return commentOnce(gh, repo, existing, event, appLogin);
  const created = await gh.rest.issues.create({
    ...repo,
    title: ALERT_TITLE,
    labels: [ALERT_LABEL],
    body: alertIssueBody(event),
  });
  return keepOldest(gh, repo, created.data.number, event, appLogin);
}

/** The open issues labelled `pullgate-alert` (the caller keeps only the app's own). */
function listOpen(gh: GitHub, repo: RepoRef, appLogin: string): Promise<IssueView[]> {
  return gh.paginate(gh.rest.issues.listForRepo, {
    ...repo,
    labels: ALERT_LABEL,
    creator: appLogin,
    state: "open",
    per_page: 100,
  });
}

/** Comments the event on the app's issue unless the app already reported it there. */
async function commentOnce(
  gh: GitHub,
  repo: RepoRef,
  issue: IssueView,
  event: AlertEvent,
  appLogin: string,
): Promise<{ issue: number; duplicate: boolean }> {
  const comments = await gh.paginate(gh.rest.issues.listComments, {
    ...repo,
    issue_number: issue.number,
    per_page: 100,
  });
  if (alreadyReported(issue, comments, event, appLogin)) return { issue: issue.number, duplicate: true };
  await gh.rest.issues.createComment({ ...repo, issue_number: issue.number, body: eventText(event) });
  return { issue: issue.number, duplicate: false };
}

/**
 * After opening issue `created`: when another raise opened one at the same time (two replicas, or
 * a sweep and a redelivered push reporting the same bypass: the sweep lease keeps sweeps apart,
 * not a sweep from a webhook), both saw no issue and both created one. The oldest open one is the
 * issue; ours, the newer, is closed and its body replaced by a pointer (so it no longer reads as an
 * alert issue of ours), and the event is reported on the oldest unless already there.
 */
async function keepOldest(
  gh: GitHub,
  repo: RepoRef,
  created: number,
  event: AlertEvent,
  appLogin: string,
): Promise<{ issue: number; duplicate: boolean }> {
  const oldest = ownAlertIssue(await listOpen(gh, repo, appLogin), appLogin);
  if (oldest === null || oldest.number >= created) return { issue: created, duplicate: false };
  const reported = await commentOnce(gh, repo, oldest, event, appLogin);
  await gh.rest.issues.update({
    ...repo,
    issue_number: created,
    state: "closed",
    state_reason: "not_planned",
    body: `Duplicate of #${oldest.number}: pullgate reports every event there.`,
  });
  return reported;
}
