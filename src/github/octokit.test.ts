import { describe, expect, it } from "vitest";
import { SECONDARY_LIMIT_MAX_WAIT_S, SECONDARY_LIMIT_RETRIES, retryAfterSecondaryLimit } from "./octokit.js";

describe('retryAfterSecondaryLimit (docs/operations.md, "Rate limits")', () => {
  it("waits out a short retry-after, a bounded number of times", () => {
    expect(retryAfterSecondaryLimit(1, 0)).toBe(true);
    expect(retryAfterSecondaryLimit(SECONDARY_LIMIT_MAX_WAIT_S, SECONDARY_LIMIT_RETRIES - 1)).toBe(true);
    // After the last retry the request fails, and the evaluation fails closed.
    expect(retryAfterSecondaryLimit(1, SECONDARY_LIMIT_RETRIES)).toBe(false);
  });

  it("does not hang an evaluation on a long retry-after", () => {
    expect(retryAfterSecondaryLimit(SECONDARY_LIMIT_MAX_WAIT_S + 1, 0)).toBe(false);
  });
});
