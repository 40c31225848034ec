/** GitHub review states as `pulls/{n}/reviews` returns them. */
export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface Review {
  id: number;
  /** Reviewer login. */
  user: string;
  state: ReviewState;
  /** The head SHA the review was given on (GitHub's `commit_id`). */
  commitId: string;
  submittedAt: string;
}

/** Repository permission of a user, as `collaborators/{u}/permission` reports it. */
export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

/**
 * Everything about a PR's reviews the core needs, fetched for exactly one head SHA.
 * Logins are compared case-insensitively (GitHub logins are case-insensitive).
 */
export interface ReviewFacts {
  author: string;
  headSha: string;
  /** Login of whoever pushed the current head (for the last-push rule); null if unknown. */
  lastPusher: string | null;
  /** Paths changed by the PR (complete; the adapter fails closed before calling the core otherwise). */
  changedFiles: string[];
  /** Reviews oldest first, as GitHub lists them. */
  reviews: Review[];
  /** Permission of each reviewer (and anyone else relevant) on the repository. */
  permissions: Record<string, Permission>;
  /** Members of teams named as owners or approvers, keyed "org/team-slug". Missing key = unknown team = no members. */
  teamMembers: Record<string, string[]>;
  /**
   * Who signed the PR's commits, as GitHub logins (the person each signing key maps to,
   * src/core/signatures/signer-person.ts). Their approvals are self-approvals and never count:
   * a person who produced a change cannot be the one who approves it. Required so that every
   * caller decides it (an empty list says "nobody signed").
   */
  signers: ReadonlyArray<{ commit: string; login: string }>;
}
