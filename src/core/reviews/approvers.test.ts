import { describe, expect, it } from "vitest";
import { countingApprovers, permissionOf } from "./approvers.js";
import { HEAD, OLD, facts, policy, review } from "./__fixtures__/facts.js";

const logins = (list: { login: string }[]) => list.map((a) => a.login);

describe("countingApprovers", () => {
  it("counts a writer's approval on the head", () => {
    const result = countingApprovers(facts({ reviews: [review("alice", "APPROVED")] }), policy());
    expect(result.approvers).toEqual([{ login: "alice", commitId: HEAD, reviewId: expect.any(Number) }]);
    expect(result.ignored).toEqual([]);
    expect(result.changesRequested).toEqual([]);
  });

  it("attack: the author approving their own PR does not count", () => {
    const result = countingApprovers(facts({ reviews: [review("author", "APPROVED")] }), policy());
    expect(result.approvers).toEqual([]);
    expect(result.ignored).toMatchObject([{ login: "author", reason: "author's own approval" }]);
  });

  it("attack: the author approving under a different letter case does not count", () => {
    const result = countingApprovers(
      facts({ author: "Alice", reviews: [review("alice", "APPROVED"), review("ALICE", "APPROVED")] }),
      policy(),
    );
    expect(result.approvers).toEqual([]);
    expect(result.ignored).toMatchObject([{ login: "ALICE", reason: "author's own approval" }]);
  });

  it("attack: read and triage approvals do not count; unknown users have no permission", () => {
    const result = countingApprovers(
      facts({
        permissions: { eve: "read", trent: "triage" },
        reviews: [review("eve", "APPROVED"), review("trent", "APPROVED"), review("mallory", "APPROVED")],
      }),
      policy(),
    );
    expect(result.approvers).toEqual([]);
    expect(result.ignored.map((i) => [i.login, i.reason])).toEqual([
      ["eve", "read-only permission"],
      ["trent", "triage permission (no write access)"],
      ["mallory", "no permission on the repository"],
    ]);
  });

  it("looks permissions up case-insensitively and takes the weakest of conflicting entries", () => {
    expect(permissionOf({ Alice: "admin" }, "alice")).toBe("admin");
    expect(permissionOf({ Alice: "admin", alice: "read" }, "ALICE")).toBe("read");
    expect(permissionOf({}, "alice")).toBe("none");
  });

  it("counts write, maintain and admin", () => {
    const result = countingApprovers(
      facts({
        reviews: [review("bob", "APPROVED"), review("carol", "APPROVED"), review("dave", "APPROVED")],
      }),
      policy(),
    );
    expect(logins(result.approvers)).toEqual(["bob", "carol", "dave"]);
  });

  it("attack: an approval given before a new push is stale when stale approvals are dismissed", () => {
    const reviews = [review("alice", "APPROVED", OLD)];
    const strict = countingApprovers(facts({ reviews }), policy({ dismissStaleApprovals: true }));
    expect(strict.approvers).toEqual([]);
    expect(strict.ignored).toMatchObject([{ login: "alice", reason: "approved older head 0000000 (stale)" }]);

    const lax = countingApprovers(facts({ reviews }), policy({ dismissStaleApprovals: false }));
    expect(lax.approvers).toMatchObject([{ login: "alice", commitId: OLD }]);
  });

  it("attack: approve then request changes: the approval is gone and the change request blocks", () => {
    const result = countingApprovers(
      facts({ reviews: [review("bob", "APPROVED"), review("bob", "CHANGES_REQUESTED", OLD)] }),
      policy(),
    );
    expect(result.approvers).toEqual([]);
    expect(result.changesRequested).toMatchObject([{ login: "bob", commitId: OLD }]);
    expect(result.ignored).toMatchObject([{ login: "bob", reason: "latest review requests changes" }]);
  });

  it("approve then comment: still counts", () => {
    const result = countingApprovers(
      facts({ reviews: [review("bob", "APPROVED"), review("bob", "COMMENTED")] }),
      policy(),
    );
    expect(logins(result.approvers)).toEqual(["bob"]);
  });

  it("approve then dismissed: gone", () => {
    const result = countingApprovers(facts({ reviews: [review("bob", "DISMISSED")] }), policy());
    expect(result.approvers).toEqual([]);
    const again = countingApprovers(
      facts({ reviews: [review("bob", "APPROVED"), review("bob", "DISMISSED")] }),
      policy(),
    );
    expect(again.approvers).toEqual([]);
    expect(again.ignored).toMatchObject([{ login: "bob", reason: "a later review was dismissed" }]);
  });

  it("change requests from the author or from non-writers do not block (as on GitHub)", () => {
    const result = countingApprovers(
      facts({
        permissions: { eve: "read", bob: "write" },
        reviews: [review("author", "CHANGES_REQUESTED"), review("eve", "CHANGES_REQUESTED")],
      }),
      policy(),
    );
    expect(result.changesRequested).toEqual([]);
  });

  it("a stale change request still blocks: only approvals go stale", () => {
    const result = countingApprovers(facts({ reviews: [review("bob", "CHANGES_REQUESTED", OLD)] }), policy());
    expect(logins(result.changesRequested)).toEqual(["bob"]);
  });
});
