import { fitOutput, type CheckOutput } from "./render-check.js";
import { decodeDecision, type Decision } from "./decision.js";
import { httpStatus, type GitHub, type RepoRef } from "./octokit.js";

/**
 * The lifecycle of pullgate's check run, the one every handler uses (gate, merge group, access
 * change, reconciler): **start** a run in progress on the head, **supersede** the runs of ours a
 * previous evaluation left in progress, **complete** the run with its verdict, the completing write
 * **retried** on GitHub's "later" answers. A check is never left in progress and never completed
 * as anything but what its own evaluation found (docs/architecture.md, invariant 4).
 */
export const CHECK_NAME = "pullgate";

/** Re-evaluate button shown on every completed check (a `check_run.requested_action` event). */
const REEVALUATE_ACTION = {
  label: "Re-evaluate",
  identifier: "reevaluate",
  description: "Run pullgate again on this head",
};

/** Starts the check on the head SHA so reviewers see pullgate is working. */
export async function startCheck(gh: GitHub, repo: RepoRef, headSha: string): Promise<number> {
  const { data } = await gh.rest.checks.create({
    ...repo,
    name: CHECK_NAME,
    head_sha: headSha,
    status: "in_progress",
    started_at: new Date().toISOString(),
    output: { title: "Evaluating", summary: "pullgate is gathering the facts for this head." },
  });
  return data.id;
}

/** The completing write of a superseded run (see supersedeRuns). */
export const SUPERSEDED_OUTPUT = {
  conclusion: "cancelled",
  title: "Superseded by a newer evaluation",
  summary: "A newer pullgate evaluation of this head replaced this one before it completed.",
} as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds GitHub asks us to wait (secondary rate limits answer 403/429 with retry-after). */
function retryAfterMs(error: unknown): number | null {
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  const value = Number(headers?.["retry-after"]);
  return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
}

/**
 * Completes the check. The completing write is what keeps a check from being left in progress,
 * so it is retried on the answers that mean "later" (secondary rate limit 403/429 with retry-after,
 * 5xx), which Octokit's retry plugin does not retry for 403/429.
 */
export async function completeCheck(
  gh: GitHub,
  repo: RepoRef,
  checkRunId: number,
  output:
    CheckOutput | { conclusion: "neutral" | "cancelled"; title: string; summary: string; text?: string },
  attempts = 4,
  /** Asked before every attempt: false skips the write (the run needs it no more). */
  stillNeeded?: () => Promise<boolean>,
): Promise<void> {
  // Every completing write fits GitHub's limits, whoever built the output (an error's message, an
  // access-change mark): a 422 for size is not retried and would leave the check in progress.
  const fitted = fitOutput(output);
  // Line annotations (the secrets rule's findings) go at most 50 per request, GitHub's cap
  // (docs/github-api.md, "Limits"): the first batch rides on the completing write, each further
  // batch is one more update, which GitHub appends to the run's annotations.
  const [first, ...rest] = "annotationBatches" in fitted ? (fitted.annotationBatches ?? []) : [];
  const written = await retrying(
    attempts,
    () =>
      gh.rest.checks.update({
        ...repo,
        check_run_id: checkRunId,
        status: "completed",
        conclusion: fitted.conclusion,
        completed_at: new Date().toISOString(),
        output: {
          title: fitted.title,
          summary: fitted.summary,
          ...(fitted.text ? { text: fitted.text } : {}),
          ...(first ? { annotations: first } : {}),
        },
        actions: [REEVALUATE_ACTION],
      }),
    stillNeeded,
  );
  // A run the supersede skipped gets no annotations either.
  if (!written) return;
  for (const batch of rest) {
    await retrying(attempts, () =>
      gh.rest.checks.update({
        ...repo,
        check_run_id: checkRunId,
        output: { title: fitted.title, summary: fitted.summary, annotations: batch },
      }),
    );
  }
}

/**
 * Runs a check-run write, retried on the answers that mean "later" (see completeCheck). With
 * `stillNeeded`, asked before every attempt: false skips the write and returns false.
 */
async function retrying(
  attempts: number,
  write: () => Promise<unknown>,
  stillNeeded?: () => Promise<boolean>,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (stillNeeded && !(await stillNeeded())) return false;
      await write();
      return true;
    } catch (error) {
      const status = httpStatus(error);
      const wait = retryAfterMs(error);
      const retryable =
        status === 429 || (status === 403 && wait !== null) || (status !== undefined && status >= 500);
      if (!retryable || attempt >= attempts) throw error;
      await sleep(Math.min(wait ?? 250 * 2 ** attempt, 10_000));
    }
  }
}

export interface PastVerdict {
  checkRunId: number;
  conclusion: string | null;
  decision: Decision | null;
}

export interface PastRuns {
  /** The newest completed pullgate run on the SHA: the verdict in force. */
  latest: PastVerdict | null;
  /** Runs still in progress (an evaluation under way, or one whose replica died). */
  inProgress: number[];
}

/**
 * pullgate's runs on a SHA, written by this app only (`app_id`: check runs can be written only by
 * the app that owns them, so another app's "pullgate" check is ignored), newest first. All runs,
 * not GitHub's "latest" filter: a re-evaluation in progress must not hide the verdict in force.
 */
export async function pastRuns(gh: GitHub, repo: RepoRef, sha: string, appId: number): Promise<PastRuns> {
  const runs = await gh.paginate(gh.rest.checks.listForRef, {
    ...repo,
    ref: sha,
    check_name: CHECK_NAME,
    app_id: appId,
    filter: "all",
    per_page: 100,
  });
  const ours = runs
    .filter((r) => r.app?.id === appId && r.name === CHECK_NAME && r.head_sha === sha)
    .sort((a, b) => b.id - a.id);
  const completed = ours.find((r) => r.status === "completed");
  return {
    latest: completed
      ? {
          checkRunId: completed.id,
          conclusion: completed.conclusion,
          decision: decodeDecision(completed.output?.text),
        }
      : null,
    inProgress: ours.filter((r) => r.status !== "completed").map((r) => r.id),
  };
}

/** pullgate's newest completed check on a SHA (see pastRuns). */
export async function latestVerdict(
  gh: GitHub,
  repo: RepoRef,
  sha: string,
  appId: number,
): Promise<PastVerdict | null> {
  return (await pastRuns(gh, repo, sha, appId)).latest;
}

/** Logs what a supersede could not do; a run left in progress is closed by the next evaluation. */
export interface LifecycleLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Supersedes runs of ours found in progress when a new evaluation started: each is completed as
 * cancelled, so a run whose replica crashed is not left in progress forever. If one was in fact
 * still being evaluated elsewhere, that evaluation completes it later and its verdict stands.
 *
 * A run that completed in the meantime is never touched: its conclusion (a failure, typically) is
 * the verdict of its evaluation, and overwriting it with "cancelled", which reviewers and GitHub
 * read as not-a-failure, would erase it. GitHub has no conditional write for check runs, so the
 * run is read again right before each write attempt (retries included) and left alone unless it
 * is still in progress. Best effort: a failure is logged, the new run is unaffected.
 */
export async function supersedeRuns(
  gh: GitHub,
  repo: RepoRef,
  runIds: readonly number[],
  log: LifecycleLog,
): Promise<void> {
  for (const id of runIds) {
    const inProgress = async () =>
      (await gh.rest.checks.get({ ...repo, check_run_id: id })).data.status !== "completed";
    await completeCheck(gh, repo, id, SUPERSEDED_OUTPUT, 4, inProgress).catch((error: unknown) =>
      log.warn({ err: error, checkRunId: id }, "could not close a superseded check run"),
    );
  }
}

/** A run this evaluation started, and what was on the head before it. */
export interface StartedEvaluation {
  checkRunId: number;
  /** Our runs on the head before this one (the verdict in force, the runs left in progress). */
  past: PastRuns;
}

/**
 * Starts the evaluation of a head: reads our previous runs before the new one exists (the last
 * decision remembers who pushed the head), starts the new run, then supersedes the runs left in
 * progress. Reading the past is best effort: without it nothing is superseded, and the evaluation
 * goes on.
 */
export async function startEvaluation(
  gh: GitHub,
  repo: RepoRef,
  headSha: string,
  appId: number,
  log: LifecycleLog,
): Promise<StartedEvaluation> {
  const past = await pastRuns(gh, repo, headSha, appId).catch((): PastRuns => ({
    latest: null,
    inProgress: [],
  }));
  const checkRunId = await startCheck(gh, repo, headSha);
  await supersedeRuns(gh, repo, past.inProgress, log);
  return { checkRunId, past };
}

/** A verdict written without an evaluation (an access-change mark): started and completed at once. */
export async function reportCheck(
  gh: GitHub,
  repo: RepoRef,
  headSha: string,
  output: CheckOutput,
): Promise<void> {
  const id = await startCheck(gh, repo, headSha);
  await completeCheck(gh, repo, id, output);
}
