/**
 * Access-change webhooks (member, membership, organization, team) → re-evaluation of the open pull
 * requests whose pullgate verdict they can make stale (docs/threat-model.md, "access lost after
 * approval"). Which PRs is decided by the pure src/github/access-change.ts; this module does the
 * requests, within a budget, and fails closed past it.
 *
 * Request cost per event (GitHub's rate limit is the scale limit): an installation-wide change
 * lists the installation's repositories (1 per 100); then per repository, its open PRs (1 per
 * 100); per open PR, pullgate's runs on its head (1); per PR re-gated, one evaluation (about a
 * dozen); per PR marked failing past the cap, 2.
 */
import type { Logger } from "probot";
import type { PullgateMetrics } from "../metrics.js";
import { planAccessWork, type AccessChange, type PullVerdictState } from "./access-change.js";
import { pastRuns, reportCheck } from "./check-run.js";
import type { Decision } from "./decision.js";
import { errorVerdict } from "./error-verdict.js";
import type { GateTarget } from "./gate.js";
import type { GitHub, RepoRef } from "./octokit.js";
import { renderCheck } from "./render-check.js";

export interface AccessLimits {
  /** Repositories scanned for an installation-wide change. */
  maxRepositories: number;
  /** Open PRs whose verdict is read (1 request each); past it, a loss marks the rest failing unread. */
  maxPulls: number;
  /** Full re-evaluations; past it, a loss marks the PR failing ("access changed, re-run"). */
  maxRegates: number;
  /** Failing checks written without evaluation; past it, the PRs are only logged and counted. */
  maxMarks: number;
}

export const DEFAULT_ACCESS_LIMITS: AccessLimits = {
  maxRepositories: 200,
  maxPulls: 500,
  maxRegates: 20,
  maxMarks: 200,
};

export interface AccessEventDeps {
  appId: number;
  log: Logger;
  metrics: PullgateMetrics;
  /** The app's gate path (src/github/gate.ts gatePull), for one PR head. */
  gate: (target: GateTarget) => Promise<void>;
  limits?: Partial<AccessLimits>;
}

export interface AccessOutcome {
  repositories: number;
  /** Open PRs whose verdict was read. */
  pullsRead: number;
  regated: number;
  marked: number;
  /** Gains past the cap, left failing. */
  skipped: number;
  /** PRs (or repositories) nothing could be done for within the budget: logged as errors. */
  unchecked: number;
}

/** The fix a marked check names: a re-run evaluates the head against today's access. */
export const ACCESS_CHANGED_FIX =
  "Use “Re-run” or “Re-evaluate” to evaluate this head against the current access.";

function accessCounter(metrics: PullgateMetrics) {
  return metrics.registry.counter(
    "pullgate_access_changes_total",
    "Pull requests handled after an access change, by outcome (regated, marked, skipped, unchecked).",
  );
}

/** The repositories a change touches, at most `max` (the overflow is returned as a count). */
async function repositoriesOf(
  gh: GitHub,
  change: AccessChange,
  max: number,
): Promise<{ repos: RepoRef[]; overflow: number }> {
  if (change.scope.kind === "repository")
    return { repos: [{ owner: change.scope.owner, repo: change.scope.repo }], overflow: 0 };
  const all = await gh.paginate("GET /installation/repositories", { per_page: 100 });
  const open = all.filter((r) => !r.archived).map((r) => ({ owner: r.owner.login, repo: r.name }));
  return { repos: open.slice(0, max), overflow: Math.max(0, open.length - max) };
}

/** A failing check on the head, saying access changed since it was evaluated (2 requests). */
async function markStale(
  gh: GitHub,
  change: AccessChange,
  pull: PullVerdictState,
  why: string,
): Promise<void> {
  const reason = `access changed after this head was evaluated (${change.reason}); ${why}`;
  const verdict = errorVerdict(pull.headSha, reason, ACCESS_CHANGED_FIX);
  const previous = pull.decision;
  const decision: Decision = {
    version: 1,
    repository: `${pull.repo.owner}/${pull.repo.repo}`,
    pullRequest: pull.number,
    headSha: pull.headSha,
    headTree: previous?.headTree ?? null,
    baseRef: previous?.baseRef ?? "",
    baseSha: previous?.baseSha ?? "",
    environment: previous?.environment ?? null,
    policyDigest: previous?.policyDigest ?? verdict.policyDigest,
    // Nothing counts until the head is evaluated again.
    approvedBy: [],
    reviews: previous?.reviews ?? [],
    signatures: previous?.signatures ?? [],
    // Kept so a later re-run still knows who pushed the head (GitHub's last-push rule).
    lastPusher: previous?.lastPusher ?? null,
    status: verdict.status,
    rules: verdict.rules.map((r) => ({ id: r.id, status: r.status })),
  };
  await reportCheck(gh, pull.repo, pull.headSha, renderCheck(verdict, decision));
}

/**
 * Re-gates the open PRs an access change can make stale. Never throws for one PR's failure: the
 * others still get handled; every PR that could not be handled is logged as an error and counted.
 */
export async function handleAccessChange(
  deps: AccessEventDeps,
  gh: GitHub,
  change: AccessChange,
): Promise<AccessOutcome> {
  const limits = { ...DEFAULT_ACCESS_LIMITS, ...deps.limits };
  const counter = accessCounter(deps.metrics);
  const outcome: AccessOutcome = {
    repositories: 0,
    pullsRead: 0,
    regated: 0,
    marked: 0,
    skipped: 0,
    unchecked: 0,
  };
  const unchecked = (n: number, what: string, error?: unknown) => {
    if (n <= 0) return;
    outcome.unchecked += n;
    counter.inc({ outcome: "unchecked", direction: change.direction }, n);
    // A gain left unchecked is safe (the check stays failing); a loss is not: say so loudly.
    const log = change.direction === "loss" ? deps.log.error.bind(deps.log) : deps.log.warn.bind(deps.log);
    log(
      { err: error, change: change.reason, count: n },
      `pullgate could not re-check ${n} ${what} after an access change; re-run their pullgate checks`,
    );
  };

  const { repos, overflow } = await repositoriesOf(gh, change, limits.maxRepositories);
  outcome.repositories = repos.length;
  unchecked(overflow, "repositories (over the per-event limit)");

  const read: PullVerdictState[] = [];
  const unread: PullVerdictState[] = [];
  for (const repo of repos) {
    let pulls: { number: number; head: { sha: string } }[];
    try {
      pulls = await gh.paginate(gh.rest.pulls.list, { ...repo, state: "open", per_page: 100 });
    } catch (error) {
      unchecked(
        1,
        `repository ${repo.owner}/${repo.repo} (its open pull requests could not be listed)`,
        error,
      );
      continue;
    }
    for (const pull of pulls.sort((a, b) => a.number - b.number)) {
      const base = { repo, number: pull.number, headSha: pull.head.sha };
      if (read.length >= limits.maxPulls) {
        unread.push({ ...base, conclusion: null, decision: null, inProgress: false });
        continue;
      }
      try {
        const past = await pastRuns(gh, repo, pull.head.sha, deps.appId);
        read.push({
          ...base,
          conclusion: past.latest?.conclusion ?? null,
          decision: past.latest?.decision ?? null,
          inProgress: past.inProgress.length > 0,
        });
      } catch (error) {
        // Unknown verdict: for a loss it may be a pass, so it is re-gated (fail closed).
        deps.log.warn(
          { err: error, pull: pull.number },
          "could not read pullgate's verdict after an access change",
        );
        read.push({ ...base, conclusion: "success", decision: null, inProgress: false });
      }
    }
  }
  outcome.pullsRead = read.length;

  const work = planAccessWork(change, read, limits);
  for (const pull of work.regate) {
    try {
      await deps.gate({ repo: pull.repo, number: pull.number, headSha: pull.headSha });
      outcome.regated++;
      counter.inc({ outcome: "regated", direction: change.direction });
    } catch (error) {
      // gatePull completes its own check as a failure on any evaluation error; reaching here means
      // even that failed (e.g. the check could not be written).
      unchecked(1, `pull request ${pull.repo.owner}/${pull.repo.repo}#${pull.number}`, error);
    }
  }

  outcome.skipped = work.skipped.length + (change.direction === "gain" ? unread.length : 0);
  if (outcome.skipped > 0) {
    counter.inc({ outcome: "skipped", direction: change.direction }, outcome.skipped);
    deps.log.info(
      { change: change.reason, count: outcome.skipped },
      "access gained: pull requests over the per-event limit left failing; re-run their checks",
    );
  }

  if (change.direction === "loss") {
    const toMark = [
      ...work.markStale.map((p) => ({
        pull: p,
        why: `more than ${limits.maxRegates} pull requests were affected`,
      })),
      ...unread.map((p) => ({
        pull: p,
        why: `more than ${limits.maxPulls} open pull requests were in scope`,
      })),
    ];
    for (const [i, { pull, why }] of toMark.entries()) {
      if (i >= limits.maxMarks) {
        unchecked(toMark.length - i, "pull requests (over the per-event limit for failing checks)");
        break;
      }
      try {
        await markStale(gh, change, pull, `${why}, so it was not re-evaluated`);
        outcome.marked++;
        counter.inc({ outcome: "marked", direction: change.direction });
      } catch (error) {
        unchecked(1, `pull request ${pull.repo.owner}/${pull.repo.repo}#${pull.number}`, error);
      }
    }
  }
  deps.log.info({ change: change.reason, ...outcome }, "access change handled");
  return outcome;
}
