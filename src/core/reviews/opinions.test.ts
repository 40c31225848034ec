import { describe, expect, it } from "vitest";
import { latestOpinions } from "./opinions.js";
import { HEAD, OLD, review } from "./__fixtures__/facts.js";

describe("latestOpinions", () => {
  it("takes each reviewer's latest APPROVED or CHANGES_REQUESTED review, with its commit", () => {
    const approve = review("alice", "APPROVED", OLD);
    const opinions = latestOpinions([review("alice", "CHANGES_REQUESTED", OLD), approve]);
    expect([...opinions.entries()]).toEqual([
      ["alice", { user: "alice", state: "APPROVED", commitId: OLD, reviewId: approve.id }],
    ]);
  });

  it("approve then request changes: the change request is the opinion", () => {
    const opinions = latestOpinions([review("bob", "APPROVED"), review("bob", "CHANGES_REQUESTED")]);
    expect(opinions.get("bob")?.state).toBe("CHANGES_REQUESTED");
  });

  it("approve then comment: still approved", () => {
    const approve = review("bob", "APPROVED");
    const opinions = latestOpinions([approve, review("bob", "COMMENTED"), review("bob", "PENDING")]);
    expect(opinions.get("bob")).toMatchObject({ state: "APPROVED", reviewId: approve.id });
  });

  it("a dismissed review removes the opinion it was", () => {
    // GitHub lists a dismissed review with state DISMISSED in its original place.
    expect(latestOpinions([review("bob", "DISMISSED")]).has("bob")).toBe(false);
    // Dismissing a later change request does not resurrect an earlier approval (fail closed).
    expect(latestOpinions([review("bob", "APPROVED"), review("bob", "DISMISSED")]).has("bob")).toBe(false);
  });

  it("a dismissed older review does not remove a newer opinion", () => {
    const later = review("bob", "APPROVED");
    const opinions = latestOpinions([review("bob", "DISMISSED"), later]);
    expect(opinions.get("bob")?.reviewId).toBe(later.id);
  });

  it("treats logins case-insensitively: one reviewer, latest review wins", () => {
    const opinions = latestOpinions([review("Bob", "APPROVED"), review("bob", "CHANGES_REQUESTED")]);
    expect(opinions.size).toBe(1);
    expect(opinions.get("bob")).toMatchObject({ user: "bob", state: "CHANGES_REQUESTED" });
    expect(latestOpinions([review("Bob", "APPROVED"), review("BOB", "DISMISSED")]).size).toBe(0);
  });

  it("keeps reviewers apart", () => {
    const opinions = latestOpinions([
      review("alice", "APPROVED", HEAD),
      review("bob", "CHANGES_REQUESTED", OLD),
    ]);
    expect(opinions.get("alice")?.state).toBe("APPROVED");
    expect(opinions.get("bob")).toMatchObject({ state: "CHANGES_REQUESTED", commitId: OLD });
  });
});
