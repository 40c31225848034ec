import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { combineVerdict, combinedStatus, factsError } from "./combine.js";
import type { RuleResult, Status } from "./types.js";

const HEAD = "a".repeat(40);
const DIGEST = "sha256:" + "0".repeat(64);

function rule(id: string, status: Status): RuleResult {
  return { id, title: id, status, summary: status, satisfied: [], missing: [], fix: [] };
}

describe("combineVerdict", () => {
  it("passes only when every rule passed", () => {
    const verdict = combineVerdict(HEAD, DIGEST, [rule("a", "pass"), rule("b", "pass")]);
    expect(verdict).toEqual({
      status: "pass",
      headSha: HEAD,
      policyDigest: DIGEST,
      rules: [rule("a", "pass"), rule("b", "pass")],
    });
  });

  it("fails when any rule failed", () => {
    expect(combineVerdict(HEAD, DIGEST, [rule("a", "pass"), rule("b", "fail")]).status).toBe("fail");
  });

  it("errors when any rule errored, even beside failures", () => {
    const rules = [rule("a", "fail"), rule("b", "error"), rule("c", "pending")];
    expect(combineVerdict(HEAD, DIGEST, rules).status).toBe("error");
  });

  it("is pending when something is pending and nothing failed", () => {
    expect(combineVerdict(HEAD, DIGEST, [rule("a", "pass"), rule("b", "pending")]).status).toBe("pending");
    expect(combineVerdict(HEAD, DIGEST, [rule("a", "fail"), rule("b", "pending")]).status).toBe("fail");
  });

  it("fails closed on an empty rule list instead of passing vacuously", () => {
    const verdict = combineVerdict(HEAD, DIGEST, []);
    expect(verdict.status).toBe("error");
    expect(verdict.rules).toEqual([factsError("no rules were evaluated")]);
  });

  it("fails closed when the verdict is not tied to a head SHA", () => {
    const verdict = combineVerdict("", DIGEST, [rule("a", "pass")]);
    expect(verdict.status).toBe("error");
    expect(verdict.rules.map((r) => r.id)).toEqual(["a", "facts"]);
  });

  it("errors when any facts were fetched for another head SHA (a push raced the fetch)", () => {
    const other = "b".repeat(40);
    const verdict = combineVerdict(HEAD, DIGEST, [rule("a", "pass")], { factsHeadShas: [HEAD, other] });
    expect(verdict.status).toBe("error");
    expect(verdict.rules[1]).toMatchObject({
      id: "facts",
      missing: [{ kind: "facts", reason: expect.stringContaining(other) }],
    });
    expect(combineVerdict(HEAD, DIGEST, [rule("a", "pass")], { factsHeadShas: [HEAD, HEAD] }).status).toBe(
      "pass",
    );
  });

  it("treats an unknown status smuggled in at runtime as an error", () => {
    const bogus = { ...rule("a", "pass"), status: "ok" as unknown as Status };
    expect(combineVerdict(HEAD, DIGEST, [bogus]).status).toBe("error");
  });

  it("does not mutate the caller's rule list", () => {
    const rules: RuleResult[] = [];
    combineVerdict(HEAD, DIGEST, rules);
    expect(rules).toEqual([]);
  });

  it("property: pass iff non-empty and all pass; error dominates; fail dominates pending", () => {
    const status = fc.constantFrom<Status>("pass", "fail", "error", "pending");
    fc.assert(
      fc.property(fc.array(status, { maxLength: 8 }), (statuses) => {
        const rules = statuses.map((s, i) => rule(`r${i}`, s));
        const combined = combinedStatus(rules);
        expect(combined === "pass").toBe(statuses.length > 0 && statuses.every((s) => s === "pass"));
        if (statuses.includes("error")) expect(combined).toBe("error");
        else if (statuses.includes("fail")) expect(combined).toBe("fail");
        else if (statuses.includes("pending")) expect(combined).toBe("pending");
      }),
    );
  });
});

describe("factsError", () => {
  it("is an error rule with id facts carrying the reason", () => {
    const result = factsError("PR file listing truncated at 3000 files");
    expect(result.id).toBe("facts");
    expect(result.status).toBe("error");
    expect(result.missing).toEqual([{ kind: "facts", reason: "PR file listing truncated at 3000 files" }]);
    expect(result.summary).toContain("PR file listing truncated at 3000 files");
    expect(combineVerdict(HEAD, DIGEST, [rule("a", "pass"), result]).status).toBe("error");
  });
});
