/**
 * Evaluates every review rule for one PR head: pure, from facts fetched for exactly that head SHA.
 * Order of work matters: counting approvers first (docs/architecture.md, invariant 3), then the
 * last-push rule removes the last pusher's approval, then every other rule sees only the approvals
 * that remain.
 *
 * Fail closed: malformed facts give a single "facts" error; a rule that throws (a pattern the
 * matcher refuses, a broken matcher) becomes an error result for that rule, never a pass.
 */
import type { CodeownersMatcher } from "../codeowners/types.js";
import type { PathRule, Principal, ReviewPolicy } from "../policy/types.js";
import { factsError } from "../verdict/combine.js";
import type { RuleResult } from "../verdict/types.js";
import { countingApprovers, type ApproverSet } from "./approvers.js";
import type { PatternMatcher } from "./pattern.js";
import { matchesPattern as defaultMatchesPattern } from "./pattern.js";
import { TeamDirectory } from "./principals.js";
import { APPROVALS_RULE_ID, approvalsRule } from "./rules/approvals.js";
import { CODEOWNERS_RULE_ID, codeownersRule } from "./rules/codeowners.js";
import { applyLastPushRule } from "./rules/last-push.js";
import { pathRuleId, pathRuleResult } from "./rules/path-rules.js";
import { SENSITIVE_PATHS_RULE_ID, sensitivePathsRule } from "./rules/sensitive-paths.js";
import type { ReviewFacts } from "./types.js";

export interface EvaluateReviewsInput {
  facts: ReviewFacts;
  reviews: ReviewPolicy;
  pathRules: readonly PathRule[];
  admins: readonly Principal[];
  sensitivePaths: readonly string[];
  /**
   * Built from the BASE branch's CODEOWNERS (docs/architecture.md, invariant 2); the adapter is
   * responsible for that.
   */
  codeowners: CodeownersMatcher;
  /** How policy path patterns match paths; defaults to the CODEOWNERS-like matcher in pattern.ts. */
  matchesPattern?: PatternMatcher;
}

/**
 * The approvals that count for every rule: counting approvers (invariant 3, docs/architecture.md)
 * minus the last pusher's when the policy requires approval of the most recent push. Records name
 * exactly these.
 */
export function effectiveApprovers(
  facts: ReviewFacts,
  policy: ReviewPolicy,
): { approverSet: ApproverSet; lastPush: RuleResult | null } {
  // The last-push rule runs first: it removes the last pusher's approval for every other rule.
  const approverSet = countingApprovers(facts, policy);
  if (!policy.requireLastPushApproval) return { approverSet, lastPush: null };
  const outcome = applyLastPushRule(approverSet, facts);
  return { approverSet: outcome.approvers, lastPush: outcome.result };
}

/**
 * `effective` is `effectiveApprovers(input.facts, input.reviews)` when the caller has already
 * computed it (the gate names the same approvers in its record): passing it saves a second count.
 */
export function evaluateReviews(
  input: EvaluateReviewsInput,
  effective?: ReturnType<typeof effectiveApprovers>,
): RuleResult[] {
  const problem = factsProblem(input.facts);
  if (problem) return [factsError(problem)];

  const { facts, reviews: policy } = input;
  const matchesPattern = input.matchesPattern ?? defaultMatchesPattern;
  const teams = new TeamDirectory(facts.teamMembers);

  const { approverSet, lastPush } = effective ?? effectiveApprovers(facts, policy);
  const approvers = approverSet.approvers;

  const results: RuleResult[] = [
    guarded(APPROVALS_RULE_ID, "Approvals", () => approvalsRule(approverSet, policy.requiredApprovals)),
  ];
  if (lastPush) results.push(lastPush);
  if (policy.requireCodeOwnerReview) {
    results.push(
      guarded(CODEOWNERS_RULE_ID, "Code owners", () =>
        codeownersRule({ changedFiles: facts.changedFiles, codeowners: input.codeowners, approvers, teams }),
      ),
    );
  }
  const seenPathRules = new Set<string>();
  for (const rule of input.pathRules) {
    const id = pathRuleId(rule);
    const title = `Path rule "${rule.name}"`;
    results.push(
      guarded(id, title, () => {
        // Two rules with one name would render as one row: refuse rather than hide one of them.
        if (seenPathRules.has(id)) throw new Error(`more than one path rule is named "${rule.name}"`);
        seenPathRules.add(id);
        return pathRuleResult(rule, { changedFiles: facts.changedFiles, approvers, teams, matchesPattern });
      }),
    );
  }
  results.push(
    guarded(SENSITIVE_PATHS_RULE_ID, "Sensitive paths", () =>
      sensitivePathsRule({
        changedFiles: facts.changedFiles,
        sensitivePaths: input.sensitivePaths,
        admins: input.admins,
        approvers,
        headSha: facts.headSha,
        teams,
        matchesPattern,
      }),
    ),
  );
  return results;
}

/** Facts that cannot be evaluated at all (the adapter should never send them; fail closed if it does). */
function factsProblem(facts: ReviewFacts): string | null {
  if (facts.headSha.trim() === "") return "the head SHA is missing";
  if (facts.author.trim() === "") return "the pull request author is unknown";
  if (facts.changedFiles.some((f) => f === "")) return "the changed-file list contains an empty path";
  return null;
}

function guarded(id: string, title: string, evaluate: () => RuleResult): RuleResult {
  try {
    return evaluate();
  } catch (error) {
    const reason = `rule ${id} could not be evaluated: ${error instanceof Error ? error.message : String(error)}`;
    return {
      ...factsError(reason),
      id,
      title,
      fix: ["Correct the base branch's policy or CODEOWNERS entry named above, then re-run the check."],
    };
  }
}
