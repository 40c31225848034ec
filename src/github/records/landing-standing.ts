/**
 * Finding 3 of issue 12, the pure part: at landing, the approvals pullgate's decision counted are
 * judged again with current facts (repository permission, team membership) against the policy and
 * CODEOWNERS of the base the PR was approved against, by the core's own review evaluation
 * (src/core/reviews), not a second one. A landing the current facts would not pass gets no record,
 * and the reasons say which approval lapsed (docs/threat-model.md).
 *
 * Pure: the adapter (recheck.ts) gathers the facts.
 */
import type { CodeownersMatcher } from "../../core/codeowners/types.js";
import type { BranchPolicy, Policy } from "../../core/policy/types.js";
import { effectiveApprovers, evaluateReviews } from "../../core/reviews/evaluate.js";
import { matchesPattern } from "../../core/reviews/pattern.js";
import { parsePrincipal } from "../../core/reviews/principals.js";
import type { Permission, Review, ReviewFacts, ReviewState } from "../../core/reviews/types.js";
import type { Decision } from "../decision.js";

const REVIEW_STATES: ReadonlySet<string> = new Set([
  "APPROVED",
  "CHANGES_REQUESTED",
  "COMMENTED",
  "DISMISSED",
  "PENDING",
]);

export interface StandingInput {
  decision: Decision;
  /** The PR's author (GitHub's `user.login` of the merged PR). */
  author: string;
  /** Every path the PR changed (complete). */
  changedFiles: string[];
  policy: Policy;
  branch: BranchPolicy;
  /** Built from the CODEOWNERS at decision.baseSha. */
  codeowners: CodeownersMatcher;
  /** Current permission of every reviewer in decision.reviews, lowercase logins. */
  permissions: Record<string, Permission>;
  /** Current members of the teams teamsToResolve names. */
  teamMembers: Record<string, string[]>;
}

export type Standing =
  | { ok: true }
  | {
      ok: false;
      /** Approvers the decision counted who no longer have write access. */
      lostAccess: string[];
      /** Every other approval that lapsed, and every rule current facts fail, one sentence each. */
      lapsed: string[];
    };

/** Teams the rules may need for these files: code owners, path-rule approvers, policy admins. */
export function teamsToResolve(
  policy: Policy,
  branch: BranchPolicy,
  codeowners: CodeownersMatcher,
  files: readonly string[],
): string[] {
  const principals = new Set<string>(policy.admins);
  for (const rule of branch.pathRules) for (const p of rule.from) principals.add(p);
  for (const f of files) for (const o of codeowners.ownersOf(f).owners) principals.add(o);
  const teams: string[] = [];
  for (const p of principals) {
    const parsed = parsePrincipal(p);
    if (parsed.kind === "team") teams.push(`${parsed.org}/${parsed.slug}`);
  }
  return teams;
}

/** The reviews the decision recorded, oldest first, in the core's shape. */
export function decisionReviews(decision: Decision): Review[] | null {
  const reviews: Review[] = [];
  for (const [i, r] of decision.reviews.entries()) {
    if (!REVIEW_STATES.has(r.state) || typeof r.user !== "string" || typeof r.commitId !== "string")
      return null;
    // Order is what the core's opinion rules use; ids only identify reviews within this list.
    reviews.push({
      id: i + 1,
      user: r.user,
      state: r.state as ReviewState,
      commitId: r.commitId,
      submittedAt: "",
    });
  }
  return reviews;
}

const WRITE: ReadonlySet<string> = new Set(["write", "maintain", "admin"]);

const at = (logins: readonly string[]) => logins.map((l) => `@${l}`).join(", ");

/** Whether the decision's approvals still stand with the current facts, and if not, which lapsed. */
export function landingStanding(input: StandingInput): Standing {
  const { decision, branch } = input;
  const recorded = decisionReviews(decision);
  if (recorded === null)
    return { ok: false, lostAccess: [], lapsed: ["pullgate's decision lists a review it cannot read"] };
  // Current facts may only take approvals away, never add one: an approval the decision did not
  // count (a commit signer's, the author's, a stale one) must not stand in for one that lapsed. The
  // decision does not carry who signed, so signers are excluded here through approvedBy.
  const counted = new Set(decision.approvedBy.map((l) => l.toLowerCase()));
  const reviews = recorded.filter((r) => r.state !== "APPROVED" || counted.has(r.user.toLowerCase()));
  const facts: ReviewFacts = {
    author: input.author,
    headSha: decision.headSha,
    lastPusher: decision.lastPusher,
    changedFiles: input.changedFiles,
    reviews,
    permissions: input.permissions,
    teamMembers: input.teamMembers,
    signers: [],
  };
  const lapsed: string[] = [];
  const lostAccess: string[] = [];
  const { approverSet } = effectiveApprovers(facts, branch.reviews);
  const counting = new Set(approverSet.approvers.map((a) => a.login.toLowerCase()));
  for (const login of decision.approvedBy) {
    if (counting.has(login.toLowerCase())) continue;
    const why = approverSet.ignored.find((i) => i.login.toLowerCase() === login.toLowerCase())?.reason;
    if (!WRITE.has(input.permissions[login.toLowerCase()] ?? "none")) {
      lostAccess.push(login);
      continue;
    }
    lapsed.push(`@${login}'s approval no longer counts${why ? ` (${why})` : ""}`);
  }
  const still = decision.approvedBy.filter((l) => counting.has(l.toLowerCase()));
  const rules = evaluateReviews({
    facts,
    reviews: branch.reviews,
    pathRules: branch.pathRules,
    admins: input.policy.admins,
    sensitivePaths: input.policy.sensitivePaths,
    codeowners: input.codeowners,
    matchesPattern,
  });
  for (const rule of rules) {
    if (rule.status === "pass") continue;
    const owners = rule.missing.filter((m) => m.kind === "owner-approval");
    if (owners.length > 0 && still.length > 0) {
      for (const m of owners)
        lapsed.push(
          `${at(still)}'s approval no longer satisfies ${m.owners.join(", ")} for ${m.files.join(", ")} (${rule.title})`,
        );
    } else {
      lapsed.push(`${rule.title}: ${rule.summary}`);
    }
  }
  return lapsed.length === 0 && lostAccess.length === 0 ? { ok: true } : { ok: false, lostAccess, lapsed };
}
