import { describe, expect, it } from "vitest";
import { judgeRecordRefBase, recordRefPullRule, type PrefixSource } from "./record-ref-pull.js";

const policy = (prefix: string, where = "main"): PrefixSource => ({ kind: "policy", prefix, where });
const none: PrefixSource = { kind: "none", where: "main" };
const broken: PrefixSource = { kind: "error", reason: "policy.yml:3:1: bad", where: "main" };

describe("judgeRecordRefBase", () => {
  it("a base under the governing policy's prefix is a record ref, with its environment", () => {
    expect(judgeRecordRefBase("approved/production", policy("approved/"), policy("approved/"))).toEqual({
      kind: "record-ref",
      prefix: "approved/",
      environment: "production",
      namedBy: "main",
    });
    expect(judgeRecordRefBase("records/eu/prod", policy("records/"), none)).toMatchObject({
      kind: "record-ref",
      environment: "eu/prod",
    });
  });

  it("is a record ref even when the base's own policy is missing or broken (its tree is not trusted)", () => {
    expect(judgeRecordRefBase("approved/production", policy("approved/"), none).kind).toBe("record-ref");
    expect(judgeRecordRefBase("approved/production", policy("approved/"), broken).kind).toBe("record-ref");
  });

  it("without a governing policy, pullgate's default prefix counts (fail closed)", () => {
    expect(judgeRecordRefBase("approved/production", none, none)).toMatchObject({
      kind: "record-ref",
      prefix: "approved/",
    });
    expect(judgeRecordRefBase("approved/production", broken, none)).toMatchObject({
      kind: "record-ref",
      prefix: "approved/",
    });
  });

  it("a custom prefix makes approved/* an ordinary branch, and its own refs record refs", () => {
    expect(judgeRecordRefBase("approved/production", policy("records/"), policy("records/"))).toEqual({
      kind: "not-record-ref",
    });
    expect(judgeRecordRefBase("records/production", policy("records/"), policy("records/")).kind).toBe(
      "record-ref",
    );
  });

  it("the base's own policy can only add a prefix, never take the governing one away", () => {
    expect(judgeRecordRefBase("approved/production", policy("approved/"), policy("other/")).kind).toBe(
      "record-ref",
    );
    expect(judgeRecordRefBase("other/production", policy("approved/"), policy("other/")).kind).toBe(
      "record-ref",
    );
  });

  it("is unsure when the governing policy is unreadable and the base matches nothing", () => {
    const j = judgeRecordRefBase("release/2", broken, none);
    expect(j.kind).toBe("unsure");
    expect(j.kind === "unsure" && j.reason).toContain("policy.yml:3:1: bad");
  });

  it("ordinary branches, and the prefix itself, are not record refs", () => {
    expect(judgeRecordRefBase("main", policy("approved/"), policy("approved/")).kind).toBe("not-record-ref");
    expect(judgeRecordRefBase("approved/", policy("approved/"), none).kind).toBe("not-record-ref");
    expect(judgeRecordRefBase("approvedx", policy("approved/"), none).kind).toBe("not-record-ref");
  });
});

describe("recordRefPullRule", () => {
  it("fails, says record refs are written only by pullgate, and says to close the PR", () => {
    const rule = recordRefPullRule("approved/production", {
      prefix: "approved/",
      environment: "production",
      namedBy: "the default branch main",
    });
    expect(rule.status).toBe("fail");
    expect(rule.summary).toContain("only pullgate writes it");
    expect(rule.fix.join(" ")).toMatch(/^Close this pull request/);
    expect(rule.fix.join(" ")).toContain("the branch that feeds production");
  });
});
