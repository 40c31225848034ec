import type { GitHub, RepoRef } from "../octokit.js";

export const ALERT_LABEL = "pullgate-alert";
export const ALERT_STATUS_CONTEXT = "pullgate/record";
export const ALERT_TITLE = "pullgate: changes reached governed branches without approval";
/**
 * Marks the issue body as pullgate's: with the author check, an issue a person wrote (anyone with
 * triage access can add the label) is never adopted (as src/github/protection/alert-issue.ts does).
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

/** pullgate's newest open alert issue among those listed: written by the app, carrying the marker. */
export function ownAlertIssue(issues: readonly IssueView[], appLogin: string): IssueView | null {
  const own = issues
    .filter(
      (i) =>
        !i.pull_request && sameLogin(i.user?.login, appLogin) && (i.body ?? "").includes(ALERT_ISSUE_MARKER),
    )
    .sort((a, b) => b.number - a.number);
  return own[0] ?? null;
}

/** Whether the app already reported the event `key` in the issue (body or one of its own comments). */
export function alreadyReported(
  issue: IssueView,
  comments: readonly { body?: string | null; user?: { login: string } | null }[],
  key: string,
  appLogin: string,
): boolean {
  const marker = eventMarker(key);
  if ((issue.body ?? "").includes(marker)) return true;
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
 * status, the issue search, the comment listing of the issue (one page per 100 comments), and the
 * comment or the issue.
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
  const open = await gh.paginate(gh.rest.issues.listForRepo, {
    ...repo,
    labels: ALERT_LABEL,
    creator: appLogin,
    state: "open",
    per_page: 100,
  });
  const text = `${eventMarker(event.key)}\n${event.body}`;
  const existing = ownAlertIssue(open, appLogin);
  if (existing) {
    const comments = await gh.paginate(gh.rest.issues.listComments, {
      ...repo,
      issue_number: existing.number,
      per_page: 100,
    });
    if (alreadyReported(existing, comments, event.key, appLogin))
      return { issue: existing.number, duplicate: true };
    await gh.rest.issues.createComment({ ...repo, issue_number: existing.number, body: text });
    return { issue: existing.number, duplicate: false };
  }
  const created = await gh.rest.issues.create({
    ...repo,
    title: ALERT_TITLE,
    labels: [ALERT_LABEL],
    body: `${ALERT_ISSUE_MARKER}\npullgate found commits on governed branches that did not come through an approved pull request, or changes to its record refs it did not make. Each event is listed below and in the comments.\n\n${text}`,
  });
  return { issue: created.data.number, duplicate: false };
}
