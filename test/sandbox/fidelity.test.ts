import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../helpers/sandbox.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "openapi");

/** Validates `data` against one of the hand-extracted GitHub OpenAPI schemas; returns ajv's errors. */
function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json")))
    ajv.addSchema(JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as object);
  return (schema: string, data: unknown) => {
    const validate = ajv.getSchema(`${schema}.json`);
    if (validate === undefined) throw new Error(`no schema ${schema}`);
    return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
  };
}

describe("sandbox: responses match GitHub's OpenAPI schemas", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;
  const check = validator();

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: "acme",
      repo: "deploy",
      username: "bob",
      permission: "push",
    });
  });
  afterAll(async () => t.close());

  it("the schemas reject what GitHub would not send (the check has teeth)", () => {
    expect(check("git-commit", { sha: "x" })).not.toEqual([]);
    expect(check("check-run", { id: 1, status: "done" })).not.toEqual([]);
  });

  it("pull-request, pull-request-review, check-run, git-commit, branch-protection", async () => {
    const dir = await t.clone("acme", "deploy", bob.token);
    await t.git(dir, ["checkout", "-q", "-b", "f"]);
    const sha = await t.commit(dir, { "a.txt": "a\n" }, "a");
    await t.push(dir, "HEAD:refs/heads/f");
    const created = await bob.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: "acme",
      repo: "deploy",
      title: "t",
      head: "f",
      base: "main",
    });
    expect(check("pull-request", created.data)).toEqual([]);
    const fetched = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "deploy",
      pull_number: created.data.number,
    });
    expect(check("pull-request", fetched.data)).toEqual([]);
    await t.idle();
    const hook = t.webhooks.find((w) => w.event === "pull_request");
    expect(check("pull-request", hook?.payload.pull_request)).toEqual([]);
    expect(check("simple-user", hook?.payload.sender)).toEqual([]);

    const review = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: "acme",
      repo: "deploy",
      pull_number: created.data.number,
      event: "APPROVE",
    });
    expect(check("pull-request-review", review.data)).toEqual([]);

    const app = await t.installationOctokit("acme");
    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: "acme",
      repo: "deploy",
      name: "pullgate",
      head_sha: sha,
      conclusion: "success",
      output: { title: "ok", summary: "ok" },
    });
    expect(check("check-run", run.data)).toEqual([]);
    expect(run.data.pull_requests.map((p) => p.number)).toEqual([created.data.number]);

    const commit = await bob.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner: "acme",
      repo: "deploy",
      commit_sha: sha,
    });
    expect(check("git-commit", commit.data)).toEqual([]);

    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: "acme",
      repo: "deploy",
      branch: "main",
      required_status_checks: {
        strict: true,
        contexts: [],
        checks: [{ context: "pullgate", app_id: t.sandbox.app.id }],
      },
      enforce_admins: true,
      required_pull_request_reviews: {
        required_approving_review_count: 1,
        bypass_pull_request_allowances: { users: ["alice"] },
      },
      restrictions: { users: ["alice"], teams: [] },
    });
    const protection = await alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: "acme",
      repo: "deploy",
      branch: "main",
    });
    expect(check("branch-protection", protection.data)).toEqual([]);
  });
});
