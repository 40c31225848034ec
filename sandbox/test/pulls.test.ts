import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";
import { verifyWithGnupg } from "./helpers/gnupg.js";

describe("sandbox: pull requests, reviews, merges", () => {
  let t: TestSandbox;
  let alice: TestUser; // org owner
  let bob: TestUser; // PR author (write)
  let carol: TestUser; // reviewer (write)

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    carol = await t.createUser("carol");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    for (const u of ["bob", "carol"])
      await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        owner: "acme",
        repo: "deploy",
        username: u,
        permission: "push",
      });
  });
  afterAll(async () => t.close());

  async function openPr(branch: string, files: Record<string, string>) {
    const { dir, headSha, number } = await t.openPullRequest({
      owner: "acme",
      repo: "deploy",
      user: bob,
      branch,
      files,
      title: `PR ${branch}`,
    });
    const { data: pr } = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "deploy",
      pull_number: number,
    });
    return { dir, sha: headSha, pr };
  }

  it("open → push → synchronize → review → merge commit signed by web-flow", async () => {
    const { dir, sha, pr } = await openPr("feature-merge", { "app/a.yaml": "a: 1\n" });
    expect(pr).toMatchObject({
      number: 1,
      state: "open",
      head: { ref: "feature-merge", sha },
      base: { ref: "main" },
      merged: false,
    });
    await t.idle();
    const opened = t.webhooks.find((w) => w.event === "pull_request" && w.action === "opened");
    expect(opened?.payload).toMatchObject({
      number: 1,
      pull_request: { head: { sha } },
      sender: { login: "bob" },
    });

    const second = await t.commit(dir, { "app/a.yaml": "a: 2\n" }, "tweak", {
      name: "Bob",
      email: bob.email,
    });
    expect((await t.push(dir, "HEAD:refs/heads/feature-merge")).code).toBe(0);
    await t.idle();
    const sync = t.webhooks.find((w) => w.event === "pull_request" && w.action === "synchronize");
    expect(sync?.payload).toMatchObject({
      before: sha,
      after: second,
      pull_request: { head: { sha: second } },
    });

    const files = await carol.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      owner: "acme",
      repo: "deploy",
      pull_number: 1,
    });
    expect(files.data.map((f) => [f.filename, f.status])).toEqual([["app/a.yaml", "added"]]);
    const commits = await carol.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
      owner: "acme",
      repo: "deploy",
      pull_number: 1,
    });
    expect(commits.data.map((c) => c.sha)).toEqual([sha, second]);
    expect(commits.data[0]?.commit.verification).toMatchObject({ verified: false, reason: "unsigned" });

    const self = await settle(
      bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner: "acme",
        repo: "deploy",
        pull_number: 1,
        event: "APPROVE",
      }),
    );
    expect(self.status).toBe(422);
    const review = await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: "acme",
      repo: "deploy",
      pull_number: 1,
      event: "APPROVE",
    });
    expect(review.data).toMatchObject({ state: "APPROVED", commit_id: second, user: { login: "carol" } });
    await t.idle();
    expect(t.webhooks.some((w) => w.event === "pull_request_review" && w.action === "submitted")).toBe(true);

    const stale = await settle(
      bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: "acme",
        repo: "deploy",
        pull_number: 1,
        sha,
      }),
    );
    expect(stale.status).toBe(409);
    const merged = await bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: "acme",
      repo: "deploy",
      pull_number: 1,
      merge_method: "merge",
      sha: second,
    });
    expect(merged.data.merged).toBe(true);
    await t.idle();
    const closed = t.webhooks.find((w) => w.event === "pull_request" && w.action === "closed");
    expect(closed?.payload).toMatchObject({
      pull_request: { merged: true, merge_commit_sha: merged.data.sha },
    });
    const push = t.webhooks.filter((w) => w.event === "push").at(-1);
    expect(push?.payload).toMatchObject({ ref: "refs/heads/main", after: merged.data.sha });

    await t.git(dir, ["fetch", "-q", "origin"]);
    const raw = (await t.git(dir, ["cat-file", "commit", merged.data.sha])).stdout;
    expect(raw.match(/^parent /gm)).toHaveLength(2);
    expect(raw).toMatch(/^committer GitHub <noreply@github\.com> /m);
    expect(verifyWithGnupg(dir, merged.data.sha, t.sandbox.webFlowPublicKey).ok).toBe(true);
    const detail = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner: "acme",
      repo: "deploy",
      ref: merged.data.sha,
    });
    expect(detail.data.commit.verification).toMatchObject({ verified: true, reason: "valid" });
    const pulls = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
      owner: "acme",
      repo: "deploy",
      commit_sha: merged.data.sha,
    });
    expect(pulls.data.map((p) => p.number)).toEqual([1]);
  });

  it("squash makes one signed single-parent commit with the PR tree; rebase replays unsigned", async () => {
    const squash = await openPr("feature-squash", { "app/s.yaml": "s: 1\n" });
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: "acme",
      repo: "deploy",
      pull_number: squash.pr.number,
      event: "APPROVE",
    });
    const sq = await bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: "acme",
      repo: "deploy",
      pull_number: squash.pr.number,
      merge_method: "squash",
    });
    await t.git(squash.dir, ["fetch", "-q", "origin"]);
    const sqRaw = (await t.git(squash.dir, ["cat-file", "commit", sq.data.sha])).stdout;
    expect(sqRaw.match(/^parent /gm)).toHaveLength(1);
    expect((await t.git(squash.dir, ["rev-parse", `${sq.data.sha}^{tree}`])).stdout).toBe(
      (await t.git(squash.dir, ["rev-parse", `${squash.sha}^{tree}`])).stdout,
    );
    expect(verifyWithGnupg(squash.dir, sq.data.sha, t.sandbox.webFlowPublicKey).ok).toBe(true);

    const rebase = await openPr("feature-rebase", { "app/r.yaml": "r: 1\n" });
    await t.commit(rebase.dir, { "app/r2.yaml": "r: 2\n" }, "second", { name: "Bob", email: bob.email });
    await t.push(rebase.dir, "HEAD:refs/heads/feature-rebase");
    const rb = await bob.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: "acme",
      repo: "deploy",
      pull_number: rebase.pr.number,
      merge_method: "rebase",
    });
    await t.git(rebase.dir, ["fetch", "-q", "origin"]);
    const log = (await t.git(rebase.dir, ["log", "--format=%s|%G?|%an", "-3", rb.data.sha])).stdout
      .trim()
      .split("\n");
    expect(log[0]).toBe("second|N|Bob");
    expect(log[1]).toBe("PR feature-rebase|N|bob");
    expect(log[2]).toMatch(/^PR feature-squash \(#\d+\)\|/);
    const parents = (await t.git(rebase.dir, ["rev-list", "--parents", "-1", rb.data.sha])).stdout
      .trim()
      .split(" ");
    expect(parents).toHaveLength(2);
  });

  it("PATCH base sends edited with changes.base; dismissal sends pull_request_review dismissed", async () => {
    await alice.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: "acme",
      repo: "deploy",
      ref: "refs/heads/staging",
      sha: (
        await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
          owner: "acme",
          repo: "deploy",
          ref: "heads/main",
        })
      ).data.object.sha,
    });
    const { pr } = await openPr("feature-edit", { "app/e.yaml": "e: 1\n" });
    await bob.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "deploy",
      pull_number: pr.number,
      base: "staging",
    });
    await t.idle();
    const edited = t.webhooks.filter((w) => w.event === "pull_request" && w.action === "edited").at(-1);
    expect(edited?.payload).toMatchObject({
      changes: { base: { ref: { from: "main" } } },
      pull_request: { base: { ref: "staging" } },
    });
    const review = await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: "acme",
      repo: "deploy",
      pull_number: pr.number,
      event: "APPROVE",
    });
    await alice.octokit.request(
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
      {
        owner: "acme",
        repo: "deploy",
        pull_number: pr.number,
        review_id: Number(review.data.id),
        message: "stale",
      },
    );
    await t.idle();
    expect(t.webhooks.filter((w) => w.event === "pull_request_review").at(-1)?.action).toBe("dismissed");
    const reviews = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: "acme",
      repo: "deploy",
      pull_number: pr.number,
    });
    expect(reviews.data.map((r) => r.state)).toEqual(["DISMISSED"]);
  });
});
