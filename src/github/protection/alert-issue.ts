import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import type { RepositoryAudit } from "./audit.js";
import { factsError } from "./errors.js";

/** One issue per repository carries the drift; it is found again by this label. */
export const DRIFT_LABEL = "pullgate-drift";
export const DRIFT_TITLE = "pullgate: branch protection drift";
/** Marks the body as pullgate's, so a human-written issue that merely has the label is never taken over. */
const MARKER = "<!-- pullgate:protection-drift -->";

/** The fields of an issue the plan looks at (GET /repos/{o}/{r}/issues returns them). */
export interface ExistingIssue {
  number: number;
  state: string;
  title: string;
  body?: string | null;
  /** Login of the author. */
  author?: string | null;
  /** Set when the "issue" is a pull request (the issues API lists both). */
  isPullRequest?: boolean;
}

export type IssuePlan =
  | { action: "none"; number?: number }
  | { action: "create"; title: string; body: string; labels: string[] }
  | { action: "update"; number: number; body?: string; reopen: boolean }
  | { action: "close"; number: number };

/**
 * What to do with the drift issue, from the issues carrying the label (any order) and the body the
 * issue should have (null = no drift). Reuses pullgate's oldest open issue, else its newest: reopens it when drift comes
 * back, edits the body only when it changed (no churn, no notifications for nothing), closes it when
 * drift is gone. Only issues pullgate wrote count (the marker, and the author when known): anyone
 * with triage access can label an issue, and pullgate must not adopt or close theirs.
 */
export function planDriftIssue(
  existing: readonly ExistingIssue[],
  desiredBody: string | null,
  author?: string,
): IssuePlan {
  const own = existing
    .filter(
      (i) =>
        !i.isPullRequest &&
        (i.body ?? "").includes(MARKER) &&
        (author === undefined || (i.author ?? "").toLowerCase() === author.toLowerCase()),
    )
    .sort((a, b) => b.number - a.number);
  // Several open ones happen only when two replicas raced to create it (see syncDriftIssue): the
  // oldest open one is the issue; the others are closed as duplicates by whoever created them.
  const newest = own.filter((i) => i.state === "open").at(-1) ?? own[0];
  if (desiredBody === null) {
    if (newest && newest.state === "open") return { action: "close", number: newest.number };
    return newest ? { action: "none", number: newest.number } : { action: "none" };
  }
  if (!newest) return { action: "create", title: DRIFT_TITLE, body: desiredBody, labels: [DRIFT_LABEL] };
  const reopen = newest.state !== "open";
  const changed = (newest.body ?? "") !== desiredBody;
  if (!reopen && !changed) return { action: "none", number: newest.number };
  return changed
    ? { action: "update", number: newest.number, body: desiredBody, reopen }
    : { action: "update", number: newest.number, reopen };
}

/**
 * The issue body for a repository's audit, or null when there is nothing to report. Deterministic
 * (no timestamps, stable order), so an unchanged drift renders byte-identically and is not re-posted.
 * Branches that could not be checked are listed too: not knowing is not "fine".
 */
export function renderDriftIssueBody(report: RepositoryAudit): string | null {
  const sections: string[] = [];
  for (const b of report.branches) {
    if (b.status !== "drift" && b.status !== "error") continue;
    sections.push(
      section(
        `Branch \`${b.branch}\` (environment \`${b.environment}\`, mode ${b.mode})`,
        b.status,
        b.drift,
        b.status === "error" ? b.result.summary : undefined,
        b.result.fix,
      ),
    );
  }
  for (const r of report.approvedRefs) {
    if (r.status !== "drift" && r.status !== "error") continue;
    sections.push(
      section(
        `Record ref \`${r.ref}\` (environment \`${r.environment}\`)`,
        r.status,
        r.drift,
        r.status === "error" ? r.result.summary : undefined,
        r.drift.map((d) => d.fix),
      ),
    );
  }
  if (sections.length === 0) return null;
  const sources =
    report.policySources.length > 0 ? ` (policy: ${report.policySources.map(code).join(", ")})` : "";
  return [
    MARKER,
    `pullgate found the branch protection of **${report.repo}** short of its policy${sources}.`,
    "Until it is fixed, GitHub does not enforce everything pullgate's check and records rely on.",
    "",
    ...sections,
    "_pullgate updates this issue when the protection changes and closes it once the protection meets the policy._",
    "",
  ].join("\n");
}

function section(
  heading: string,
  status: string,
  drift: readonly { setting: string; expected: string; actual: string }[],
  error: string | undefined,
  fixes: readonly string[],
): string {
  const lines = [`### ${heading}`, ""];
  if (status === "error") lines.push(`Could not be checked: ${cell(error ?? "unknown error")}`, "");
  if (drift.length > 0) {
    lines.push("| Setting | Expected | Actual |", "| --- | --- | --- |");
    for (const d of drift) lines.push(`| ${cell(d.setting)} | ${cell(d.expected)} | ${cell(d.actual)} |`);
    lines.push("");
  }
  const unique = [...new Set(fixes)];
  if (unique.length > 0) {
    lines.push("How to fix:", ...unique.map((f) => `- ${f.replace(/\s*\n\s*/g, " ")}`), "");
  }
  return lines.join("\n");
}

/** Table cells: no line breaks, no column separators, no HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

export interface SyncResult {
  action: IssuePlan["action"] | "skipped";
  number?: number;
}

/** Syncs of one repository's drift issue run one after the other within this process. */
const inFlight = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, run: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const next = previous.then(run, run);
  const settled = next.catch(() => undefined);
  inFlight.set(key, settled);
  void settled.then(() => {
    if (inFlight.get(key) === settled) inFlight.delete(key);
  });
  return next;
}

/**
 * Brings the repository's drift issue in line with an audit: at most two requests (find by label,
 * then create / edit / close), three more after a create. A repository that could not be audited
 * at all is skipped: not knowing the protection is no reason to close, and a transient failure no
 * reason to open. `author` is the login the issues are written as (`<app-slug>[bot]` for the app).
 *
 * Idempotent per drift state, not per delivery (docs/threat-model.md, "The webhook endpoint"): the
 * same drift renders the same body, which is never re-posted; concurrent syncs of one repository
 * (two events at once, or a replayed delivery racing the original) are serialized in this
 * process, so the second sees the first's issue; and a replica that created an issue while
 * another replica created one too closes its own, newer one as a duplicate.
 */
export function syncDriftIssue(
  gh: GitHub,
  repo: RepoRef,
  report: RepositoryAudit,
  options: { author?: string } = {},
): Promise<SyncResult> {
  return oneAtATime(`${repo.owner}/${repo.repo}`.toLowerCase(), () => syncNow(gh, repo, report, options));
}

async function listDriftIssues(gh: GitHub, repo: RepoRef): Promise<ExistingIssue[]> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/issues", {
    ...repo,
    labels: DRIFT_LABEL,
    state: "all",
    sort: "created",
    direction: "desc",
    per_page: 100,
  });
  return data.map((i) => ({
    number: i.number,
    state: i.state,
    title: i.title,
    body: i.body ?? null,
    author: i.user?.login ?? null,
    isPullRequest: i.pull_request !== undefined && i.pull_request !== null,
  }));
}

async function syncNow(
  gh: GitHub,
  repo: RepoRef,
  report: RepositoryAudit,
  options: { author?: string },
): Promise<SyncResult> {
  if (report.status === "error" && report.error !== undefined) return { action: "skipped" };
  if (report.status === "ungoverned") {
    // No policy any more: leave whatever exists alone rather than claim the drift was fixed.
    return { action: "skipped" };
  }
  const body = renderDriftIssueBody(report);
  let existing: ExistingIssue[];
  try {
    existing = await listDriftIssues(gh, repo);
  } catch (error) {
    if (httpStatus(error) === 410) return { action: "skipped" }; // issues disabled
    throw factsError(error, `the drift issues of ${repo.owner}/${repo.repo}`, '"Issues: read" repository');
  }
  const plan = planDriftIssue(existing, body, options.author);
  try {
    switch (plan.action) {
      case "none":
        return plan.number !== undefined ? { action: "none", number: plan.number } : { action: "none" };
      case "create": {
        const { data } = await gh.request("POST /repos/{owner}/{repo}/issues", {
          ...repo,
          title: plan.title,
          body: plan.body,
          labels: plan.labels,
        });
        return await keepOldest(gh, repo, data.number, options.author);
      }
      case "update":
        await gh.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
          ...repo,
          issue_number: plan.number,
          ...(plan.body !== undefined ? { body: plan.body } : {}),
          ...(plan.reopen ? { state: "open" as const } : {}),
        });
        return { action: "update", number: plan.number };
      case "close":
        await gh.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
          ...repo,
          issue_number: plan.number,
          state: "closed",
          state_reason: "completed",
        });
        return { action: "close", number: plan.number };
    }
  } catch (error) {
    throw factsError(error, `the drift issue of ${repo.owner}/${repo.repo}`, '"Issues: write" repository');
  }
}

/**
 * After creating issue `created`: if another replica's create won the race (an older open issue
 * of ours exists), close ours as a duplicate, so one drift state has one issue.
 */
async function keepOldest(
  gh: GitHub,
  repo: RepoRef,
  created: number,
  author: string | undefined,
): Promise<SyncResult> {
  const own = (await listDriftIssues(gh, repo)).filter(
    (i) =>
      !i.isPullRequest &&
      i.state === "open" &&
      (i.body ?? "").includes(MARKER) &&
      (author === undefined || (i.author ?? "").toLowerCase() === author.toLowerCase()),
  );
  const oldest = own.map((i) => i.number).sort((a, b) => a - b)[0];
  if (oldest === undefined || oldest >= created) return { action: "create", number: created };
  await gh.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
    ...repo,
    issue_number: created,
    state: "closed",
    state_reason: "not_planned",
  });
  return { action: "none", number: oldest };
}
