import { evaluatePull, type Evaluation, type EvaluationTarget } from "./evaluate-pull.js";
import type { GitHub, RepoRef } from "./octokit.js";

export interface HeadTarget {
  repo: RepoRef;
  /** The PR whose event asked for the evaluation. */
  number: number;
  headSha: string;
  lastPusher: string | null;
  protection?: EvaluationTarget["protection"];
}

export interface HeadEvaluation {
  /** The evaluation the head's check reports: the strictest of all open PRs with this head. */
  reported: Evaluation;
  /** The PR `reported` belongs to. */
  reportedPull: number;
  /** Notes about the other PRs with this head, for the check's summary. */
  notes: string[];
}

type PullOutcome = { number: number; evaluation: Evaluation };

function describe(outcome: PullOutcome): string {
  const e = outcome.evaluation;
  if (e.kind === "ungoverned") return `#${outcome.number} into ${e.baseRef}: not governed`;
  if (e.kind === "record-ref") return `#${outcome.number} into the record ref ${e.baseRef}: refused`;
  const word = e.verdict.status === "pass" ? "passes" : "does not pass";
  return `#${outcome.number} into ${e.snapshot.baseRef}: ${word}`;
}

/** Open PRs whose head is exactly `headSha`, by number. */
export async function openPullsWithHead(gh: GitHub, repo: RepoRef, headSha: string): Promise<number[]> {
  const pulls = await gh.paginate(gh.rest.repos.listPullRequestsAssociatedWithCommit, {
    ...repo,
    commit_sha: headSha,
    per_page: 100,
  });
  const numbers = pulls.filter((p) => p.state === "open" && p.head.sha === headSha).map((p) => p.number);
  return [...new Set(numbers)].sort((a, b) => a - b);
}

/**
 * Evaluates every open PR whose head is this commit. A check run belongs to a commit, not to a PR:
 * GitHub shows the head's latest pullgate check on every PR with that head, and a required check
 * that is `neutral` counts as passing. So a second PR of the same head into an ungoverned or weaker
 * branch must not be able to turn the check of the PR into a governed branch neutral or green: the
 * check reports the strictest outcome (any failure beats a pass, a pass beats "not governed").
 * Any error evaluating any of them propagates, and the caller fails closed.
 */
export async function evaluateHead(gh: GitHub, target: HeadTarget): Promise<HeadEvaluation> {
  const [own, siblings] = await Promise.all([
    evaluatePull(gh, target),
    openPullsWithHead(gh, target.repo, target.headSha).then((all) => all.filter((n) => n !== target.number)),
  ]);
  const others: PullOutcome[] = await Promise.all(
    siblings.map(async (number) => ({ number, evaluation: await evaluatePull(gh, { ...target, number }) })),
  );
  const all: PullOutcome[] = [{ number: target.number, evaluation: own }, ...others];
  const governed = all.filter((o) => o.evaluation.kind === "evaluated");
  // A PR into a record ref always fails: it is the strictest outcome there is.
  const failing =
    all.find((o) => o.evaluation.kind === "record-ref") ??
    governed.find((o) => o.evaluation.kind === "evaluated" && o.evaluation.verdict.status !== "pass");
  // Failing first; then the event's own PR when it is governed; then any governed PR.
  const reported = failing ?? (own.kind === "evaluated" ? all[0] : governed[0]) ?? all[0];
  if (!reported) throw new Error("unreachable: no evaluation");
  const notes = all
    .filter((o) => o !== reported)
    .map(
      (o) =>
        `This head is also the head of ${describe(o)}. A check belongs to the commit, so it reports #${reported.number}, the strictest.`,
    );
  return { reported: reported.evaluation, reportedPull: reported.number, notes };
}
