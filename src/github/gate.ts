import type { Logger } from "probot";
import type { Verdict } from "../core/verdict/types.js";
import type { PullgateMetrics } from "../metrics.js";
import { completeCheck, startEvaluation } from "./check-run.js";
import { emptyDecision as buildEmptyDecision, type Decision } from "../core/gate/decision.js";
import { evaluateHead, type HeadEvaluation } from "./evaluate-head.js";
import type { Evaluation } from "./evaluate-pull.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";
import { renderCheck, renderRecordRefRefusal, renderUngoverned } from "../core/gate/render.js";
import { withTimeout } from "./with-timeout.js";
import { errorVerdict } from "./error-verdict.js";

export interface GateDeps {
  appId: number;
  metrics: PullgateMetrics;
  timeoutMs: number;
  log: Logger;
  /** The app's slug, for pinning the required check (protection audit); looked up once. */
  appSlug: () => Promise<string>;
  /** False when the app has no record-signing key: the check summary says no record will follow. */
  recordsEnabled: boolean;
}

export const NO_SIGNING_KEY_NOTE =
  "This pullgate app has no record-signing key (PULLGATE_SIGNING_KEY): merging gates as usual, but no approved-revision record is published.";

export interface GateTarget {
  repo: RepoRef;
  number: number;
  headSha: string;
  /** Who pushed the head, when the event says (synchronize); else read back from our last decision. */
  lastPusher?: string;
  /** The open PRs with this head, when the handler has just listed them (passed to evaluate-head.ts). */
  openPulls?: readonly number[];
}

/**
 * Gates one PR head: starts the check, evaluates with a deadline (every open PR with this head,
 * see evaluate-head.ts), and completes the check with the strictest verdict. Whatever goes wrong
 * (an exception, a timeout, a truncated listing) completes the check as a failure with the
 * reason: never a pass, never a check left in progress. Returns the evaluation the check reports
 * (null when it failed closed).
 */
export async function gatePull(deps: GateDeps, gh: GitHub, target: GateTarget): Promise<Evaluation | null> {
  // Our previous runs: the last decision remembers who pushed the head (check runs only we can
  // write), and runs still in progress may be orphans of a replica that died mid-evaluation.
  const { checkRunId, past } = await startEvaluation(gh, target.repo, target.headSha, deps.appId, deps.log);
  const lastPusher = target.lastPusher ?? past.latest?.decision?.lastPusher ?? null;
  let head: HeadEvaluation;
  try {
    head = await withTimeout(
      evaluateHead(gh, { ...target, lastPusher, protection: { appId: deps.appId, appSlug: deps.appSlug } }),
      deps.timeoutMs,
      `evaluating ${target.repo.owner}/${target.repo.repo}#${target.number}`,
    );
  } catch (error) {
    const reason = describeFailure(error);
    deps.log.warn({ err: error, pull: target.number }, `pullgate failed closed: ${reason}`);
    const fix = error instanceof FactsError ? error.fix : undefined;
    const verdict: Verdict = errorVerdict(target.headSha, reason, fix);
    const decision: Decision = emptyDecision(target, verdict);
    await completeCheck(
      gh,
      target.repo,
      checkRunId,
      renderCheck(verdict, decision, ["Use “Re-run” or “Re-evaluate” once the cause is fixed."]),
    );
    deps.metrics.evaluations.inc({ conclusion: "error" });
    return null;
  }
  const evaluation = head.reported;
  if (evaluation.kind === "ungoverned") {
    await completeCheck(gh, target.repo, checkRunId, renderUngoverned(evaluation.baseRef, head.notes));
    deps.metrics.evaluations.inc({ conclusion: "neutral" });
    return evaluation;
  }
  if (evaluation.kind === "record-ref") {
    // Record refs are written only by pullgate (docs/protection.md, "Pull requests into record refs").
    const output = renderRecordRefRefusal(evaluation.verdict, evaluation.decision, head.notes);
    await completeCheck(gh, target.repo, checkRunId, output);
    deps.metrics.evaluations.inc({ conclusion: output.conclusion });
    return evaluation;
  }
  const notes = [...evaluation.notes, ...head.notes, ...(deps.recordsEnabled ? [] : [NO_SIGNING_KEY_NOTE])];
  const output = renderCheck(evaluation.verdict, evaluation.decision, notes, evaluation.annotationBatches);
  await completeCheck(gh, target.repo, checkRunId, output);
  deps.metrics.evaluations.inc({ conclusion: output.conclusion });
  return evaluation;
}

/**
 * The reason a check failed closed, in words an author can act on. An API error that escaped the
 * adapter names the request GitHub refused (method and path, not the host or query), so "Bad
 * Gateway" alone never leaves the reader guessing which fact was missing.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof FactsError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatus(error);
  if (status === undefined) return `unexpected error: ${message}`;
  const request = (error as { request?: { method?: string; url?: string } }).request;
  let where = "";
  if (request?.method && request.url) {
    try {
      where = ` to ${request.method} ${new URL(request.url).pathname.replace(/^\/api\/v3(?=\/)/, "")}`;
    } catch {
      where = ` to ${request.method}`;
    }
  }
  return `GitHub answered HTTP ${status}${where} (${message}); the facts for this head are incomplete`;
}

function emptyDecision(target: GateTarget, verdict: Verdict): Decision {
  return buildEmptyDecision(
    {
      repository: `${target.repo.owner}/${target.repo.repo}`,
      pullRequest: target.number,
      headSha: target.headSha,
      lastPusher: target.lastPusher ?? null,
    },
    verdict,
  );
}
