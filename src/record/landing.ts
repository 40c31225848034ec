/**
 * Whether a commit on a governed branch earns an approved-revision record: the judgement of the
 * record publisher, pure (the app gathers the facts, src/github/records/landing.ts, and writes the
 * record, src/github/records/write.ts). A record is published only for the merge of a pull request
 * whose head pullgate approved, for this branch and environment, with exactly the approved head's
 * tree (docs/architecture.md, invariant 5), naming at least one approver who still stands when it
 * lands. Every other answer is a refusal with its reason, which the bypass alert shows.
 */

/** The parts of pullgate's decision on a PR head (the check run's Decision) a landing is judged by. */
export interface LandingDecision {
  status: string;
  headSha: string;
  headTree: string | null;
  baseRef: string;
  environment: string | null;
  approvedBy: readonly string[];
}

/** The merged pull request GitHub names for the commit. */
export interface LandingPull {
  number: number;
  headSha: string;
}

/** pullgate's newest completed check on the PR head. */
export interface LandingVerdict<D extends LandingDecision = LandingDecision> {
  conclusion: string | null;
  decision: D | null;
}

export type LandingJudgement<D extends LandingDecision = LandingDecision> =
  { ok: true; decision: D } | { ok: false; reason: string };

/**
 * The steps of the judgement, in the order the app reads the facts they need (each refuses
 * before the next fact is worth a request): a merged PR at all, pullgate's verdict on its head,
 * the landed tree, then (standingRefusal) the approvals against current facts.
 */
export const NO_PULL_REASON =
  "no merged pull request produced this commit (direct push or bypassed protection)";

/** pullgate's verdict on the PR head must be a pass for exactly this head, branch and environment. */
export function judgeVerdict<D extends LandingDecision>(
  pull: LandingPull,
  verdict: LandingVerdict<D> | null,
  branch: string,
  environment: string,
): LandingJudgement<D> {
  const decision = verdict?.decision;
  if (!verdict || verdict.conclusion !== "success" || !decision || decision.status !== "pass")
    return {
      ok: false,
      reason: `pull request #${pull.number} was merged without pullgate's passing check on its head ${pull.headSha.slice(0, 7)}`,
    };
  if (
    decision.headSha !== pull.headSha ||
    decision.baseRef !== branch ||
    decision.environment !== environment
  )
    return {
      ok: false,
      reason: `pullgate's decision for #${pull.number} was made for another head, branch or environment`,
    };
  return { ok: true, decision };
}

/** What landed is what was approved: the landed tree is the approved head's, and someone approved it. */
export function landedRefusal(
  pull: LandingPull,
  decision: LandingDecision,
  landedTree: string,
): string | null {
  if (!decision.headTree || landedTree !== decision.headTree)
    return `the merged tree ${landedTree.slice(0, 7)} differs from the approved head's tree ${(decision.headTree ?? "unknown").slice(0, 7)} (the base moved: require branches to be up to date before merging)`;
  if (decision.approvedBy.length === 0)
    return `pull request #${pull.number} has no counted approver to name in a record`;
  return null;
}

/** Every fact of a landing at once (the steps above composed, the standing left out). */
export interface LandingFacts<D extends LandingDecision = LandingDecision> {
  branch: string;
  environment: string;
  pull: LandingPull | null;
  verdict: LandingVerdict<D> | null;
  landedTree: string;
}

export function judgeLanding<D extends LandingDecision>(facts: LandingFacts<D>): LandingJudgement<D> {
  const { pull } = facts;
  if (!pull) return { ok: false, reason: NO_PULL_REASON };
  const verdict = judgeVerdict(pull, facts.verdict, facts.branch, facts.environment);
  if (!verdict.ok) return verdict;
  const landed = landedRefusal(pull, verdict.decision, facts.landedTree);
  return landed === null ? verdict : { ok: false, reason: landed };
}

/** Current standing of the counted approvals when the commit landed (src/github/records/landing-standing.ts). */
export type LandingStanding =
  { ok: true } | { ok: false; lostAccess: readonly string[]; lapsed: readonly string[] };

/**
 * The second part: access can be lost after the evaluation, and the webhook that re-gates the PR
 * can be lost or over budget (docs/threat-model.md), so every counted approval is judged again with
 * the facts current when the commit landed. Null when it still stands, else the refusal.
 */
export function standingRefusal(
  repository: string,
  pullNumber: number,
  standing: LandingStanding,
): string | null {
  if (standing.ok) return null;
  const reasons: string[] = [];
  if (standing.lostAccess.length > 0)
    reasons.push(
      `${standing.lostAccess.map((l) => `@${l}`).join(", ")} approved pull request #${pullNumber} but no longer had write access to ${repository} when it landed`,
    );
  if (standing.lapsed.length > 0)
    reasons.push(
      `pull request #${pullNumber} would not pass with the facts current when it landed: ${standing.lapsed.join("; ")}`,
    );
  return reasons.join("; ");
}
