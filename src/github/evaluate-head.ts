import { pickStrictest, type OutcomeKind, type PullOutcome } from "../core/gate/strictest.js";
import { evaluatePull, type Evaluation, type EvaluationTarget } from "./evaluate-pull.js";
import type { GitHub, RepoRef } from "./octokit.js";

export interface HeadTarget {
  repo: RepoRef;
  /** The PR whose event asked for the evaluation. */
  number: number;
  headSha: string;
  lastPusher: string | null;
  protection?: EvaluationTarget["protection"];
  /**
   * The open PRs with this head, when the caller has just listed them (`openPullsWithHead`):
   * saves listing them a second time.
   */
  openPulls?: readonly number[];
}

export interface HeadEvaluation {
  /** The evaluation the head's check reports: the strictest of all open PRs with this head. */
  reported: Evaluation;
  /** The PR `reported` belongs to. */
  reportedPull: number;
  /** Notes about the other PRs with this head, for the check's summary. */
  notes: string[];
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

function outcomeOf(e: Evaluation): OutcomeKind {
  if (e.kind === "evaluated")
    return { kind: "evaluated", baseRef: e.snapshot.baseRef, status: e.verdict.status };
  return { kind: e.kind, baseRef: e.baseRef };
}

/**
 * Evaluates every open PR whose head is this commit; the check reports the strictest
 * (src/core/gate/strictest.ts says why and how it is picked). Any error evaluating any of them
 * propagates, and the caller fails closed.
 */
export async function evaluateHead(gh: GitHub, target: HeadTarget): Promise<HeadEvaluation> {
  const { openPulls, ...pullTarget } = target;
  const [own, siblings] = await Promise.all([
    evaluatePull(gh, pullTarget),
    (openPulls ? Promise.resolve(openPulls) : openPullsWithHead(gh, target.repo, target.headSha)).then(
      (all) => all.filter((n) => n !== target.number),
    ),
  ]);
  const others = await Promise.all(
    siblings.map(async (number) => ({
      number,
      evaluation: await evaluatePull(gh, { ...pullTarget, number }),
    })),
  );
  const all: PullOutcome<Evaluation>[] = [{ number: target.number, evaluation: own }, ...others].map((o) => ({
    number: o.number,
    outcome: outcomeOf(o.evaluation),
    value: o.evaluation,
  }));
  const { reported, notes } = pickStrictest(all);
  return { reported: reported.value, reportedPull: reported.number, notes };
}
