import { describe, expect, it } from "vitest";
import { sensitivePathsRule } from "./sensitive-paths.js";
import { TeamDirectory } from "../principals.js";
import { matchesPattern } from "../pattern.js";
import { HEAD, OLD } from "../__fixtures__/facts.js";

const teams = new TeamDirectory({ "acme/admins": ["ada"] });
const SENSITIVE = ["CODEOWNERS", ".github/pullgate.yml", "keys/", ".github/workflows/"];

function run(
  changedFiles: string[],
  approvers: { login: string; commitId?: string }[],
  admins = ["@acme/admins", "@root"],
) {
  return sensitivePathsRule({
    changedFiles,
    sensitivePaths: SENSITIVE,
    admins,
    approvers: approvers.map((a) => ({ login: a.login, commitId: a.commitId ?? HEAD, reviewId: 1 })),
    headSha: HEAD,
    teams,
    matchesPattern,
  });
}

describe("sensitivePathsRule", () => {
  it("passes when nothing sensitive changed", () => {
    expect(run(["app/x.ts"], [])).toMatchObject({ status: "pass", summary: "No sensitive path changed." });
  });

  it("attack: a PR editing CODEOWNERS needs a policy admin's approval", () => {
    const result = run([".github/CODEOWNERS", "app/x.ts"], [{ login: "alice" }]);
    expect(result.status).toBe("fail");
    expect(result.missing).toEqual([
      { kind: "admin-approval", files: [".github/CODEOWNERS"], admins: ["@acme/admins", "@root"] },
    ]);
  });

  it("attack: a PR editing the policy or a keyring needs an admin", () => {
    expect(run([".github/pullgate.yml"], [{ login: "alice" }]).status).toBe("fail");
    expect(run(["keys/new.asc"], [{ login: "alice" }]).status).toBe("fail");
  });

  it("an admin (user or team member) approving the head satisfies it", () => {
    expect(run(["CODEOWNERS"], [{ login: "root" }]).status).toBe("pass");
    const result = run(["CODEOWNERS"], [{ login: "ADA" }]);
    expect(result.status).toBe("pass");
    expect(result.satisfied[0]).toContain("@ADA (member of @acme/admins)");
  });

  it("attack: someone removed from the admin team no longer satisfies it", () => {
    const result = sensitivePathsRule({
      changedFiles: ["CODEOWNERS"],
      sensitivePaths: SENSITIVE,
      admins: ["@acme/admins"],
      approvers: [{ login: "ada", commitId: HEAD, reviewId: 1 }],
      headSha: HEAD,
      teams: new TeamDirectory({ "acme/admins": ["root"] }),
      matchesPattern,
    });
    expect(result.status).toBe("fail");
  });

  it("attack: an admin approval of an older head does not carry over to a new push", () => {
    const result = run([".github/pullgate.yml"], [{ login: "ada", commitId: OLD }]);
    expect(result.status).toBe("fail");
    expect(result.notes?.[0]).toContain("older head 0000000");
  });

  it("fails with a policy fix when no admin is resolvable", () => {
    const result = run(["CODEOWNERS"], [{ login: "alice" }], []);
    expect(result.status).toBe("fail");
    expect(result.fix[0]).toContain("names no admin");
    expect(run(["CODEOWNERS"], [], ["admins@example.com"]).fix[0]).toContain("names no admin");
  });
});
