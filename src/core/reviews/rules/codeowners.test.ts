import { describe, expect, it } from "vitest";
import { codeownersRule } from "./codeowners.js";
import { TeamDirectory } from "../principals.js";
import { HEAD, literalMatcher } from "../__fixtures__/facts.js";

const approval = (login: string) => ({ login, commitId: HEAD, reviewId: 1 });
const teams = new TeamDirectory({ "acme/ops": ["olivia", "oscar"], "acme/sec": ["sam"] });

const matcher = literalMatcher({
  "app/": ["@alice"],
  "deploy/": ["@acme/ops"],
  "deploy/secrets/": ["@acme/ops", "@acme/sec"],
  "legacy/": ["ops@example.com"],
  "mixed/": ["ops@example.com", "@bob"],
  "Owners/": ["@Acme/OPS", "@ALICE"],
});

function run(changedFiles: string[], approvers: string[]) {
  return codeownersRule({ changedFiles, codeowners: matcher, approvers: approvers.map(approval), teams });
}

describe("codeownersRule", () => {
  it("passes when a user owner approved", () => {
    const result = run(["app/a.ts", "app/b.ts"], ["alice"]);
    expect(result.status).toBe("pass");
    expect(result.satisfied).toEqual(["app/a.ts, app/b.ts: approved by @alice"]);
  });

  it("matches user owners case-insensitively", () => {
    expect(run(["app/a.ts"], ["ALICE"]).status).toBe("pass");
  });

  it("fails when an owned file lacks an owner's approval, naming files and owners", () => {
    const result = run(["app/a.ts", "README.md"], ["bob"]);
    expect(result.status).toBe("fail");
    expect(result.missing).toEqual([
      {
        kind: "owner-approval",
        files: ["app/a.ts"],
        owners: ["@alice"],
        needed: 1,
        have: 0,
        rule: "codeowners",
      },
    ]);
    expect(result.fix).toEqual(["Get an approval from one of @alice for app/a.ts."]);
  });

  it("a team owner is satisfied by any member's approval", () => {
    expect(run(["deploy/x.yaml"], ["oscar"]).satisfied).toEqual([
      "deploy/x.yaml: approved by @oscar (member of @acme/ops)",
    ]);
    expect(run(["deploy/x.yaml"], ["olivia"]).status).toBe("pass");
  });

  it("attack: a removed team member (no longer in teamMembers) does not satisfy the team", () => {
    // mallory approved, but the facts (fetched now) no longer list her in acme/ops.
    expect(run(["deploy/x.yaml"], ["mallory"]).status).toBe("fail");
  });

  it("a file owned by two teams is satisfied by a member of either", () => {
    expect(run(["deploy/secrets/db.yaml"], ["olivia"]).status).toBe("pass");
    expect(run(["deploy/secrets/db.yaml"], ["sam"]).status).toBe("pass");
    expect(run(["deploy/secrets/db.yaml"], ["alice"]).status).toBe("fail");
  });

  it("unowned files need nothing", () => {
    const result = run(["README.md", "docs/x.md"], []);
    expect(result.status).toBe("pass");
    expect(result.summary).toBe("No changed file has a code owner.");
    expect(result.satisfied).toEqual(["2 changed files without a code owner: README.md, docs/x.md"]);
  });

  it("groups missing files by owner set", () => {
    const result = run(["app/a.ts", "deploy/x.yaml", "app/b.ts", "deploy/y.yaml", "Owners/z"], []);
    expect(result.missing).toEqual([
      {
        kind: "owner-approval",
        files: ["app/a.ts", "app/b.ts"],
        owners: ["@alice"],
        needed: 1,
        have: 0,
        rule: "codeowners",
      },
      {
        kind: "owner-approval",
        files: ["deploy/x.yaml", "deploy/y.yaml"],
        owners: ["@acme/ops"],
        needed: 1,
        have: 0,
        rule: "codeowners",
      },
      {
        kind: "owner-approval",
        files: ["Owners/z"],
        owners: ["@Acme/OPS", "@ALICE"],
        needed: 1,
        have: 0,
        rule: "codeowners",
      },
    ]);
  });

  it("an owner set differing only in case and order is one group", () => {
    const m = literalMatcher({ "a/": ["@x", "@acme/ops"], "b/": ["@acme/OPS", "@X"] });
    const result = codeownersRule({ changedFiles: ["a/1", "b/2"], codeowners: m, approvers: [], teams });
    expect(result.missing).toHaveLength(1);
  });

  it("a file owned only by an email cannot be satisfied, and the fix says why", () => {
    const result = run(["legacy/old.txt"], ["alice", "bob", "olivia"]);
    expect(result.status).toBe("fail");
    expect(result.fix[0]).toContain("cannot resolve");
    expect(result.fix[0]).toContain("ops@example.com");
  });

  it("with mixed email and user owners, the user can satisfy and the email is noted", () => {
    expect(run(["mixed/a"], ["bob"]).status).toBe("pass");
    const result = run(["mixed/a"], []);
    expect(result.status).toBe("fail");
    expect(result.notes?.[0]).toContain("ops@example.com");
  });
});
