import type { CheckOutput } from "./render-check.js";
import { decodeDecision, type Decision } from "./decision.js";
import type { GitHub, RepoRef } from "./octokit.js";

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

export async function completeCheck(
  gh: GitHub,
  repo: RepoRef,
  checkRunId: number,
  output: CheckOutput | { conclusion: "neutral"; title: string; summary: string; text?: string },
): Promise<void> {
  await gh.rest.checks.update({
    ...repo,
    check_run_id: checkRunId,
    status: "completed",
    conclusion: output.conclusion,
    completed_at: new Date().toISOString(),
    output: { title: output.title, summary: output.summary, ...(output.text ? { text: output.text } : {}) },
    actions: [REEVALUATE_ACTION],
  });
}

export interface PastVerdict {
  checkRunId: number;
  conclusion: string | null;
  decision: Decision | null;
}

/**
 * pullgate's latest completed check on a SHA, written by this app only (`app_id` filter: check runs
 * can be written only by the app that owns them, so another app's "pullgate" check is ignored).
 */
export async function latestVerdict(
  gh: GitHub,
  repo: RepoRef,
  sha: string,
  appId: number,
): Promise<PastVerdict | null> {
  const runs = await gh.paginate(gh.rest.checks.listForRef, {
    ...repo,
    ref: sha,
    check_name: CHECK_NAME,
    app_id: appId,
    filter: "latest",
    per_page: 100,
  });
  const ours = runs
    .filter((r) => r.app?.id === appId && r.name === CHECK_NAME && r.head_sha === sha)
    .sort((a, b) => b.id - a.id);
  const latest = ours[0];
  if (!latest) return null;
  return {
    checkRunId: latest.id,
    conclusion: latest.status === "completed" ? latest.conclusion : null,
    decision: decodeDecision(latest.output?.text),
  };
}
