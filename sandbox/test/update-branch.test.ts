import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";
import { verifyWithGnupg } from "./helpers/gnupg.js";
import { webhookErrors } from "../src/testing/webhook-schemas.js";

const owner = "acme";
const repo = "deploy";

describe("sandbox: PUT pulls/{n}/update-branch (GitHub's 'Update branch')", () => {
  let t: TestSandbox;
  let alice: TestUser; // org owner
  let bob: TestUser; // PR author (write)
  let carol: TestUser; // read only

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    carol = await t.createUser("carol");
    await t.createOrg(owner, "alice");
    await t.createRepo(owner, repo);
    for (const [username, permission] of [
      ["bob", "push"],
      ["carol", "pull"],
    ] as const)
      await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        owner,
        repo,
        username,
        permission,
      });
  });
  afterAll(async () => t.close());

  /** A PR from `branch` touching `file`, then a commit on main touching `mainFile`. */
  async function behindPull(branch: string, file: string, mainFile: string) {
    const pr = await t.openPullRequest({ owner, repo, user: bob, branch, files: { [file]: `${branch}\n` } });
    const main = await t.clone(owner, repo, alice.token);
    await t.commit(main, { [mainFile]: `main moved for ${branch}\n` }, `main moves (${branch})`);
    expect((await t.push(main, "HEAD:refs/heads/main")).code).toBe(0);
    const mainSha = (await t.git(main, ["rev-parse", "HEAD"])).stdout.trim();
    return { ...pr, mainSha };
  }

  const update = (user: TestUser, pull_number: number, expected_head_sha?: string) =>
    settle(
      user.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch", {
        owner,
        repo,
        pull_number,
        ...(expected_head_sha === undefined ? {} : { expected_head_sha }),
      }),
    );

  it("merges the base into the head with a web-flow-signed commit by the caller, and synchronizes the PR", async () => {
    const pr = await behindPull("feature", "env/a.yaml", "env/b.yaml");
    await t.idle();
    const before = t.webhooks.length;
    const res = await update(bob, pr.number, pr.headSha);
    expect(res.status).toBe(202);
    expect(res.data).toEqual({
      message: "Updating pull request branch.",
      url: `${t.sandbox.gitUrl}${owner}/${repo}/pull/${pr.number}`,
    });

    const { data: pull } = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect(pull.head.sha).not.toBe(pr.headSha);
    const { data: merge } = await bob.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner,
      repo,
      commit_sha: pull.head.sha,
    });
    expect(merge.parents.map((p) => p.sha)).toEqual([pr.headSha, pr.mainSha]);
    expect(merge.message).toBe("Merge branch 'main' into feature");
    expect(merge.author.email).toBe(bob.email);
    expect(merge.committer).toMatchObject({ name: "GitHub", email: "noreply@github.com" });
    expect(merge.verification).toMatchObject({ verified: true, reason: "valid" });
    // Real gpg agrees: the commit verifies with the web-flow public key.
    expect((await t.git(pr.dir, ["fetch", "-q", "origin", "feature"])).code).toBe(0);
    expect(verifyWithGnupg(pr.dir, pull.head.sha, t.sandbox.webFlowPublicKey).ok).toBe(true);
    // Both sides' files are in the new head.
    const files = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect(files.data.map((f) => f.filename)).toEqual(["env/a.yaml"]);

    await t.idle();
    const hooks = t.webhooks.slice(before);
    const sync = hooks.find((h) => h.event === "pull_request" && h.action === "synchronize");
    const push = hooks.find((h) => h.event === "push");
    expect(sync?.payload).toMatchObject({
      before: pr.headSha,
      after: pull.head.sha,
      sender: { login: "bob" },
    });
    expect(push?.payload).toMatchObject({ ref: "refs/heads/feature", after: pull.head.sha });
    for (const hook of [sync, push])
      expect(hook === undefined ? ["missing"] : webhookErrors(hook)).toEqual([]);
  });

  it("refuses a stale expected_head_sha, an up-to-date branch, a conflict and a read-only caller", async () => {
    const pr = await behindPull("stale", "env/c.yaml", "env/d.yaml");
    const stale = await update(bob, pr.number, "0".repeat(40));
    expect(stale.status).toBe(422);
    expect(stale.data).toMatchObject({ message: "expected head sha didn't match current head ref." });
    expect((await update(carol, pr.number)).status).toBe(403);
    expect((await update(bob, pr.number)).status).toBe(202);
    const again = await update(bob, pr.number);
    expect(again.status).toBe(422);
    expect(again.data).toMatchObject({ message: "There are no new commits on the base branch." });

    const conflict = await behindPull("conflict", "env/e.yaml", "env/e.yaml");
    const res = await update(bob, conflict.number, conflict.headSha);
    expect(res.status).toBe(422);
    expect(res.data).toMatchObject({ message: "merge conflict between base and head" });
    const { data: pull } = await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: conflict.number,
    });
    expect(pull.head.sha).toBe(conflict.headSha);
  });

  it("protection on the head branch applies, as for any push", async () => {
    const pr = await behindPull("locked", "env/f.yaml", "env/g.yaml");
    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner,
      repo,
      branch: "locked",
      required_status_checks: null,
      enforce_admins: true,
      required_pull_request_reviews: null,
      restrictions: null,
      lock_branch: true,
    });
    const res = await update(bob, pr.number, pr.headSha);
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.data)).toContain("Cannot change this locked branch.");
  });
});
