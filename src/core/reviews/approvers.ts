/**
 * Whose approval counts (docs/architecture.md, invariant 3): someone other than the author and
 * other than anyone who signed a commit of the PR (a signer produced the change, docs/policy.md
 * "Who signed"), with write access, whose latest opinion is APPROVED and, when stale approvals are
 * dismissed, was given on the current head. Everyone else's approval is listed with the reason it
 * does not count, so the check run can say exactly why ("@alice: author's own approval").
 */
import type { ReviewPolicy } from "../policy/types.js";
import type { Permission, Review, ReviewFacts } from "./types.js";
import { latestOpinions } from "./opinions.js";
import { normalizeLogin, sameLogin } from "./principals.js";

export interface Approval {
  login: string;
  /** The head SHA the approval was given on. */
  commitId: string;
  reviewId: number;
}

export interface IgnoredApproval extends Approval {
  reason: string;
}

/** A writer (not the author) whose latest opinion requests changes: this blocks merging, as on GitHub. */
export interface ChangeRequest {
  login: string;
  commitId: string;
  reviewId: number;
}

export interface ApproverSet {
  approvers: Approval[];
  ignored: IgnoredApproval[];
  changesRequested: ChangeRequest[];
}

const WRITE_PERMISSIONS: ReadonlySet<Permission> = new Set(["write", "maintain", "admin"]);
/** Weakest first. */
const PERMISSION_RANK: readonly Permission[] = ["none", "read", "triage", "write", "maintain", "admin"];

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * Permission lookup by case-insensitive login. A user missing from the facts has none (fail
 * closed); should the facts list one login twice in different cases, the weakest entry wins.
 */
export function permissionOf(permissions: Record<string, Permission>, login: string): Permission {
  const wanted = normalizeLogin(login);
  const found = Object.entries(permissions)
    .filter(([user]) => normalizeLogin(user) === wanted)
    .map(([, permission]) => permission);
  if (found.length === 0) return "none";
  return found.reduce((weakest, p) =>
    PERMISSION_RANK.indexOf(p) < PERMISSION_RANK.indexOf(weakest) ? p : weakest,
  );
}

function withoutWriteReason(permission: Permission): string {
  switch (permission) {
    case "read":
      return "read-only permission";
    case "triage":
      return "triage permission (no write access)";
    default:
      return "no permission on the repository";
  }
}

export function hasWriteAccess(permissions: Record<string, Permission>, login: string): boolean {
  return WRITE_PERMISSIONS.has(permissionOf(permissions, login));
}

export function countingApprovers(facts: ReviewFacts, reviewPolicy: ReviewPolicy): ApproverSet {
  const opinions = latestOpinions(facts.reviews);
  const approvers: Approval[] = [];
  const ignored: IgnoredApproval[] = [];
  const changesRequested: ChangeRequest[] = [];

  const signed = new Map<string, string[]>();
  for (const s of facts.signers) {
    const key = normalizeLogin(s.login);
    signed.set(key, [...(signed.get(key) ?? []), s.commit]);
  }

  for (const opinion of opinions.values()) {
    const isAuthor = sameLogin(opinion.user, facts.author);
    const signedCommits = signed.get(normalizeLogin(opinion.user));
    const canWrite = hasWriteAccess(facts.permissions, opinion.user);
    const approval: Approval = {
      login: opinion.user,
      commitId: opinion.commitId,
      reviewId: opinion.reviewId,
    };

    if (opinion.state === "CHANGES_REQUESTED") {
      // The author's own review cannot block (GitHub does not allow it; a sandbox might), and a
      // reader's change request does not block on GitHub either.
      if (!isAuthor && canWrite) changesRequested.push(approval);
      continue;
    }
    if (isAuthor) {
      ignored.push({ ...approval, reason: "author's own approval" });
    } else if (signedCommits !== undefined) {
      const commits = [...new Set(signedCommits.map(shortSha))];
      ignored.push({
        ...approval,
        reason: `self-approval: signed ${commits.length === 1 ? "commit" : "commits"} ${commits.join(", ")} of this pull request`,
      });
    } else if (!canWrite) {
      ignored.push({
        ...approval,
        reason: withoutWriteReason(permissionOf(facts.permissions, opinion.user)),
      });
    } else if (reviewPolicy.dismissStaleApprovals && opinion.commitId !== facts.headSha) {
      ignored.push({ ...approval, reason: `approved older head ${shortSha(opinion.commitId)} (stale)` });
    } else {
      approvers.push(approval);
    }
  }

  ignored.push(...supersededApprovals(facts.reviews, opinions, facts.author));
  return { approvers, ignored, changesRequested };
}

/**
 * Approvals that are no longer anyone's opinion: a later review requested changes, or a later
 * review was dismissed. Listed so the check explains why an approval visible on the PR is not
 * counted. The author's are left out: they never count anyway and are reported once above.
 */
function supersededApprovals(
  reviews: readonly Review[],
  opinions: ReturnType<typeof latestOpinions>,
  author: string,
): IgnoredApproval[] {
  const lastApproval = new Map<string, Review>();
  for (const review of reviews) {
    if (review.state === "APPROVED" && !sameLogin(review.user, author)) {
      lastApproval.set(normalizeLogin(review.user), review);
    }
  }
  const result: IgnoredApproval[] = [];
  for (const [key, review] of lastApproval) {
    const opinion = opinions.get(key);
    if (opinion?.reviewId === review.id) continue;
    result.push({
      login: review.user,
      commitId: review.commitId,
      reviewId: review.id,
      reason: opinion ? "latest review requests changes" : "a later review was dismissed",
    });
  }
  return result;
}
