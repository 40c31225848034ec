/**
 * Issue 13: `GET /orgs/{org}/custom-repository-roles` exists only on GitHub Enterprise Cloud and
 * Server; api.github.com answers 404. The audit handled the 404 silently, so on github.com a custom
 * role on a bypass list showed as a bare `role:7` with no word on why. Now the audit says so, once
 * per affected repository, in its text and JSON output. The sandbox plays github.com by answering
 * 404 for that route (fault injection).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import { ORG_POLICY, recordRefRuleset, writeFiles } from "./harness.js";

const ORG = "acme";
const ROLES_ROUTE = "GET /orgs/{org}/custom-repository-roles";

function io(env: Record<string, string | undefined>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), env, cwd: process.cwd() };
}

interface RepoJson {
  repo: string;
  notes: string[];
  approvedRefs: { refs: { ref: string; status: string; drift: { actual: string }[] }[] };
}

describe("audit: custom repository roles on github.com", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    for (const name of ["custom-role", "plain"]) await t.createRepo(ORG, name);
    // The record ruleset with a custom repository role (id 7) on its bypass list, next to the app.
    await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      owner: ORG,
      repo: "custom-role",
      ...recordRefRuleset(t.sandbox.app.id, {
        bypass_actors: [
          { actor_id: t.sandbox.app.id, actor_type: "Integration", bypass_mode: "always" },
          { actor_id: 7, actor_type: "RepositoryRole", bypass_mode: "always" },
        ],
      }),
    } as never);
    env = {
      GITHUB_TOKEN: alice.token,
      GITHUB_API_URL: t.sandbox.apiUrl,
      PULLGATE_APP_ID: String(t.sandbox.app.id),
    };
  }, 60_000);
  afterAll(async () => t?.close());
  beforeEach(() => t.sandbox.instrumentation.clearFaults());

  async function auditJson(): Promise<RepoJson[]> {
    const run = io(env);
    expect(await main(["audit", "--org", ORG, "--json"], run)).toBe(1);
    return (JSON.parse(run.out[0] ?? "{}") as { repositories: RepoJson[] }).repositories;
  }

  it("says in the JSON output why a role bypass actor is shown by id, for the affected repository only", async () => {
    t.sandbox.instrumentation.setFault(ROLES_ROUTE, { status: 404 });
    const repos = await auditJson();
    const affected = repos.find((r) => r.repo === `${ORG}/custom-role`);
    const ref = affected?.approvedRefs.refs[0];
    expect(ref?.status).toBe("drift");
    expect(ref?.drift.map((d) => d.actual).join(" ")).toContain("role:7");
    const notes = affected?.notes.filter((n) => n.includes("custom repository role")) ?? [];
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("custom repository role 7 on a ruleset bypass list can only be shown by id");
    expect(notes[0]).toContain("answered 404");
    expect(notes[0]).toContain("not on github.com");
    const plain = repos.find((r) => r.repo === `${ORG}/plain`);
    expect(plain?.notes.some((n) => n.includes("custom repository role"))).toBe(false);
  });

  it("says it in the text output too", async () => {
    t.sandbox.instrumentation.setFault(ROLES_ROUTE, { status: 404 });
    const run = io(env);
    expect(await main(["audit", "--org", ORG, "--repo", "custom-role"], run)).toBe(1);
    const text = run.out.join("\n");
    expect(text).toMatch(
      / {2}note: custom repository role 7 on a ruleset bypass list can only be shown by id/,
    );
    expect(text).toContain("GitHub Enterprise Cloud and GitHub Enterprise Server");
  });

  it("where the endpoint exists (GHEC, GHES) but does not list the id, says that instead", async () => {
    const repos = await auditJson();
    const notes = repos.find((r) => r.repo === `${ORG}/custom-role`)?.notes ?? [];
    expect(notes.filter((n) => n.includes("custom repository role"))).toEqual([
      "custom repository role 7 on a ruleset bypass list is not among acme's custom repository roles (deleted?), shown by id",
    ]);
  });
});
