import { decide, type PullDecision } from "../core/gate/decide.js";
import type { PullSnapshot } from "../core/gate/facts.js";
import { gatherPullFacts, type FactsTarget } from "./facts/gather.js";
import { FactsError, type GitHub } from "./octokit.js";

/** What the gate decided for one PR (never "incomplete": that is thrown), with the pull it was about. */
export type Evaluation = Exclude<PullDecision, { kind: "incomplete" }> & { snapshot: PullSnapshot };

export type EvaluationTarget = FactsTarget;

/**
 * Evaluates one PR head against the policy of its base branch: the facts are gathered first
 * (src/github/facts/gather.ts), then judged by the pure gate (src/core/gate/decide.ts). Everything
 * trusted (policy, CODEOWNERS, keyrings) is read at the base SHA; everything about the PR for
 * exactly the head SHA. Throws when the facts are incomplete; the caller fails closed.
 */
export async function evaluatePull(
  gh: GitHub,
  target: EvaluationTarget,
  now: Date = new Date(),
): Promise<Evaluation> {
  const facts = await gatherPullFacts(gh, target);
  const decided = await decide(facts, { now });
  if (decided.kind === "incomplete") {
    // The adapter's own error says the most (an HTTP status, a file and line of a broken policy).
    if (decided.cause !== undefined) throw decided.cause;
    throw new FactsError(decided.reason, decided.fix !== undefined ? { fix: decided.fix } : {});
  }
  return { ...decided, snapshot: facts.pull };
}
