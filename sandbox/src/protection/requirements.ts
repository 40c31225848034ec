import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import type { PullRecord, RepoRecord } from "../state/types.js";

/** A required check: a check run (by `app_id` when given, -1 or null = any app) or a commit status. */
export interface RequiredCheck {
  context: string;
  app_id: number | null;
}

const PASSING = new Set(["success", "neutral", "skipped"]);

/** Required checks that are not passing on `sha` (latest check run per name and app, or latest status). */
export function missingChecks(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
  required: RequiredCheck[],
): string[] {
  const full = `${repo.owner}/${repo.name}`;
  const runs = Object.values(core.state.checkRuns).filter((r) => r.repo === full && r.head_sha === sha);
  const statuses = Object.values(core.state.statuses).filter((s) => s.repo === full && s.sha === sha);
  const missing: string[] = [];
  for (const check of required) {
    const anyApp = check.app_id === null || check.app_id === -1;
    const candidates = runs
      .filter((r) => r.name === check.context && (anyApp || r.app_id === check.app_id))
      .sort((a, b) => b.id - a.id);
    const latestRun = candidates[0];
    const latestStatus = anyApp
      ? statuses.filter((s) => s.context === check.context).sort((a, b) => b.id - a.id)[0]
      : undefined;
    const runPasses =
      latestRun !== undefined && latestRun.status === "completed" && PASSING.has(latestRun.conclusion ?? "");
    const statusPasses = latestStatus?.state === "success";
    if (!runPasses && !statusPasses) missing.push(check.context);
  }
  return missing;
}

export interface ReviewSummary {
  /** Users (not the author, with write access) whose latest opinion is APPROVED. */
  approvers: string[];
  /** Users with write access whose latest opinion is CHANGES_REQUESTED. */
  changesRequestedBy: string[];
}

/**
 * GitHub's review tally: per user the latest APPROVED / CHANGES_REQUESTED / DISMISSED review is
 * their opinion (COMMENTED does not change it); only reviewers with write access who are not the
 * author count.
 */
export function reviewSummary(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  author: string,
): ReviewSummary {
  const latest = new Map<string, string>();
  const reviews = Object.values(core.state.reviews)
    .filter((r) => r.repo === pr.repo && r.pull_number === pr.number)
    .sort((a, b) => a.id - b.id);
  for (const review of reviews) {
    if (review.state === "COMMENTED" || review.state === "PENDING") continue;
    latest.set(review.user, review.state);
  }
  const approvers: string[] = [];
  const changesRequestedBy: string[] = [];
  for (const [login, state] of latest) {
    const user = core.user(login);
    if (user === undefined || login === author) continue;
    if (user.type !== "Bot" && !roleAtLeast(core.userRole(user, repo), "write")) continue;
    if (state === "APPROVED") approvers.push(login);
    if (state === "CHANGES_REQUESTED") changesRequestedBy.push(login);
  }
  return { approvers, changesRequestedBy };
}
