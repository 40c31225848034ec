/**
 * Test-only builders for review facts and a literal CODEOWNERS matcher. The real CODEOWNERS
 * matcher is built elsewhere; these tests need only "this path has these owners".
 */
import type { CodeownersMatcher, OwnersMatch } from "../../codeowners/types.js";
import type { ReviewPolicy } from "../../policy/types.js";
import type { Review, ReviewFacts, ReviewState } from "../types.js";

export const HEAD = "h".repeat(40);
export const OLD = "0".repeat(40);

let nextId = 1;

export function review(user: string, state: ReviewState, commitId: string = HEAD): Review {
  const id = nextId++;
  return { id, user, state, commitId, submittedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString() };
}

export function facts(overrides: Partial<ReviewFacts> = {}): ReviewFacts {
  return {
    author: "author",
    headSha: HEAD,
    lastPusher: "author",
    changedFiles: ["app/main.ts"],
    reviews: [],
    permissions: { author: "write", alice: "write", bob: "write", carol: "maintain", dave: "admin" },
    teamMembers: {},
    signers: [],
    ...overrides,
  };
}

export function policy(overrides: Partial<ReviewPolicy> = {}): ReviewPolicy {
  return {
    requiredApprovals: 1,
    requireCodeOwnerReview: false,
    dismissStaleApprovals: true,
    requireLastPushApproval: false,
    ...overrides,
  };
}

/**
 * Owners by exact path or by directory prefix ("dir/"); the longest matching key wins, standing in
 * for "last match wins" in a real CODEOWNERS file.
 */
export function literalMatcher(table: Record<string, string[]>): CodeownersMatcher {
  const entries = Object.entries(table);
  return {
    ownersOf(path: string): OwnersMatch {
      let bestKey = "";
      let result: OwnersMatch = { owners: [], line: null };
      for (const [index, [key, owners]] of entries.entries()) {
        const hit = key.endsWith("/") ? path.startsWith(key) : path === key;
        if (hit && key.length > bestKey.length) {
          bestKey = key;
          result = { owners, line: index + 1 };
        }
      }
      return result;
    },
  };
}
