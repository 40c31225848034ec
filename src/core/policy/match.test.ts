import { describe, expect, it } from "vitest";
import { globToRegExp, matchesBranch } from "./glob.js";
import { branchPolicyFor } from "./match.js";
import { parsePolicy } from "./parse.js";

describe("branch globs", () => {
  it.each([
    ["main", "main", true],
    ["main", "main2", false],
    ["main", "Main", false],
    ["release/*", "release/1.2", true],
    ["release/*", "release/1/hotfix", false],
    ["release/*", "release/", true],
    ["release/**", "release/1/hotfix", true],
    ["release-*", "release-1", true],
    ["*", "feature/x", false],
    ["**", "feature/x", true],
    ["v1.*", "v1x2", false],
    ["v1.*", "v1.2", true],
    ["a+b", "aab", false],
  ])("%s matches %s: %s", (pattern, branch, expected) => {
    expect(matchesBranch(pattern, branch)).toBe(expected);
  });

  it("escapes every regular-expression metacharacter of a pattern", () => {
    expect(globToRegExp("(a|b)*").test("a")).toBe(false);
    expect(globToRegExp("(a|b)*").test("(a|b)x")).toBe(true);
  });
});

describe("branchPolicyFor", () => {
  const { policy } = parsePolicy(
    `version: 1
branches:
  - branch: main
    environment: production
  - branch: release/*
    environment: release
  - branch: "**"
    environment: everything-else
    reviews: {required_approvals: 0}
`,
    "p.yml",
  );
  if (policy === null) throw new Error("policy must parse");

  it("returns the first matching entry", () => {
    expect(branchPolicyFor(policy, "main")?.environment).toBe("production");
    expect(branchPolicyFor(policy, "release/2")?.environment).toBe("release");
    expect(branchPolicyFor(policy, "release/2/x")?.environment).toBe("everything-else");
  });

  it("refuses full ref names and empty names instead of guessing", () => {
    expect(branchPolicyFor(policy, "refs/heads/main")).toBeNull();
    expect(branchPolicyFor(policy, "")).toBeNull();
  });

  it("returns null for an ungoverned branch", () => {
    const only = parsePolicy("version: 1\nbranches:\n  - branch: main\n", "p.yml").policy;
    if (only === null) throw new Error("policy must parse");
    expect(branchPolicyFor(only, "dev")).toBeNull();
  });
});
