/**
 * Combining rule results into one verdict. Invariant 1 (docs/architecture.md): a check passes only
 * if every rule passed on data fetched for that exact head SHA. Precedence: error > fail > pending
 * > pass, so an error is never hidden behind a failure and nothing short of all-pass is a pass.
 */
import type { RuleResult, Status, Verdict } from "./types.js";

const KNOWN_STATUSES: ReadonlySet<string> = new Set<Status>(["pass", "fail", "error", "pending"]);

export interface CombineOptions {
  /**
   * The head SHA each set of facts was fetched for (review facts, signature facts, ...). Any that
   * differs from the verdict's head SHA means the facts describe another commit (a push raced the
   * fetch): the verdict errors instead of passing on the wrong data (docs/architecture.md, invariant 1).
   */
  factsHeadShas?: readonly string[];
}

export function combineVerdict(
  headSha: string,
  policyDigest: string,
  rules: readonly RuleResult[],
  options: CombineOptions = {},
): Verdict {
  const all = [...rules];
  // Fail closed on a verdict about nothing: no rules means nothing was evaluated, and a verdict
  // not tied to a head SHA cannot satisfy invariant 1 (docs/architecture.md).
  if (all.length === 0) all.push(factsError("no rules were evaluated"));
  if (headSha.trim() === "") all.push(factsError("the verdict is not tied to a head SHA"));
  const foreign = [...new Set((options.factsHeadShas ?? []).filter((sha) => sha !== headSha))];
  if (foreign.length > 0) {
    all.push(factsError(`facts were fetched for ${foreign.join(", ")}, not for the head ${headSha}`));
  }
  return { status: combinedStatus(all), headSha, policyDigest, rules: all };
}

export function combinedStatus(rules: readonly RuleResult[]): Status {
  if (rules.length === 0) return "error";
  // A status the renderer does not know (malformed data from a caller) counts as an error.
  if (rules.some((r) => r.status === "error" || !KNOWN_STATUSES.has(r.status))) return "error";
  if (rules.some((r) => r.status === "fail")) return "fail";
  if (rules.some((r) => r.status === "pending")) return "pending";
  return "pass";
}

/** The adapter's fail-closed path: the facts could not be gathered completely (truncation, API error, timeout). */
export function factsError(reason: string): RuleResult {
  return {
    id: "facts",
    title: "Pull request facts",
    status: "error",
    summary: `Could not evaluate: ${reason}.`,
    satisfied: [],
    missing: [{ kind: "facts", reason }],
    fix: ["Re-run the pullgate check; if it keeps failing, see the app's logs for the underlying error."],
  };
}
