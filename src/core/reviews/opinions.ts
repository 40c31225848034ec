/**
 * A reviewer's opinion, per GitHub's rules for `pulls/{n}/reviews` (listed oldest first): their
 * latest APPROVED or CHANGES_REQUESTED review. COMMENTED and PENDING reviews do not change it.
 * A dismissed review is listed with state DISMISSED (GitHub rewrites the review's state in place);
 * since it was that user's latest decisive review when it was given, it clears their opinion, and
 * only a later APPROVED/CHANGES_REQUESTED review gives them a new one.
 */
import type { Review } from "./types.js";
import { normalizeLogin } from "./principals.js";

export interface Opinion {
  /** Reviewer login as written on their latest decisive review. */
  user: string;
  state: "APPROVED" | "CHANGES_REQUESTED";
  /** The head SHA the opinion was given on: approvals are tied to SHAs, never to timestamps. */
  commitId: string;
  reviewId: number;
}

/**
 * Each reviewer's current opinion, keyed by lower-cased login (logins are case-insensitive, so
 * "Alice" and "alice" are one reviewer). Reviews are taken in the order given, which must be
 * GitHub's oldest-first order.
 */
export function latestOpinions(reviews: readonly Review[]): Map<string, Opinion> {
  const opinions = new Map<string, Opinion>();
  for (const review of reviews) {
    const key = normalizeLogin(review.user);
    switch (review.state) {
      case "APPROVED":
      case "CHANGES_REQUESTED":
        opinions.set(key, {
          user: review.user,
          state: review.state,
          commitId: review.commitId,
          reviewId: review.id,
        });
        break;
      case "DISMISSED":
        opinions.delete(key);
        break;
      case "COMMENTED":
      case "PENDING":
        break;
    }
  }
  return opinions;
}
