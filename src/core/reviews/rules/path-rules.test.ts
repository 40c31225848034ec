import { describe, expect, it } from "vitest";
import { pathRuleResult } from "./path-rules.js";
import { TeamDirectory } from "../principals.js";
import { matchesPattern } from "../pattern.js";
import { HEAD } from "../__fixtures__/facts.js";
import type { PathRule } from "../../policy/types.js";

const approval = (login: string) => ({ login, commitId: HEAD, reviewId: 1 });
const teams = new TeamDirectory({ "acme/sre": ["sara", "sid"], "acme/dba": ["dan"] });
const prod: PathRule = {
  name: "cluster-prod",
  paths: ["clusters/prod/"],
  approvals: 2,
  from: ["@acme/sre", "@dave"],
};

function run(rule: PathRule, changedFiles: string[], approvers: string[]) {
  return pathRuleResult(rule, { changedFiles, approvers: approvers.map(approval), teams, matchesPattern });
}

describe("pathRuleResult", () => {
  it("passes when no changed file matches", () => {
    const result = run(prod, ["apps/x.yaml"], []);
    expect(result).toMatchObject({ id: "path:cluster-prod", status: "pass", missing: [] });
  });

  it("counts approvers from the listed teams and users", () => {
    const result = run(prod, ["clusters/prod/a.yaml"], ["sara", "dave", "bob"]);
    expect(result.status).toBe("pass");
    expect(result.satisfied).toEqual([
      "@sara (member of @acme/sre) approved clusters/prod/a.yaml",
      "@dave approved clusters/prod/a.yaml",
    ]);
  });

  it("fails when too few qualifying approvers, listing the matched files", () => {
    const result = run(
      prod,
      ["clusters/prod/a.yaml", "clusters/prod/b/c.yaml", "README.md"],
      ["sara", "bob"],
    );
    expect(result.status).toBe("fail");
    expect(result.missing).toEqual([
      {
        kind: "owner-approval",
        files: ["clusters/prod/a.yaml", "clusters/prod/b/c.yaml"],
        owners: ["@acme/sre", "@dave"],
        needed: 2,
        have: 1,
        rule: "path:cluster-prod",
      },
    ]);
    expect(result.fix[0]).toContain("1 more approval");
  });

  it("team membership is case-insensitive and two members of one team count twice", () => {
    expect(run(prod, ["clusters/prod/a.yaml"], ["SARA", "Sid"]).status).toBe("pass");
  });

  it("attack: a former team member's approval does not count", () => {
    expect(run(prod, ["clusters/prod/a.yaml"], ["sara", "mallory"]).status).toBe("fail");
  });

  it("uses the injected matcher", () => {
    const everything = () => true;
    const result = pathRuleResult(prod, {
      changedFiles: ["anything"],
      approvers: [],
      teams,
      matchesPattern: everything,
    });
    expect(result.status).toBe("fail");
  });

  it("an email-only `from` can never be satisfied and is noted", () => {
    const rule: PathRule = { name: "db", paths: ["db/"], approvals: 1, from: ["dba@example.com"] };
    const result = run(rule, ["db/schema.sql"], ["dan"]);
    expect(result.status).toBe("fail");
    expect(result.notes?.[0]).toContain("dba@example.com");
  });

  it("errors (fail closed) on an invalid rule", () => {
    expect(run({ ...prod, approvals: -1 }, ["clusters/prod/a"], []).status).toBe("error");
    expect(run({ ...prod, paths: [] }, ["clusters/prod/a"], []).status).toBe("error");
  });

  it("a rule requiring zero approvals passes", () => {
    expect(run({ ...prod, approvals: 0 }, ["clusters/prod/a"], []).status).toBe("pass");
  });
});
