/**
 * The sandbox's REST responses, validated against GitHub's published OpenAPI description
 * (sandbox/test/fixtures/openapi-rest: the 2xx response schema of each operation, extracted from
 * @octokit/openapi's GHES 3.19 description; see the README there). The webhook half is
 * sandbox/test/webhook-fidelity.test.ts.
 *
 * A flow calls every operation that has a fixture through Octokit; a hook records each response
 * with the route template it was called by. Every recorded 2xx body must have a schema (nothing is
 * left unchecked) and conform, or deviate exactly as KNOWN_DEVIATIONS records.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { Ajv, type ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSshSigningKey } from "./helpers/ssh-keys.js";
import { startTestSandbox, type TestSandbox } from "../src/testing/harness.js";
import { addFormats, errorsOf } from "../src/testing/webhook-schemas.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "openapi-rest");

/** `<METHOD> <path template> <status>` → validator, from each fixture's `x-operation`. */
function loadSchemas(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json"))) {
    const schema = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as { "x-operation": string };
    validators.set(schema["x-operation"], ajv.compile(schema));
  }
  return validators;
}

interface Recorded {
  operation: string;
  data: unknown;
}

/**
 * Where the sandbox's responses differ from GitHub's schema: the exact ajv errors per operation.
 * Every response of that operation must show exactly these, no more and no fewer.
 */
const KNOWN_DEVIATIONS: Record<string, string[]> = {
  // Spec-side: this operation's schema types the account as allOf [simple-user, enterprise] (a user
  // and an enterprise at once), which no real account satisfies; components/schemas/installation
  // says anyOf. The sandbox sends the org as a simple user, as GitHub does.
  "GET /app/installations 200": [
    "/0/account must be null",
    "/0/account must have required property 'created_at'",
    "/0/account must have required property 'name'",
    "/0/account must have required property 'slug'",
    "/0/account must have required property 'updated_at'",
    "/0/account must match a schema in anyOf",
  ],
};

describe("sandbox: REST responses match GitHub's OpenAPI description", () => {
  const validators = loadSchemas();
  const recorded: Recorded[] = [];
  let t: TestSandbox;

  /** An Octokit for `token` whose every response is recorded under the route template it used. */
  const client = (token: string) => {
    const octokit = t.octokit(token);
    octokit.hook.after("request", (response, options) => {
      // Templates only: a paginated follow-up is an absolute URL, and the flow does not paginate.
      recorded.push({
        operation: `${options.method} ${options.url} ${response.status}`,
        data: response.data,
      });
    });
    return octokit;
  };

  beforeAll(async () => {
    t = await startTestSandbox();
    const admin = client(t.sandbox.adminToken);
    const owner = "acme";
    const repo = "deploy";
    const base = { owner, repo };

    // GHES admin: users, an org (installs the app), user tokens.
    for (const login of ["alice", "bob"])
      await admin.request("POST /admin/users", { login, email: `${login}@example.test` });
    await admin.request("POST /admin/organizations", { login: owner, admin: "alice" });
    const token = async (username: string) =>
      (
        await admin.request("POST /admin/users/{username}/authorizations", {
          username,
          scopes: ["repo", "admin:org"],
        })
      ).data.token;
    const alice = client(await token("alice"));
    const bob = client(await token("bob"));

    // Users and their signing keys.
    const me = await alice.request("GET /user");
    await alice.request("GET /users/{username}", { username: "bob" });
    await alice.request("GET /user/{account_id}", { account_id: Number(me.data.id) });
    const gpg = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Alice", email: "alice@example.test" }],
      format: "armored",
    });
    await alice.request("POST /user/gpg_keys", { armored_public_key: gpg.publicKey });
    await bob.request("GET /users/{username}/gpg_keys", { username: "alice" });
    const ssh = await generateSshSigningKey(t.root, "alice-laptop");
    await alice.request("POST /user/ssh_signing_keys", { title: "laptop", key: ssh.publicKey });
    await bob.request("GET /users/{username}/ssh_signing_keys", { username: "alice" });
    await bob.request("GET /rate_limit");

    // Orgs, members, teams.
    await alice.request("GET /orgs/{org}", { org: owner });
    await alice.request("PUT /orgs/{org}/memberships/{username}", {
      org: owner,
      username: "bob",
      role: "member",
    });
    await alice.request("GET /orgs/{org}/memberships/{username}", { org: owner, username: "bob" });
    await alice.request("GET /orgs/{org}/members", { org: owner });
    await alice.request("POST /orgs/{org}/teams", { org: owner, name: "Platform" });
    await alice.request("GET /orgs/{org}/teams", { org: owner });
    await alice.request("GET /orgs/{org}/teams/{team_slug}", { org: owner, team_slug: "platform" });
    await alice.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: owner,
      team_slug: "platform",
      username: "bob",
    });
    await alice.request("GET /orgs/{org}/teams/{team_slug}/members", { org: owner, team_slug: "platform" });

    // Repositories and access.
    await alice.request("POST /orgs/{org}/repos", { org: owner, name: repo, auto_init: true });
    await alice.request("GET /orgs/{org}/repos", { org: owner });
    await alice.request("GET /repos/{owner}/{repo}", base);
    await alice.request("PATCH /repos/{owner}/{repo}", { ...base, description: "what runs in production" });
    await alice.request("PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
      org: owner,
      team_slug: "platform",
      ...base,
      permission: "push",
    });
    await alice.request("GET /repos/{owner}/{repo}/teams", base);
    await alice.request("GET /repos/{owner}/{repo}/collaborators", base);
    await alice.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
      ...base,
      username: "bob",
    });

    // The app: JWT and installation endpoints.
    const jwt = client(t.appJwt());
    await jwt.request("GET /app");
    await bob.request("GET /apps/{app_slug}", { app_slug: t.sandbox.app.slug });
    const installations = await jwt.request("GET /app/installations");
    const installationId = installations.data[0]?.id ?? 0;
    await jwt.request("GET /app/installations/{installation_id}", { installation_id: installationId });
    await jwt.request("GET /orgs/{org}/installation", { org: owner });
    await jwt.request("GET /repos/{owner}/{repo}/installation", base);
    const minted = await jwt.request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
    });
    const app = client(minted.data.token);
    await app.request("GET /installation/repositories");
    await alice.request("GET /user/installations");
    await alice.request("GET /user/installations/{installation_id}/repositories", {
      installation_id: installationId,
    });
    await app.request("GET /orgs/{org}/custom-repository-roles", { org: owner });

    // Git database: a signed-shape commit built from a blob and a tree, on a new branch.
    const main = await alice.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      ...base,
      ref: "heads/main",
    });
    await alice.request("GET /repos/{owner}/{repo}/git/matching-refs/{ref}", { ...base, ref: "heads/" });
    const tip = await alice.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      ...base,
      commit_sha: main.data.object.sha,
    });
    const blob = await alice.request("POST /repos/{owner}/{repo}/git/blobs", {
      ...base,
      content: "replicas: 2\n",
      encoding: "utf-8",
    });
    await alice.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
      ...base,
      file_sha: blob.data.sha,
    });
    const tree = await alice.request("POST /repos/{owner}/{repo}/git/trees", {
      ...base,
      base_tree: tip.data.tree.sha,
      tree: [{ path: "env/prod.yaml", mode: "100644", type: "blob", sha: blob.data.sha }],
    });
    await alice.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
      ...base,
      tree_sha: tree.data.sha,
      recursive: "1",
    });
    const commit = await alice.request("POST /repos/{owner}/{repo}/git/commits", {
      ...base,
      message: "two replicas",
      tree: tree.data.sha,
      parents: [tip.data.sha],
    });
    await alice.request("POST /repos/{owner}/{repo}/git/refs", {
      ...base,
      ref: "refs/heads/feature",
      sha: tip.data.sha,
    });
    await alice.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      ...base,
      ref: "heads/feature",
      sha: commit.data.sha,
      force: false,
    });
    const head = commit.data.sha;
    // A second branch, for a PR that falls behind when the first one merges (update-branch).
    const otherTree = await alice.request("POST /repos/{owner}/{repo}/git/trees", {
      ...base,
      base_tree: tip.data.tree.sha,
      tree: [{ path: "env/staging.yaml", mode: "100644", type: "blob", content: "replicas: 1\n" }],
    });
    const other = await alice.request("POST /repos/{owner}/{repo}/git/commits", {
      ...base,
      message: "staging",
      tree: otherTree.data.sha,
      parents: [tip.data.sha],
    });
    await alice.request("POST /repos/{owner}/{repo}/git/refs", {
      ...base,
      ref: "refs/heads/other",
      sha: other.data.sha,
    });

    // Commits and content.
    await bob.request("GET /repos/{owner}/{repo}/commits", { ...base, sha: "feature" });
    await bob.request("GET /repos/{owner}/{repo}/commits/{ref}", { ...base, ref: head });
    await bob.request("GET /repos/{owner}/{repo}/branches", base);
    await bob.request("GET /repos/{owner}/{repo}/branches/{branch}", { ...base, branch: "main" });
    await bob.request("GET /repos/{owner}/{repo}/contents/{path}", {
      ...base,
      path: "env/prod.yaml",
      ref: head,
    });
    await bob.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      ...base,
      basehead: `main...${head}`,
    });

    // A pull request, reviews, checks, statuses.
    const pr = await alice.request("POST /repos/{owner}/{repo}/pulls", {
      ...base,
      title: "Two replicas",
      head: "feature",
      base: "main",
    });
    const pull_number = pr.data.number;
    await bob.request("GET /repos/{owner}/{repo}/pulls", base);
    await bob.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { ...base, pull_number });
    await alice.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      ...base,
      pull_number,
      body: "prod needs two",
    });
    await bob.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", { ...base, pull_number });
    await bob.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", { ...base, pull_number });
    await bob.request("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", { ...base, commit_sha: head });
    const comment = await bob.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      ...base,
      pull_number,
      event: "COMMENT",
      body: "looks fine",
    });
    await bob.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", {
      ...base,
      pull_number,
      review_id: Number(comment.data.id),
    });
    const approval = await bob.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      ...base,
      pull_number,
      event: "APPROVE",
    });
    await alice.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals", {
      ...base,
      pull_number,
      review_id: Number(approval.data.id),
      message: "re-review please",
    });
    await bob.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      ...base,
      pull_number,
      event: "APPROVE",
    });
    await bob.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { ...base, pull_number });

    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      ...base,
      name: "pullgate",
      head_sha: head,
      status: "in_progress",
    });
    await app.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...base,
      check_run_id: run.data.id,
      conclusion: "success",
      output: { title: "Approved", summary: "All rules pass." },
    });
    await bob.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...base,
      check_run_id: run.data.id,
    });
    await bob.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { ...base, ref: head });
    const suites = await bob.request("GET /repos/{owner}/{repo}/commits/{ref}/check-suites", {
      ...base,
      ref: head,
    });
    await bob.request("GET /repos/{owner}/{repo}/check-suites/{check_suite_id}", {
      ...base,
      check_suite_id: Number(suites.data.check_suites[0]?.id ?? 0),
    });
    await app.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      ...base,
      sha: head,
      state: "success",
      context: "ci/build",
      target_url: "https://ci.example.test/1",
    });
    await bob.request("GET /repos/{owner}/{repo}/commits/{ref}/statuses", { ...base, ref: head });
    await bob.request("GET /repos/{owner}/{repo}/commits/{ref}/status", { ...base, ref: head });

    // Protection and rulesets, then the merge.
    await alice.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...base,
      branch: "main",
      // `checks` alone: the description's required `contexts` is not GitHub's rule, and GitHub
      // refuses both at once (sandbox/DEVIATIONS.md).
      required_status_checks: {
        strict: true,
        checks: [{ context: "pullgate", app_id: t.sandbox.app.id }],
      } as unknown as { strict: boolean; contexts: string[] },
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: true },
      restrictions: null,
    });
    await alice.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...base,
      branch: "main",
    });
    const ruleset = await alice.request("POST /repos/{owner}/{repo}/rulesets", {
      ...base,
      name: "main",
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      rules: [{ type: "deletion" }, { type: "non_fast_forward" }],
      bypass_actors: [{ actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" }],
    });
    await alice.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...base,
      ruleset_id: ruleset.data.id,
      rules: [{ type: "deletion" }, { type: "non_fast_forward" }, { type: "required_linear_history" }],
    });
    await alice.request("GET /repos/{owner}/{repo}/rulesets", base);
    await alice.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...base,
      ruleset_id: ruleset.data.id,
    });
    const orgRuleset = await alice.request("POST /orgs/{org}/rulesets", {
      org: owner,
      name: "everywhere",
      target: "branch",
      enforcement: "evaluate",
      conditions: {
        ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
      rules: [{ type: "required_signatures" }],
    });
    await alice.request("GET /orgs/{org}/rulesets/{ruleset_id}", {
      org: owner,
      ruleset_id: orgRuleset.data.id,
    });
    await bob.request("GET /repos/{owner}/{repo}/rules/branches/{branch}", { ...base, branch: "main" });
    await alice.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      ...base,
      pull_number,
      merge_method: "squash",
      sha: head,
    });

    const behind = await alice.request("POST /repos/{owner}/{repo}/pulls", {
      ...base,
      title: "Staging",
      head: "other",
      base: "main",
    });
    await alice.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch", {
      ...base,
      pull_number: behind.data.number,
      expected_head_sha: other.data.sha,
    });

    // Signed commits are required from now on (the merge above was the last unsigned one).
    await alice.request("POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures", {
      ...base,
      branch: "main",
    });
    await alice.request("GET /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures", {
      ...base,
      branch: "main",
    });

    // Issues (pullgate's alerts): open, list, label, comment, edit, close.
    const issue = await app.request("POST /repos/{owner}/{repo}/issues", {
      ...base,
      title: "pullgate alert",
      body: "a direct push",
    });
    const issue_number = issue.data.number;
    await app.request("GET /repos/{owner}/{repo}/issues", { ...base, state: "open" });
    await app.request("GET /repos/{owner}/{repo}/issues/{issue_number}", { ...base, issue_number });
    await app.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", {
      ...base,
      issue_number,
      labels: ["pullgate-alert"],
    });
    const note = await app.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...base,
      issue_number,
      body: "another one",
    });
    await app.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...base, issue_number });
    await app.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
      ...base,
      comment_id: note.data.id,
      body: "another one (edited)",
    });
    await alice.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      ...base,
      issue_number,
      state: "closed",
    });
  });
  afterAll(async () => t.close());

  it("the schemas have teeth: a body missing required fields, or with a wrong format, is rejected", () => {
    const pull = validators.get("GET /repos/{owner}/{repo}/pulls/{pull_number} 200");
    const recordedPull = recorded.find(
      (r) => r.operation === "GET /repos/{owner}/{repo}/pulls/{pull_number} 200",
    );
    expect(pull).toBeDefined();
    expect(recordedPull).toBeDefined();
    if (pull === undefined || recordedPull === undefined) return;
    expect(errorsOf(pull, { number: 1 })).not.toEqual([]);
    const broken = structuredClone(recordedPull.data) as { created_at: unknown; html_url: unknown };
    broken.created_at = 1700000000;
    broken.html_url = "not a url";
    expect(errorsOf(pull, broken)).toEqual(
      expect.arrayContaining(["/created_at must be string", '/html_url must match format "uri"']),
    );
  });

  it("every operation with a schema was exercised, and every JSON response has a schema", () => {
    const seen = new Set(
      recorded.filter((r) => r.data !== undefined && r.data !== "").map((r) => r.operation),
    );
    expect([...validators.keys()].filter((op) => !seen.has(op))).toEqual([]);
    expect([...seen].filter((op) => !validators.has(op) && !op.endsWith(" 204")).sort()).toEqual([]);
  });

  it("every response conforms to its operation's schema, or deviates exactly as recorded", () => {
    const problems: Record<string, string[]> = {};
    for (const r of recorded) {
      const validate = validators.get(r.operation);
      if (validate === undefined) continue;
      const errors = errorsOf(validate, r.data);
      const expected = [...new Set(KNOWN_DEVIATIONS[r.operation] ?? [])].sort();
      if (JSON.stringify(errors) !== JSON.stringify(expected)) problems[r.operation] = errors;
    }
    expect(problems).toEqual({});
  });
});
