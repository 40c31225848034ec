import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Octokit } from "@octokit/rest";
import * as openpgp from "openpgp";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

const OWNER = "acme";

describe("sandbox: branch protection, rulesets, checks, statuses", () => {
  let t: TestSandbox;
  let alice: TestUser; // org owner (admin)
  let bob: TestUser; // writer, PR author
  let carol: TestUser; // writer, reviewer
  let app: Octokit;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    carol = await t.createUser("carol");
    await t.createOrg(OWNER, "alice");
    app = await t.installationOctokit(OWNER);
  });
  afterAll(async () => t.close());

  async function repoWithWriters(name: string) {
    await t.createRepo(OWNER, name);
    for (const u of ["bob", "carol"])
      await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        owner: OWNER,
        repo: name,
        username: u,
        permission: "push",
      });
  }

  /** PUT protection with GitHub's four required keys defaulted to null; `as never` because the tests send partial nested objects Octokit's types reject. */
  async function protect(repo: string, body: Record<string, unknown>) {
    return alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: OWNER,
      repo,
      branch: "main",
      required_status_checks: null,
      enforce_admins: null,
      required_pull_request_reviews: null,
      restrictions: null,
      ...body,
    } as never);
  }

  async function pr(repo: string, branch: string) {
    const dir = await t.clone(OWNER, repo, bob.token);
    await t.git(dir, ["checkout", "-q", "-b", branch]);
    const sha = await t.commit(dir, { [`${branch}.yaml`]: "x: 1\n" }, `add ${branch}`);
    expect((await t.push(dir, `HEAD:refs/heads/${branch}`)).code).toBe(0);
    const { data } = await bob.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: OWNER,
      repo,
      title: branch,
      head: branch,
      base: "main",
    });
    return { dir, sha, number: data.number };
  }

  it("GET/PUT/DELETE protection round-trip GitHub's nested shape and send branch_protection_rule", async () => {
    await repoWithWriters("shape");
    const none = await settle(
      alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: OWNER,
        repo: "shape",
        branch: "main",
      }),
    );
    expect(none.status).toBe(404);
    expect((none.data as { message: string }).message).toBe("Branch not protected");
    const missingKeys = await settle(
      alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: OWNER,
        repo: "shape",
        branch: "main",
      } as never),
    );
    expect(missingKeys.status).toBe(422);
    expect((missingKeys.data as { message: string }).message).toContain(`"enforce_admins" wasn't supplied.`);
    expect(t.takeViolations()).toMatchObject([
      { kind: "request-body", subject: "PUT /repos/{owner}/{repo}/branches/{branch}/protection" },
    ]);
    await protect("shape", {
      required_status_checks: { strict: true, checks: [{ context: "pullgate", app_id: t.sandbox.app.id }] },
      enforce_admins: true,
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: 2,
        require_last_push_approval: true,
      },
      required_linear_history: true,
    });
    const got = await alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: OWNER,
      repo: "shape",
      branch: "main",
    });
    expect(got.data).toMatchObject({
      required_status_checks: {
        strict: true,
        contexts: ["pullgate"],
        checks: [{ context: "pullgate", app_id: t.sandbox.app.id }],
      },
      enforce_admins: { enabled: true },
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: 2,
        require_last_push_approval: true,
        bypass_pull_request_allowances: { users: [], teams: [], apps: [] },
      },
      required_signatures: { enabled: false },
      required_linear_history: { enabled: true },
      allow_force_pushes: { enabled: false },
      allow_deletions: { enabled: false },
    });
    expect(got.data.restrictions).toBeUndefined();
    await alice.octokit.request(
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures",
      { owner: OWNER, repo: "shape", branch: "main" },
    );
    const branch = await bob.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}", {
      owner: OWNER,
      repo: "shape",
      branch: "main",
    });
    expect(branch.data).toMatchObject({
      protected: true,
      protection: { enabled: true, required_status_checks: { contexts: ["pullgate"] } },
    });
    const notAdmin = await settle(
      bob.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: OWNER,
        repo: "shape",
        branch: "main",
      }),
    );
    expect(notAdmin.status).toBe(403);
    const viaApp = await app.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: OWNER,
      repo: "shape",
      branch: "main",
    });
    expect(viaApp.data.required_signatures?.enabled).toBe(true);
    await alice.octokit.request("DELETE /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: OWNER,
      repo: "shape",
      branch: "main",
    });
    await t.idle();
    const actions = t.webhooks.filter((w) => w.event === "branch_protection_rule").map((w) => w.action);
    expect(actions).toEqual(["created", "edited", "deleted"]);
  });

  it("push protection: direct pushes need a PR, admins bypass unless enforce_admins, force pushes refused", async () => {
    await repoWithWriters("pushy");
    await protect("pushy", {
      required_pull_request_reviews: { required_approving_review_count: 1 },
      enforce_admins: false,
    });
    const dir = await t.clone(OWNER, "pushy", bob.token);
    await t.commit(dir, { "direct.txt": "1\n" }, "direct push");
    const refused = await t.push(dir, "HEAD:refs/heads/main");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("GH006: Protected branch update failed for refs/heads/main.");
    expect(refused.stderr).toContain("Changes must be made through a pull request.");

    const adminDir = await t.clone(OWNER, "pushy", alice.token);
    await t.commit(adminDir, { "admin.txt": "1\n" }, "admin direct push");
    expect((await t.push(adminDir, "HEAD:refs/heads/main")).code).toBe(0);

    await protect("pushy", {
      required_pull_request_reviews: { required_approving_review_count: 1 },
      enforce_admins: true,
    });
    await t.commit(adminDir, { "admin2.txt": "1\n" }, "admin again");
    expect((await t.push(adminDir, "HEAD:refs/heads/main")).code).not.toBe(0);

    await protect("pushy", { enforce_admins: true });
    await t.git(adminDir, ["reset", "-q", "--hard", "HEAD~2"]);
    await t.commit(adminDir, { "rewrite.txt": "1\n" }, "rewrite history");
    const forced = await t.push(adminDir, "HEAD:refs/heads/main", { force: true });
    expect(forced.code).not.toBe(0);
    expect(forced.stderr).toContain("Cannot force-push to this branch.");
    const deleted = await t.push(adminDir, ":refs/heads/main");
    expect(deleted.code).not.toBe(0);
    const apiForce = await settle(
      alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
        owner: OWNER,
        repo: "pushy",
        ref: "heads/main",
        sha: (await t.git(adminDir, ["rev-parse", "HEAD"])).stdout.trim(),
        force: true,
      }),
    );
    expect(apiForce.status).toBe(422);
  });

  it("merge protection: approvals, required pullgate check by the app, strict up-to-date, stale approvals dismissed", async () => {
    await repoWithWriters("gated");
    await protect("gated", {
      required_status_checks: { strict: true, checks: [{ context: "pullgate", app_id: t.sandbox.app.id }] },
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1, dismiss_stale_reviews: true },
    });
    const first = await pr("gated", "one");
    const merge = (number: number) =>
      settle(
        bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
          owner: OWNER,
          repo: "gated",
          pull_number: number,
        }),
      );
    const noReview = await merge(first.number);
    expect(noReview.status).toBe(405);
    expect((noReview.data as { message: string }).message).toContain(
      "At least 1 approving review is required",
    );
    expect((noReview.data as { message: string }).message).toContain(
      'Required status check "pullgate" is expected.',
    );

    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "gated",
      pull_number: first.number,
      event: "APPROVE",
    });
    const userCheck = await settle(
      bob.octokit.request("POST /repos/{owner}/{repo}/check-runs", {
        owner: OWNER,
        repo: "gated",
        name: "pullgate",
        head_sha: first.sha,
        conclusion: "success",
      }),
    );
    expect(userCheck.status).toBe(403);
    const statusForgery = await bob.octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner: OWNER,
      repo: "gated",
      sha: first.sha,
      state: "success",
      context: "pullgate",
    });
    expect(statusForgery.status).toBe(201);
    expect((await merge(first.number)).status).toBe(405); // a status is not the app's check run
    const detail = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: OWNER,
      repo: "gated",
      pull_number: first.number,
    });
    expect(detail.data.mergeable_state).toBe("blocked");

    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: OWNER,
      repo: "gated",
      name: "pullgate",
      head_sha: first.sha,
      status: "in_progress",
    });
    const forge = await settle(
      bob.octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        owner: OWNER,
        repo: "gated",
        check_run_id: run.data.id,
        conclusion: "success",
      }),
    );
    expect(forge.status).toBe(403);
    await app.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      owner: OWNER,
      repo: "gated",
      check_run_id: run.data.id,
      conclusion: "success",
      output: { title: "ok", summary: "all rules passed" },
    });
    const runs = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner: OWNER,
      repo: "gated",
      ref: first.sha,
      check_name: "pullgate",
      app_id: t.sandbox.app.id,
    });
    expect(runs.data.total_count).toBe(1);
    expect(runs.data.check_runs[0]).toMatchObject({
      status: "completed",
      conclusion: "success",
      app: { id: t.sandbox.app.id },
      output: { title: "ok" },
    });

    // Another PR merges first: the first one is now behind (strict).
    const second = await pr("gated", "two");
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "gated",
      pull_number: second.number,
      event: "APPROVE",
    });
    await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: OWNER,
      repo: "gated",
      name: "pullgate",
      head_sha: second.sha,
      conclusion: "success",
    });
    expect((await merge(second.number)).status).toBe(200);
    const behind = await merge(first.number);
    expect(behind.status).toBe(405);
    expect((behind.data as { message: string }).message).toContain("not up to date");

    // Bringing it up to date is a push: the approval on the old head is dismissed.
    await t.git(first.dir, ["fetch", "-q", "origin", "main"]);
    await t.git(first.dir, ["merge", "-q", "--no-edit", "FETCH_HEAD"], {
      GIT_AUTHOR_NAME: "Bob",
      GIT_AUTHOR_EMAIL: "b@x",
      GIT_COMMITTER_NAME: "Bob",
      GIT_COMMITTER_EMAIL: "b@x",
    });
    expect((await t.push(first.dir, "HEAD:refs/heads/one")).code).toBe(0);
    await t.idle();
    const reviews = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "gated",
      pull_number: first.number,
    });
    expect(reviews.data.map((r) => r.state)).toEqual(["DISMISSED"]);
    expect(t.webhooks.some((w) => w.event === "pull_request_review" && w.action === "dismissed")).toBe(true);
    expect((await merge(first.number)).status).toBe(405);
  });

  it("rulesets: CRUD, rules/branches with ruleset source, push and merge enforcement with bypass actors", async () => {
    await repoWithWriters("ruled");
    const created = await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      owner: OWNER,
      repo: "ruled",
      name: "main rules",
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      rules: [
        {
          type: "pull_request",
          parameters: {
            required_approving_review_count: 1,
            dismiss_stale_reviews_on_push: false,
            require_code_owner_review: false,
            require_last_push_approval: false,
            required_review_thread_resolution: false,
          },
        },
        { type: "non_fast_forward" },
      ],
      bypass_actors: [{ actor_id: t.sandbox.app.id, actor_type: "Integration", bypass_mode: "always" }],
    });
    expect(created.status).toBe(201);
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: OWNER,
      name: "org signatures",
      target: "branch",
      enforcement: "active",
      conditions: {
        ref_name: { include: ["refs/heads/main"], exclude: [] },
        repository_name: { include: ["ruled"], exclude: [] },
      },
      rules: [{ type: "deletion" }],
    });
    const rules = await bob.octokit.request("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
      owner: OWNER,
      repo: "ruled",
      branch: "main",
    });
    expect(rules.data.map((r) => [r.type, r.ruleset_source_type, r.ruleset_id !== undefined])).toEqual([
      ["pull_request", "Repository", true],
      ["non_fast_forward", "Repository", true],
      ["deletion", "Organization", true],
    ]);
    const other = await bob.octokit.request("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
      owner: OWNER,
      repo: "ruled",
      branch: "feature",
    });
    expect(other.data).toEqual([]);
    const list = await bob.octokit.request("GET /repos/{owner}/{repo}/rulesets", {
      owner: OWNER,
      repo: "ruled",
    });
    expect(list.data.map((r) => r.source_type).sort()).toEqual(["Organization", "Repository"]);

    const dir = await t.clone(OWNER, "ruled", bob.token);
    await t.commit(dir, { "d.txt": "1\n" }, "direct");
    const refused = await t.push(dir, "HEAD:refs/heads/main");
    expect(refused.stderr).toContain("GH013: Repository rule violations found for refs/heads/main.");
    const appToken = await t.installationToken(OWNER);
    const appDir = await t.clone(OWNER, "ruled", appToken);
    await t.commit(appDir, { "bot.txt": "1\n" }, "bypassing bot");
    expect((await t.push(appDir, "HEAD:refs/heads/main")).code).toBe(0);

    const p = await pr("ruled", "feat");
    const blocked = await settle(
      bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: OWNER,
        repo: "ruled",
        pull_number: p.number,
      }),
    );
    expect(blocked.status).toBe(405);
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "ruled",
      pull_number: p.number,
      event: "APPROVE",
    });
    expect(
      (
        await settle(
          bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
            owner: OWNER,
            repo: "ruled",
            pull_number: p.number,
          }),
        )
      ).status,
    ).toBe(200);

    await alice.octokit.request("DELETE /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner: OWNER,
      repo: "ruled",
      ruleset_id: created.data.id,
    });
    await t.idle();
    expect(t.webhooks.filter((w) => w.event === "repository_ruleset").map((w) => w.action)).toEqual([
      "created",
      "created",
      "deleted",
    ]);
  });

  it("required signatures: unsigned pushes refused; commits signed by a registered key accepted", async () => {
    await repoWithWriters("signed");
    await protect("signed", { enforce_admins: true });
    await alice.octokit.request(
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures",
      { owner: OWNER, repo: "signed", branch: "main" },
    );
    const dir = await t.clone(OWNER, "signed", alice.token);
    await t.commit(dir, { "u.txt": "1\n" }, "unsigned");
    const refused = await t.push(dir, "HEAD:refs/heads/main");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Commits must have verified signatures.");

    const key = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Alice", email: alice.email }],
      format: "armored",
    });
    await alice.octokit.request("POST /user/gpg_keys", { armored_public_key: key.publicKey });
    const main = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: OWNER,
        repo: "signed",
        commit_sha: (await t.git(dir, ["rev-parse", "origin/main"])).stdout.trim(),
      })
    ).data;
    const who = { name: "Alice", email: alice.email, date: "2024-01-01T00:00:00Z" };
    const payload = `tree ${main.tree.sha}\nparent ${main.sha}\nauthor Alice <${alice.email}> 1704067200 +0000\ncommitter Alice <${alice.email}> 1704067200 +0000\n\nsigned`;
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.from(payload) }),
      signingKeys: await openpgp.readPrivateKey({ armoredKey: key.privateKey }),
      detached: true,
      format: "armored",
    });
    const signed = await alice.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
      owner: OWNER,
      repo: "signed",
      message: "signed",
      tree: main.tree.sha,
      parents: [main.sha],
      author: who,
      committer: who,
      signature,
    });
    expect(signed.data.verification.verified).toBe(true);
    const moved = await alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: OWNER,
      repo: "signed",
      ref: "heads/main",
      sha: signed.data.sha,
    });
    expect(moved.data.object.sha).toBe(signed.data.sha);
    const forged = await alice.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
      owner: OWNER,
      repo: "signed",
      message: "signed",
      tree: main.tree.sha,
      parents: [signed.data.sha],
      author: who,
      committer: who,
      signature,
    });
    expect(forged.data.verification).toMatchObject({ verified: false, reason: "invalid" });
    const refusedApi = await settle(
      alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
        owner: OWNER,
        repo: "signed",
        ref: "heads/main",
        sha: forged.data.sha,
      }),
    );
    expect(refusedApi.status).toBe(422);
    expect((refusedApi.data as { message: string }).message).toContain(
      "Commits must have verified signatures.",
    );
  });

  it("require_code_owner_reviews: an approval from a code owner (team member) is needed", async () => {
    await repoWithWriters("owned");
    const dave = await t.createUser("dave");
    await alice.octokit.request("POST /orgs/{org}/teams", { org: OWNER, name: "platform" });
    await alice.octokit.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: OWNER,
      team_slug: "platform",
      username: "dave",
    });
    await alice.octokit.request("PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
      org: OWNER,
      team_slug: "platform",
      owner: OWNER,
      repo: "owned",
      permission: "push",
    });
    const setup = await t.clone(OWNER, "owned", alice.token);
    await t.commit(
      setup,
      { ".github/CODEOWNERS": "# owners\n*.md @alice\n/app/ @acme/platform\n" },
      "codeowners",
    );
    expect((await t.push(setup, "HEAD:refs/heads/main")).code).toBe(0);
    await protect("owned", {
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: true },
    });
    const p = await t.openPullRequest({
      owner: OWNER,
      repo: "owned",
      user: bob,
      branch: "app-change",
      files: { "app/deploy.yaml": "replicas: 3\n" },
    });
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "owned",
      pull_number: p.number,
      event: "APPROVE",
    });
    const merge = () =>
      settle(
        bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
          owner: OWNER,
          repo: "owned",
          pull_number: p.number,
        }),
      );
    const blocked = await merge();
    expect(blocked.status).toBe(405);
    expect((blocked.data as { message: string }).message).toContain(
      "Waiting on code owner review from the owners of app/deploy.yaml",
    );
    await dave.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "owned",
      pull_number: p.number,
      event: "APPROVE",
    });
    expect((await merge()).status).toBe(200);
  });

  it("check_run rerequested webhook; combined status", async () => {
    await repoWithWriters("checks");
    const sha = (
      await bob.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        owner: OWNER,
        repo: "checks",
        ref: "heads/main",
      })
    ).data.object.sha;
    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: OWNER,
      repo: "checks",
      name: "pullgate",
      head_sha: sha,
      conclusion: "failure",
      output: { title: "no", summary: "missing approval" },
    });
    await bob.octokit.request("POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", {
      owner: OWNER,
      repo: "checks",
      check_run_id: run.data.id,
    });
    await t.idle();
    const rerequested = t.webhooks.find((w) => w.event === "check_run" && w.action === "rerequested");
    expect(rerequested?.payload).toMatchObject({
      check_run: { id: run.data.id, name: "pullgate", head_sha: sha },
      sender: { login: "bob" },
    });
    await app.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner: OWNER,
      repo: "checks",
      sha,
      state: "pending",
      context: "a",
    });
    await app.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner: OWNER,
      repo: "checks",
      sha,
      state: "success",
      context: "a",
    });
    await app.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner: OWNER,
      repo: "checks",
      sha,
      state: "failure",
      context: "b",
    });
    const combined = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/status", {
      owner: OWNER,
      repo: "checks",
      ref: sha,
    });
    expect(combined.data.state).toBe("failure");
    expect(combined.data.statuses.map((s) => `${s.context}:${s.state}`).sort()).toEqual([
      "a:success",
      "b:failure",
    ]);
  });
});
