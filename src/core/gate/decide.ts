/**
 * The pure gate: one PR head's facts in, its verdict and Decision out. No I/O: the facts adapter
 * (src/github/facts/) has read everything first. The steps run in the order the adapter planned
 * its reads (src/core/gate/plan.ts): listing caps, record-ref base, governing policy, then the
 * signature, review, CODEOWNERS-syntax and protection rules.
 */
import type { CheckAnnotation } from "../secrets/index.js";
import { compileCodeowners, parseCodeowners } from "../codeowners/index.js";
import type { CodeownersMatcher } from "../codeowners/types.js";
import type { BranchPolicy, Policy } from "../policy/types.js";
import { recordRefPullRule, type RecordRefJudgement } from "../protection/record-ref-pull.js";
import { codeownersErrorsRule } from "../reviews/rules/codeowners-errors.js";
import { effectiveApprovers, evaluateReviews } from "../reviews/evaluate.js";
import { matchesPattern } from "../reviews/pattern.js";
import type { ReviewFacts } from "../reviews/types.js";
import { combineVerdict } from "../verdict/combine.js";
import type { RuleResult, Verdict } from "../verdict/types.js";
import { buildDecision, type Decision, type DecisionSubject } from "./decision.js";
import type { PullFacts, PullSnapshot } from "./facts.js";
import { governingPolicy, judgeBase, listingProblem, type Incomplete } from "./plan.js";
import { signatureRule } from "./signatures.js";

export type { Incomplete } from "./plan.js";

/** What the gate decided for one PR head. */
export type PullDecision =
  | { kind: "ungoverned"; baseRef: string }
  /** The base is a record ref: the PR fails whatever policy its base carries. */
  | { kind: "record-ref"; baseRef: string; verdict: Verdict; decision: Decision }
  | {
      kind: "evaluated";
      verdict: Verdict;
      decision: Decision;
      notes: string[];
      policy: Policy;
      branchPolicy: BranchPolicy;
      /** Check-run annotations (secrets findings at file and line), in batches of at most 50. */
      annotationBatches: CheckAnnotation[][];
    }
  /** The facts cannot be complete: the caller fails closed (never a pass). */
  | Incomplete;

export interface DecideOptions {
  /** Signature validity is judged at this instant (key expiry). */
  now: Date;
}

function subjectOf(facts: PullFacts, lastPusher: string | null): DecisionSubject {
  const { repo, number, headSha } = facts.pull;
  return { repository: `${repo.owner}/${repo.repo}`, pullRequest: number, headSha, lastPusher };
}

function headOf(pull: PullSnapshot) {
  return pull.commits[pull.commits.length - 1];
}

/** Everything after the fetches: judges one PR head's facts against the policy read at its base. */
export async function decide(facts: PullFacts, options: DecideOptions): Promise<PullDecision> {
  const { pull } = facts;
  const listing = listingProblem(facts.counts);
  if (listing) return listing;
  if (pull.commits.length === 0 || headOf(pull)?.sha !== pull.headSha) {
    return {
      kind: "incomplete",
      reason: `the commit listing does not end at the head ${pull.headSha.slice(0, 7)}`,
    };
  }
  // Before anything else the base's tree says: a record ref's head may carry any policy, or none.
  const recordRef = judgeBase(pull, facts.recordRef.governing, facts.recordRef.base, facts.policy);
  if (recordRef.kind === "incomplete") return recordRef;
  if (recordRef.kind === "record-ref") return recordRefDecision(facts, recordRef);

  const governing = governingPolicy(pull, facts.policy);
  if (governing.kind !== "governed")
    return governing.kind === "ungoverned" ? { kind: "ungoverned", baseRef: pull.baseRef } : governing;
  const { policy, digest, branch } = governing;
  const base = facts.governed;
  if (!base) return { kind: "incomplete", reason: `the facts of the base ${pull.baseRef} were not gathered` };
  const notes: string[] = [...governing.notes];

  let codeowners: CodeownersMatcher | null = null;
  let codeownersErrors: RuleResult | null = null;
  if (base.codeowners) {
    const parsed = parseCodeowners(base.codeowners.text);
    codeowners = compileCodeowners(parsed);
    codeownersErrors = codeownersErrorsRule({
      path: base.codeowners.path,
      errors: parsed.errors,
      changedFiles: pull.changedFiles,
    });
  } else if (branch.reviews.requireCodeOwnerReview) {
    notes.push("No CODEOWNERS file on the base branch: code-owner review requires nothing.");
  }

  const signatures = await signatureRule(
    branch.signatures,
    base.keyring,
    pull.commits,
    base.commitPaths,
    options.now,
  );
  const head = headOf(pull);
  // Who pushed the head: the synchronize event's sender, else our last decision; failing both, the
  // head commit's committer account is the best evidence GitHub offers.
  const lastPusher = facts.lastPusher ?? head?.committerLogin ?? head?.authorLogin ?? null;
  notes.push(...signatures.keyringNotes.map((n) => `keyring: ${n}`));
  const reviewFacts: ReviewFacts = {
    author: pull.author,
    headSha: pull.headSha,
    lastPusher,
    changedFiles: pull.changedFiles,
    reviews: pull.reviews,
    permissions: base.permissions,
    teamMembers: base.teamMembers,
    // Who signed the PR's commits: their approvals are self-approvals (docs/policy.md, "Who signed").
    signers: signatures.signers,
  };
  // Computed once: the rules count these approvals and the record names exactly them (after the last-push rule).
  const effective = effectiveApprovers(reviewFacts, branch.reviews);
  const rules: RuleResult[] = [
    signatures.rule,
    ...evaluateReviews(
      {
        facts: reviewFacts,
        reviews: branch.reviews,
        pathRules: branch.pathRules,
        admins: policy.admins,
        sensitivePaths: policy.sensitivePaths,
        codeowners: codeowners ?? { ownersOf: () => ({ owners: [], line: null }) },
        matchesPattern,
      },
      effective,
    ),
    ...(codeownersErrors ? [codeownersErrors] : []),
    base.secrets.result,
    // Drift shows in the PR check: a gate is only as strong as the protection that makes it mandatory.
    ...(base.protection ? [base.protection] : []),
  ];
  const verdict = combineVerdict(pull.headSha, digest, rules, { factsHeadShas: [pull.headSha] });
  const decision = buildDecision(subjectOf(facts, lastPusher), verdict, {
    headTree: head?.tree ?? null,
    baseRef: pull.baseRef,
    baseSha: pull.baseSha,
    environment: branch.environment,
    approvedBy: effective.approverSet.approvers.map((a) => a.login),
    reviews: pull.reviews,
    signatures: signatures.verdicts,
  });
  return {
    kind: "evaluated",
    verdict,
    decision,
    notes,
    policy,
    branchPolicy: branch,
    annotationBatches: base.secrets.annotationBatches,
  };
}

/** A PR into a record ref: one failing rule saying why and what to do (close it). */
function recordRefDecision(
  facts: PullFacts,
  judgement: Extract<RecordRefJudgement, { kind: "record-ref" }>,
): PullDecision {
  const { pull } = facts;
  const verdict = combineVerdict(pull.headSha, "unknown", [recordRefPullRule(pull.baseRef, judgement)], {
    factsHeadShas: [pull.headSha],
  });
  const decision = buildDecision(subjectOf(facts, facts.lastPusher), verdict, {
    headTree: headOf(pull)?.tree ?? null,
    baseRef: pull.baseRef,
    baseSha: pull.baseSha,
    // No environment: nothing this PR does is ever published.
    environment: null,
    reviews: pull.reviews,
  });
  return { kind: "record-ref", baseRef: pull.baseRef, verdict, decision };
}
