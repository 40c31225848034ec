import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

describe("sandbox: issues, comments, PR close/reopen, check suites", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;

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

  it("issues: create with labels (as the app), filter by labels, comment, close and reopen with webhooks", async () => {
    const app = await t.installationOctokit("acme");
    const alert = await app.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      title: "Unreviewed push to main",
      body: "details",
      labels: ["pullgate", "alert"],
    });
    expect(alert.data.user?.login).toBe("pullgate[bot]");
    await alice.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      title: "other",
      labels: ["pullgate"],
    });
    const filtered = await bob.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      labels: "pullgate,alert",
    });
    expect(filtered.data.map((i) => i.number)).toEqual([alert.data.number]);
    await app.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: "acme",
      repo: "deploy",
      issue_number: alert.data.number,
      body: "again",
    });
    const comments = await bob.octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: "acme",
      repo: "deploy",
      issue_number: alert.data.number,
    });
    expect(comments.data.map((c) => c.body)).toEqual(["again"]);
    await alice.octokit.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      owner: "acme",
      repo: "deploy",
      issue_number: alert.data.number,
      state: "closed",
    });
    await alice.octokit.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      owner: "acme",
      repo: "deploy",
      issue_number: alert.data.number,
      state: "open",
    });
    const closedOnly = await bob.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      state: "closed",
    });
    expect(closedOnly.data).toEqual([]);
    await t.idle();
    expect(t.webhooks.filter((w) => w.event === "issues").map((w) => w.action)).toEqual([
      "opened",
      "opened",
      "closed",
      "reopened",
    ]);
    expect(t.webhooks.filter((w) => w.event === "issue_comment").map((w) => w.action)).toEqual(["created"]);
    const outsider = await t.createUser("outsider");
    const denied = await settle(
      outsider.octokit.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
        owner: "acme",
        repo: "deploy",
        issue_number: alert.data.number,
        state: "closed",
      }),
    );
    expect(denied.status).toBe(403);
  });

  it("pull requests close and reopen; duplicates and empty PRs are refused with 422", async () => {
    const { number } = await t.openPullRequest({
      owner: "acme",
      repo: "deploy",
      user: bob,
      branch: "topic",
      files: { "t.txt": "t\n" },
    });
    const duplicate = await settle(
      bob.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: "acme",
        repo: "deploy",
        title: "again",
        head: "topic",
        base: "main",
      }),
    );
    expect(duplicate.status).toBe(422);
    expect(JSON.stringify(duplicate.data)).toContain("A pull request already exists for acme:topic.");
    const empty = await settle(
      bob.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: "acme",
        repo: "deploy",
        title: "none",
        head: "main",
        base: "main",
      }),
    );
    expect(empty.status).toBe(422);
    await bob.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "deploy",
      pull_number: number,
      state: "closed",
    });
    const closed = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls", {
      owner: "acme",
      repo: "deploy",
      state: "closed",
    });
    expect(closed.data.map((p) => p.number)).toEqual([number]);
    const notMergeable = await settle(
      bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: "acme",
        repo: "deploy",
        pull_number: number,
      }),
    );
    expect(notMergeable.status).toBe(405);
    await bob.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "deploy",
      pull_number: number,
      state: "open",
    });
    await t.idle();
    const actions = t.webhooks.filter((w) => w.event === "pull_request").map((w) => w.action);
    expect(actions).toEqual(["opened", "closed", "reopened"]);
  });

  it("check runs group into one suite per app and commit", async () => {
    const app = await t.installationOctokit("acme");
    const sha = (
      await bob.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        owner: "acme",
        repo: "deploy",
        ref: "heads/main",
      })
    ).data.object.sha;
    const a = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: "acme",
      repo: "deploy",
      name: "a",
      head_sha: sha,
      status: "in_progress",
    });
    const b = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: "acme",
      repo: "deploy",
      name: "b",
      head_sha: sha,
      conclusion: "success",
    });
    expect(a.data.check_suite?.id).toBe(b.data.check_suite?.id);
    const suites = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-suites", {
      owner: "acme",
      repo: "deploy",
      ref: "main",
    });
    expect(suites.data.total_count).toBe(1);
    expect(suites.data.check_suites[0]).toMatchObject({
      status: "in_progress",
      conclusion: null,
      latest_check_runs_count: 2,
    });
    await bob.octokit.request("POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest", {
      owner: "acme",
      repo: "deploy",
      check_suite_id: Number(a.data.check_suite?.id),
    });
    await t.idle();
    const suiteHooks = t.webhooks.filter((w) => w.event === "check_suite");
    // The earlier push of "topic" asked the app to run (requested); the button press is "rerequested".
    expect(suiteHooks.map((w) => w.action)).toEqual(["requested", "rerequested"]);
    expect(suiteHooks[1]?.payload).toMatchObject({
      check_suite: { head_sha: sha },
      sender: { login: "bob" },
    });
    const all = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner: "acme",
      repo: "deploy",
      ref: "main",
      filter: "all",
    });
    expect(all.data.check_runs.map((r) => r.name).sort()).toEqual(["a", "b"]);
  });
});
