import { compileCodeowners, parseCodeowners } from "../core/codeowners/index.js";
import type { CodeownersMatcher } from "../core/codeowners/types.js";
import { branchPolicyFor } from "../core/policy/match.js";
import type { BranchPolicy, Policy } from "../core/policy/types.js";
import { recordRefPullRule, type RecordRefJudgement } from "../core/protection/record-ref-pull.js";
import { codeownersErrorsRule } from "../core/reviews/rules/codeowners-errors.js";
import { effectiveApprovers, evaluateReviews } from "../core/reviews/evaluate.js";
import { matchesPattern } from "../core/reviews/pattern.js";
import { parsePrincipal } from "../core/reviews/principals.js";
import type { ReviewFacts } from "../core/reviews/types.js";
import { combineVerdict } from "../core/verdict/combine.js";
import type { RuleResult, Verdict } from "../core/verdict/types.js";
import { readCodeowners, readKeyring } from "./base-config.js";
import { auditBranchProtection } from "./protection/audit.js";
import type { Decision } from "./decision.js";
import { githubFileSource } from "./file-source.js";
import { FactsError, type GitHub, type RepoRef } from "./octokit.js";
import { fetchPermissions, fetchTeamMembers } from "./people.js";
import { judgeBase, readPolicyOutcome } from "./record-ref-base.js";
import { fetchPullSnapshot, type PullSnapshot } from "./pull-facts.js";
import { signatureRule } from "./signature-facts.js";
import type { CheckAnnotation } from "../core/secrets/index.js";
import { secretsVerdict } from "./secret-facts.js";

export type Evaluation =
  | { kind: "ungoverned"; baseRef: string; snapshot: PullSnapshot }
  /** The base is a record ref: the PR fails whatever policy its base carries (record-ref-base.ts). */
  | { kind: "record-ref"; baseRef: string; verdict: Verdict; decision: Decision; snapshot: PullSnapshot }
  | {
      kind: "evaluated";
      verdict: Verdict;
      decision: Decision;
      notes: string[];
      snapshot: PullSnapshot;
      policy: Policy;
      branchPolicy: BranchPolicy;
      /** Check-run annotations (secrets findings at file and line), in batches of at most 50. */
      annotationBatches: CheckAnnotation[][];
    };

export interface EvaluationTarget {
  repo: RepoRef;
  number: number;
  headSha: string;
  lastPusher: string | null;
  /**
   * The app whose check must be required: when given, the base branch's effective protection is
   * audited against the policy (unless its mode is off) and drift is a rule of the verdict.
   */
  protection?: { appId: number; appSlug: () => Promise<string> };
}

/** Teams the rules may need to resolve: code owners of changed files, path-rule approvers, admins. */
function teamsToResolve(
  policy: Policy,
  branch: BranchPolicy,
  codeowners: CodeownersMatcher | null,
  files: string[],
): string[] {
  const principals = new Set<string>(policy.admins);
  for (const rule of branch.pathRules) for (const p of rule.from) principals.add(p);
  if (codeowners) for (const f of files) for (const o of codeowners.ownersOf(f).owners) principals.add(o);
  const teams: string[] = [];
  for (const p of principals) {
    const parsed = parsePrincipal(p);
    if (parsed.kind === "team") teams.push(`${parsed.org}/${parsed.slug}`);
  }
  return teams;
}

/**
 * Evaluates one PR head against the policy of its base branch. Everything trusted (policy,
 * CODEOWNERS, keyrings) is read at the base SHA; everything about the PR is read for exactly the
 * head SHA. Throws FactsError when the facts are incomplete; the caller fails closed.
 */
export async function evaluatePull(gh: GitHub, target: EvaluationTarget): Promise<Evaluation> {
  const snapshot = await fetchPullSnapshot(gh, target.repo, target.number, target.headSha);
  // Before anything else the base's tree says: a record ref's head may carry any policy, or none.
  const baseOutcome = await readPolicyOutcome(gh, target.repo, snapshot.baseSha);
  const recordRef = await judgeBase(gh, target.repo, snapshot, baseOutcome);
  if (recordRef.kind === "record-ref") return recordRefEvaluation(target, snapshot, recordRef);
  if (recordRef.kind === "unsure") throw new FactsError(recordRef.reason);
  if (baseOutcome.kind === "error") throw baseOutcome.error;
  const effective = baseOutcome.kind === "policy" ? baseOutcome.effective : null;
  const branch = effective ? branchPolicyFor(effective.policy, snapshot.baseRef) : null;
  if (!effective || !branch) return { kind: "ungoverned", baseRef: snapshot.baseRef, snapshot };
  const { policy, digest } = effective;
  const notes: string[] = [...effective.notes];

  const base = githubFileSource(gh, target.repo, snapshot.baseSha);
  const [codeownersFile, keyring] = await Promise.all([
    readCodeowners(base),
    readKeyring(
      base,
      branch.signatures.openpgpKeyrings,
      branch.signatures.sshAllowedSigners,
      branch.signatures.signerLogins,
    ),
  ]);
  let codeowners: CodeownersMatcher | null = null;
  let codeownersErrors: RuleResult | null = null;
  if (codeownersFile) {
    const parsed = parseCodeowners(codeownersFile.text);
    codeowners = compileCodeowners(parsed);
    codeownersErrors = codeownersErrorsRule({
      path: codeownersFile.path,
      errors: parsed.errors,
      changedFiles: snapshot.changedFiles,
    });
  } else if (branch.reviews.requireCodeOwnerReview) {
    notes.push("No CODEOWNERS file on the base branch: code-owner review requires nothing.");
  }

  // Reviewers' permissions and team rosters are asked together, in parallel.
  const reviewers = snapshot.reviews.map((r) => r.user);
  const [permissions, teamMembers, signatures] = await Promise.all([
    fetchPermissions(gh, target.repo, reviewers),
    fetchTeamMembers(gh, teamsToResolve(policy, branch, codeowners, snapshot.changedFiles)),
    signatureRule(gh, target.repo, branch.signatures, keyring, snapshot),
  ]);

  const head = snapshot.commits[snapshot.commits.length - 1];
  // Who pushed the head: the synchronize event's sender, else our last decision; failing both, the
  // head commit's committer account is the best evidence GitHub offers.
  const lastPusher = target.lastPusher ?? head?.committerLogin ?? head?.authorLogin ?? null;
  notes.push(...signatures.keyringNotes.map((n) => `keyring: ${n}`));
  const facts: ReviewFacts = {
    author: snapshot.author,
    headSha: snapshot.headSha,
    lastPusher,
    changedFiles: snapshot.changedFiles,
    reviews: snapshot.reviews,
    permissions,
    teamMembers,
    // Who signed the PR's commits: their approvals are self-approvals (docs/policy.md, "Who signed").
    signers: signatures.signers,
  };
  const rules: RuleResult[] = [
    signatures.rule,
    ...evaluateReviews({
      facts,
      reviews: branch.reviews,
      pathRules: branch.pathRules,
      admins: policy.admins,
      sensitivePaths: policy.sensitivePaths,
      codeowners: codeowners ?? { ownersOf: () => ({ owners: [], line: null }) },
      matchesPattern,
    }),
    ...(codeownersErrors ? [codeownersErrors] : []),
  ];
  // --- secrets (docs/policy.md, "secrets"): plaintext credentials in the files the PR adds or
  // modifies, by the base branch's policy; findings become check-run annotations, never the secret.
  const secrets = await secretsVerdict(gh, target.repo, snapshot, branch.secrets);
  rules.push(secrets.result);
  // --- end secrets ---
  if (target.protection && branch.protection.mode !== "off") {
    // Drift shows in the PR check: a gate is only as strong as the protection that makes it mandatory.
    const audit = await auditBranchProtection(
      gh,
      target.repo,
      snapshot.baseRef,
      { environment: branch.environment, protection: branch.protection },
      { appId: target.protection.appId, appSlug: await target.protection.appSlug() },
    );
    rules.push(audit.result);
  }
  const verdict = combineVerdict(snapshot.headSha, digest, rules, { factsHeadShas: [snapshot.headSha] });
  // The record names exactly the approvals the rules counted (after the last-push rule).
  const approvers = effectiveApprovers(facts, branch.reviews).approverSet.approvers.map((a) =>
    a.login.toLowerCase(),
  );
  const decision: Decision = {
    version: 1,
    repository: `${target.repo.owner}/${target.repo.repo}`,
    pullRequest: target.number,
    headSha: snapshot.headSha,
    headTree: head?.tree ?? null,
    baseRef: snapshot.baseRef,
    baseSha: snapshot.baseSha,
    environment: branch.environment,
    policyDigest: digest,
    approvedBy: [...new Set(approvers)].sort(),
    reviews: snapshot.reviews.map((r) => ({ user: r.user, state: r.state, commitId: r.commitId })),
    signatures: signatures.verdicts.map((v) => ({
      commit: v.commit,
      verified: v.verified,
      format: v.format,
      key: v.keyFingerprint,
    })),
    lastPusher,
    status: verdict.status,
    rules: verdict.rules.map((r) => ({ id: r.id, status: r.status })),
  };
  return {
    kind: "evaluated",
    verdict,
    decision,
    notes,
    snapshot,
    policy,
    branchPolicy: branch,
    annotationBatches: secrets.annotationBatches,
  };
}

/** A PR into a record ref: one failing rule saying why and what to do (close it). */
function recordRefEvaluation(
  target: EvaluationTarget,
  snapshot: PullSnapshot,
  judgement: Extract<RecordRefJudgement, { kind: "record-ref" }>,
): Evaluation {
  const verdict = combineVerdict(
    snapshot.headSha,
    "unknown",
    [recordRefPullRule(snapshot.baseRef, judgement)],
    {
      factsHeadShas: [snapshot.headSha],
    },
  );
  const head = snapshot.commits[snapshot.commits.length - 1];
  const decision: Decision = {
    version: 1,
    repository: `${target.repo.owner}/${target.repo.repo}`,
    pullRequest: target.number,
    headSha: snapshot.headSha,
    headTree: head?.tree ?? null,
    baseRef: snapshot.baseRef,
    baseSha: snapshot.baseSha,
    // No environment: nothing this PR does is ever published.
    environment: null,
    policyDigest: verdict.policyDigest,
    approvedBy: [],
    reviews: snapshot.reviews.map((r) => ({ user: r.user, state: r.state, commitId: r.commitId })),
    signatures: [],
    lastPusher: target.lastPusher,
    status: verdict.status,
    rules: verdict.rules.map((r) => ({ id: r.id, status: r.status })),
  };
  return { kind: "record-ref", baseRef: snapshot.baseRef, verdict, decision, snapshot };
}
