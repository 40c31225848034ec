import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { Octokit } from "@octokit/rest";
import { startSandbox } from "../src/index.js";
import { addFormats, errorsOf, webhookErrors } from "../src/testing/webhook-schemas.js";

/**
 * Errors of a REST body against GitHub's published response schema (sandbox/test/fixtures/openapi-rest).
 * `POST /forks` 202 is `full-repository` like `GET /repos/{o}/{r}`, and `GET /forks` is an array of
 * `minimal-repository` like `GET /orgs/{org}/repos`: those operations' fixtures are reused.
 */
function restErrors(fixture: string, body: unknown): string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const path = join(import.meta.dirname, "fixtures", "openapi-rest", `${fixture}.json`);
  return errorsOf(ajv.compile(JSON.parse(readFileSync(path, "utf8")) as object), body);
}

const owner = "acme";
const repo = "gitops";

interface RepoJson {
  id: number;
  full_name: string;
  fork: boolean;
  private: boolean;
  forks_count: number;
  owner: { login: string; type: string };
  parent?: { full_name: string };
  source?: { full_name: string };
  default_branch: string;
}

interface PullJson {
  number: number;
  head: {
    label: string;
    ref: string;
    sha: string;
    user: { login: string };
    repo: { full_name: string; fork: boolean };
  };
  base: { ref: string; repo: { full_name: string } };
  maintainer_can_modify: boolean;
  merged: boolean;
  merge_commit_sha: string | null;
}

describe("sandbox: forks and pull requests from forks", () => {
  let t: TestSandbox;
  let alice: TestUser; // acme owner
  let bob: TestUser; // write on acme/gitops
  let carol: TestUser; // read on acme/gitops
  let mallory: TestUser; // outsider: no access at all
  let malloryFork: { owner: string; name: string };

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    carol = await t.createUser("carol");
    mallory = await t.createUser("mallory");
    await t.createOrg(owner, "alice");
    await t.createRepo(owner, repo);
    await t.createRepo(owner, "secret", { private: true });
    await t.createRepo(owner, "unrelated");
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
    // A second branch in the parent, to see that a fork starts with every branch.
    const dir = await t.clone(owner, repo, alice.token);
    await t.commit(dir, { "dev.txt": "dev\n" }, "dev branch");
    expect((await t.push(dir, "HEAD:refs/heads/dev")).code).toBe(0);
    await t.idle();
    malloryFork = await t.fork(mallory, owner, repo);
    await t.idle();
  });
  afterAll(async () => t.close());

  const branches = async (who: TestUser, o: string, r: string) => {
    const { data } = await who.octokit.request("GET /repos/{owner}/{repo}/branches", { owner: o, repo: r });
    return (data as { name: string; commit: { sha: string } }[])
      .map((b) => `${b.name}=${b.commit.sha}`)
      .sort();
  };

  const lsRemote = async (o: string, r: string, token: string) => {
    const result = await t.git(t.root, ["ls-remote", t.remoteUrl(o, r, token)]);
    expect(result.code).toBe(0);
    return new Map(
      result.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [sha = "", ref = ""] = line.split("\t");
          return [ref, sha] as const;
        }),
    );
  };

  /** Mallory commits `files` on `branch` of her fork (from the fork's main) and pushes it. */
  async function pushToFork(branch: string, files: Record<string, string>, message: string) {
    const dir = await t.clone(malloryFork.owner, malloryFork.name, mallory.token);
    const exists = await t.git(dir, ["rev-parse", "--verify", "--quiet", `origin/${branch}`]);
    await t.git(dir, [
      "checkout",
      "-q",
      "-b",
      branch,
      exists.code === 0 ? `origin/${branch}` : "origin/main",
    ]);
    const sha = await t.commit(dir, files, message, { name: "mallory", email: mallory.email });
    const pushed = await t.push(dir, `HEAD:refs/heads/${branch}`);
    expect(pushed.code, pushed.stderr).toBe(0);
    return { dir, sha };
  }

  const openFromFork = (branch: string, extra: Record<string, unknown> = {}) =>
    mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner,
      repo,
      title: `from the fork: ${branch}`,
      head: `mallory:${branch}`,
      base: "main",
      ...extra,
    });

  it("POST /forks answers 202 with the fork: fork true, parent and source, owned by the caller", async () => {
    const res = await settle(
      mallory.octokit.request("GET /repos/{owner}/{repo}", { owner: "mallory", repo }),
    );
    expect(res.status).toBe(200);
    const fork = res.data as RepoJson;
    expect(fork.full_name).toBe("mallory/gitops");
    expect(fork.fork).toBe(true);
    expect(fork.private).toBe(false);
    expect(fork.owner).toMatchObject({ login: "mallory", type: "User" });
    expect(fork.parent?.full_name).toBe("acme/gitops");
    expect(fork.source?.full_name).toBe("acme/gitops");
    expect(fork.default_branch).toBe("main");
    // Forking again answers the same fork, with 202 again.
    const again = await settle(mallory.octokit.request("POST /repos/{owner}/{repo}/forks", { owner, repo }));
    expect(again.status).toBe(202);
    expect((again.data as RepoJson).id).toBe(fork.id);
    const parent = (await alice.octokit.request("GET /repos/{owner}/{repo}", { owner, repo }))
      .data as RepoJson;
    expect(parent.fork).toBe(false);
    expect(parent.forks_count).toBe(1);
    expect(parent.parent).toBeUndefined();
    const list = await alice.octokit.request("GET /repos/{owner}/{repo}/forks", { owner, repo });
    expect((list.data as RepoJson[]).map((r) => r.full_name)).toEqual(["mallory/gitops"]);
  });

  it("the fork starts with the parent's branches (real objects); default_branch_only copies only the default", async () => {
    expect(await branches(mallory, "mallory", repo)).toEqual(await branches(alice, owner, repo));
    expect((await branches(mallory, "mallory", repo)).length).toBe(2);
    const only = await t.fork(bob, owner, repo, { defaultBranchOnly: true, name: "gitops-main" });
    expect(only).toEqual({ owner: "bob", name: "gitops-main" });
    expect((await branches(bob, "bob", "gitops-main")).map((b) => b.split("=")[0])).toEqual(["main"]);
    // The objects are really there: a clone of the fork checks out the parent's files.
    const dir = await t.clone("mallory", repo, mallory.token);
    expect((await t.git(dir, ["cat-file", "-p", "origin/dev:dev.txt"])).stdout).toBe("dev\n");
  });

  it("forking needs read access: a private repository is 404 to an outsider; a fork into an org needs membership", async () => {
    const res = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/forks", { owner, repo: "secret" }),
    );
    expect(res.status).toBe(404);
    const intoOrg = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/forks", { owner, repo, organization: "acme" }),
    );
    expect(intoOrg.status).toBe(403);
    // A private repository's fork (by a reader) is private, and readable by its owner only.
    await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner,
      repo: "secret",
      username: "carol",
      permission: "pull",
    });
    const fork = await t.fork(carol, owner, "secret");
    const mine = await carol.octokit.request("GET /repos/{owner}/{repo}", {
      owner: fork.owner,
      repo: fork.name,
    });
    expect((mine.data as RepoJson).private).toBe(true);
    const theirs = await settle(
      mallory.octokit.request("GET /repos/{owner}/{repo}", { owner: fork.owner, repo: fork.name }),
    );
    expect(theirs.status).toBe(404);
  });

  it("the fork's owner may push to it, others may not; its events do not reach the app (not installed on the user)", async () => {
    const before = t.webhooks.length;
    const { dir } = await pushToFork("own-branch", { "x.txt": "x\n" }, "mine");
    await t.idle();
    const denied = await t.git(dir, [
      "push",
      t.remoteUrl("mallory", repo, bob.token),
      "HEAD:refs/heads/bobs",
    ]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("denied to bob");
    const forkEvents = t.webhooks
      .slice(before)
      .filter(
        (h) => (h.payload.repository as { full_name?: string } | undefined)?.full_name === "mallory/gitops",
      );
    expect(forkEvents).toEqual([]);
    // Nor was the fork's creation announced.
    expect(
      t.webhooks.filter((h) =>
        (h.payload.repository as { full_name?: string } | undefined)?.full_name?.startsWith("mallory/"),
      ),
    ).toEqual([]);
  });

  it("a PR from the fork: head is the fork's branch (label, user, repo), maintainer_can_modify honoured, schema-valid opened", async () => {
    const { sha } = await pushToFork("feature", { "apps/web.yaml": "replicas: 2\n" }, "scale web");
    await t.idle();
    const before = t.webhooks.length;
    const res = await settle(openFromFork("feature", { maintainer_can_modify: true }));
    expect(res.status).toBe(201);
    const pr = res.data as PullJson;
    expect(pr.head).toMatchObject({
      label: "mallory:feature",
      ref: "feature",
      sha,
      user: { login: "mallory" },
    });
    expect(pr.head.repo).toMatchObject({ full_name: "mallory/gitops", fork: true });
    expect(pr.base.repo.full_name).toBe("acme/gitops");
    expect(pr.maintainer_can_modify).toBe(true);
    await t.idle();
    const opened = t.webhooks.slice(before).filter((h) => h.event === "pull_request");
    expect(opened.map((h) => h.action)).toEqual(["opened"]);
    const hook = opened[0]!;
    expect((hook.payload.repository as { full_name: string }).full_name).toBe("acme/gitops");
    expect((hook.payload.pull_request as PullJson).head.repo.full_name).toBe("mallory/gitops");
    expect(webhookErrors(hook)).toEqual([]);
    // GET /pulls?head= uses the fork owner's label.
    const listed = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls", {
      owner,
      repo,
      head: "mallory:feature",
    });
    expect(listed.data.map((p) => p.number)).toEqual([pr.number]);
    const notBase = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls", {
      owner,
      repo,
      head: "acme:feature",
    });
    expect(notBase.data).toEqual([]);
  });

  it("the head commit is readable through the base repository's API, and refs/pull/N/head is in the base repository", async () => {
    const { sha } = await pushToFork("readable", { "apps/api.yaml": "image: api:2\n" }, "api 2");
    const pr = (await openFromFork("readable")).data as PullJson;
    const reader = alice.octokit;
    const commit = await reader.request("GET /repos/{owner}/{repo}/commits/{ref}", { owner, repo, ref: sha });
    expect((commit.data as { sha: string }).sha).toBe(sha);
    const content = await reader.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path: "apps/api.yaml",
      ref: sha,
    });
    expect(Buffer.from((content.data as { content: string }).content, "base64").toString()).toBe(
      "image: api:2\n",
    );
    const files = await reader.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect((files.data as { filename: string }[]).map((f) => f.filename)).toEqual(["apps/api.yaml"]);
    const commits = await reader.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect((commits.data as { sha: string }[]).map((c) => c.sha)).toEqual([sha]);
    const compare = await reader.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      owner,
      repo,
      basehead: `main...${sha}`,
    });
    expect((compare.data as { ahead_by: number }).ahead_by).toBe(1);
    const refs = await lsRemote(owner, repo, alice.token);
    expect(refs.get(`refs/pull/${pr.number}/head`)).toBe(sha);
    // The fork's branch is not a branch of the base repository.
    expect(refs.has("refs/heads/readable")).toBe(false);
  });

  it("same-repository PRs get refs/pull/N/head too", async () => {
    const pr = await t.openPullRequest({
      owner,
      repo,
      user: bob,
      branch: "bob-change",
      files: { "b.txt": "b\n" },
    });
    expect((await lsRemote(owner, repo, bob.token)).get(`refs/pull/${pr.number}/head`)).toBe(pr.headSha);
  });

  it("nobody can push refs/pull/* (GitHub owns them)", async () => {
    const dir = await t.clone(owner, repo, bob.token);
    await t.commit(dir, { "forged.txt": "forged\n" }, "forged head");
    const pushed = await t.push(dir, "HEAD:refs/pull/1/head", { force: true });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr + pushed.stdout).toContain("hidden ref");
  });

  it("a head that is not in the base's fork network, or not readable, is invalid (422)", async () => {
    // acme/unrelated has a main too, but it is not a fork of acme/gitops.
    const unrelated = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner,
        repo,
        title: "x",
        head: "acme:main",
        head_repo: "acme/unrelated",
        base: "main",
      }),
    );
    expect(unrelated.status).toBe(422);
    const nobody = await settle(openFromFork("no-such-branch"));
    expect(nobody.status).toBe(422);
    const unknownOwner = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner,
        repo,
        title: "x",
        head: "nobody:main",
        base: "main",
      }),
    );
    expect(unknownOwner.status).toBe(422);
    // carol's private fork of acme/secret is not readable by mallory: she cannot use it as a head.
    const hidden = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner,
        repo: "secret",
        title: "x",
        head: "carol:main",
        base: "main",
      }),
    );
    expect(hidden.status).toBe(404); // mallory cannot even read acme/secret
  });

  it("head_repo names the fork explicitly", async () => {
    const { sha } = await pushToFork("explicit", { "e.txt": "e\n" }, "explicit head_repo");
    const res = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner,
        repo,
        title: "explicit",
        head: "explicit",
        head_repo: "mallory/gitops",
        base: "main",
      }),
    );
    expect(res.status).toBe(201);
    expect((res.data as PullJson).head).toMatchObject({ label: "mallory:explicit", sha });
  });

  it("a push to the fork's branch synchronizes the PR in the base repository (schema-valid, sender = pusher)", async () => {
    const first = await pushToFork("sync", { "s.txt": "1\n" }, "sync 1");
    const pr = (await openFromFork("sync")).data as PullJson;
    await t.idle();
    const before = t.webhooks.length;
    await t.commit(first.dir, { "s.txt": "2\n" }, "sync 2", { name: "mallory", email: mallory.email });
    expect((await t.push(first.dir, "HEAD:refs/heads/sync")).code).toBe(0);
    const second = (await t.git(first.dir, ["rev-parse", "HEAD"])).stdout.trim();
    await t.idle();
    const hooks = t.webhooks.slice(before);
    // Nothing about the fork itself (no push, no check_suite): the app is not installed on mallory.
    expect(hooks.map((h) => `${h.event}.${h.action ?? ""}`)).toEqual(["pull_request.synchronize"]);
    const sync = hooks[0]!;
    expect(sync.payload).toMatchObject({ before: first.sha, after: second, number: pr.number });
    expect((sync.payload.repository as { full_name: string }).full_name).toBe("acme/gitops");
    expect((sync.payload.sender as { login: string }).login).toBe("mallory");
    expect((sync.payload.pull_request as PullJson).head).toMatchObject({
      sha: second,
      label: "mallory:sync",
    });
    expect(webhookErrors(sync)).toEqual([]);
    expect((await lsRemote(owner, repo, alice.token)).get(`refs/pull/${pr.number}/head`)).toBe(second);
    const commit = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner,
      repo,
      ref: second,
    });
    expect((commit.data as { sha: string }).sha).toBe(second);
  });

  it("a push to a same-named branch of the BASE repository does not move the fork PR", async () => {
    const fromFork = await pushToFork("samename", { "n.txt": "fork\n" }, "fork side");
    const pr = (await openFromFork("samename")).data as PullJson;
    const dir = await t.clone(owner, repo, bob.token);
    await t.commit(dir, { "n.txt": "base\n" }, "base side");
    expect((await t.push(dir, "HEAD:refs/heads/samename")).code).toBe(0);
    await t.idle();
    const now = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect((now.data as PullJson).head.sha).toBe(fromFork.sha);
  });

  it("an API ref update in the fork synchronizes the PR too", async () => {
    const first = await pushToFork("api-move", { "a.txt": "1\n" }, "api 1");
    const pr = (await openFromFork("api-move")).data as PullJson;
    const dir = first.dir;
    await t.commit(dir, { "a.txt": "2\n" }, "api 2", { name: "mallory", email: mallory.email });
    const second = (await t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    // The commit reaches the fork on another branch, then the PR's branch is moved by the API.
    expect((await t.push(dir, "HEAD:refs/heads/api-move-next")).code).toBe(0);
    await mallory.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: "mallory",
      repo,
      ref: "heads/api-move",
      sha: second,
    });
    await t.idle();
    const now = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect((now.data as PullJson).head.sha).toBe(second);
    expect((await lsRemote(owner, repo, alice.token)).get(`refs/pull/${pr.number}/head`)).toBe(second);
  });

  it("check runs on a fork PR's head name no pull requests (as on GitHub)", async () => {
    const { sha } = await pushToFork("checked", { "c.txt": "c\n" }, "checked");
    await openFromFork("checked");
    const app = await t.installationOctokit(owner);
    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner,
      repo,
      name: "gate",
      head_sha: sha,
    });
    expect((run.data as { pull_requests: unknown[] }).pull_requests).toEqual([]);
  });

  it("merging a fork PR works; an outsider's or reader's approval does not count toward required reviews", async () => {
    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner,
      repo,
      branch: "main",
      required_status_checks: null,
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1 },
      restrictions: null,
    });
    const { sha } = await pushToFork("to-merge", { "apps/merged.yaml": "merged: true\n" }, "to merge");
    const pr = (await openFromFork("to-merge")).data as PullJson;
    const merge = () =>
      settle(
        alice.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
          owner,
          repo,
          pull_number: pr.number,
          merge_method: "merge",
        }),
      );
    const own = await settle(
      mallory.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner,
        repo,
        pull_number: pr.number,
        event: "APPROVE",
      }),
    );
    expect(own.status).toBe(422); // her own PR
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner,
      repo,
      pull_number: pr.number,
      event: "APPROVE",
    });
    const refused = await merge();
    expect(refused.status).toBe(405);
    await bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner,
      repo,
      pull_number: pr.number,
      event: "APPROVE",
    });
    const merged = await merge();
    expect(merged.status, JSON.stringify(merged.data)).toBe(200);
    const mergeSha = (merged.data as { sha: string }).sha;
    const commit = await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner,
      repo,
      commit_sha: mergeSha,
    });
    const data = commit.data as { parents: { sha: string }[]; message: string };
    expect(data.parents.map((p) => p.sha)[1]).toBe(sha);
    expect(data.message).toContain(`Merge pull request #${pr.number} from mallory/to-merge`);
    const content = await alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path: "apps/merged.yaml",
      ref: "main",
    });
    expect((content.data as { sha: string }).sha).toBeTruthy();
    const after = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: pr.number,
    });
    expect((after.data as PullJson).merged).toBe(true);
  });

  it("squash and rebase merges of fork PRs work", async () => {
    for (const method of ["squash", "rebase"] as const) {
      const { sha } = await pushToFork(`m-${method}`, { [`${method}.txt`]: `${method}\n` }, `${method} it`);
      const pr = (await openFromFork(`m-${method}`)).data as PullJson;
      await bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner,
        repo,
        pull_number: pr.number,
        event: "APPROVE",
      });
      const merged = await settle(
        alice.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
          owner,
          repo,
          pull_number: pr.number,
          merge_method: method,
        }),
      );
      expect(merged.status, JSON.stringify(merged.data)).toBe(200);
      expect((merged.data as { sha: string }).sha).not.toBe(sha);
      const file = await alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo,
        path: `${method}.txt`,
        ref: "main",
      });
      expect(Buffer.from((file.data as { content: string }).content, "base64").toString()).toBe(
        `${method}\n`,
      );
    }
  });

  it("update-branch on a fork PR is refused rather than writing a branch into the base repository", async () => {
    await pushToFork("stale", { "st.txt": "st\n" }, "stale");
    const pr = (await openFromFork("stale")).data as PullJson;
    const res = await settle(
      alice.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch", {
        owner,
        repo,
        pull_number: pr.number,
      }),
    );
    expect(res.status).toBe(422);
    expect((await lsRemote(owner, repo, alice.token)).has("refs/heads/stale")).toBe(false);
  });

  it("fork, fork list and fork PR responses match GitHub's OpenAPI schemas", async () => {
    const again = await mallory.octokit.request("POST /repos/{owner}/{repo}/forks", { owner, repo });
    expect(again.status).toBe(202);
    expect(restErrors("get__repos__{owner}__{repo}.200", again.data)).toEqual([]);
    const got = await mallory.octokit.request("GET /repos/{owner}/{repo}", { owner: "mallory", repo });
    expect(restErrors("get__repos__{owner}__{repo}.200", got.data)).toEqual([]);
    const list = await alice.octokit.request("GET /repos/{owner}/{repo}/forks", { owner, repo });
    expect(restErrors("get__orgs__{org}__repos.200", list.data)).toEqual([]);
    await pushToFork("fidelity", { "f.txt": "f\n" }, "fidelity");
    const created = await openFromFork("fidelity");
    expect(restErrors("post__repos__{owner}__{repo}__pulls.201", created.data)).toEqual([]);
    const pr = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: created.data.number,
    });
    expect(restErrors("get__repos__{owner}__{repo}__pulls__{pull_number}.200", pr.data)).toEqual([]);
  });

  it("forks and fork PRs survive a restart (state.json); the head ref too", async () => {
    const dir = `${t.root}/restart-forks`;
    const first = await startSandbox({ dir });
    const admin = new Octokit({ auth: first.adminToken, baseUrl: first.apiUrl });
    await admin.request("POST /admin/users", { login: "olga", email: "olga@x.test" });
    await admin.request("POST /admin/users", { login: "eve", email: "eve@x.test" });
    await admin.request("POST /admin/organizations", { login: "org1", admin: "olga" });
    await admin.request("POST /orgs/{org}/repos", { org: "org1", name: "r", auto_init: true });
    const eveToken = (
      (
        await admin.request("POST /admin/users/{username}/authorizations", {
          username: "eve",
          scopes: ["repo"],
        })
      ).data as { token: string }
    ).token;
    const eve = new Octokit({ auth: eveToken, baseUrl: first.apiUrl });
    await eve.request("POST /repos/{owner}/{repo}/forks", { owner: "org1", repo: "r" });
    // A commit on a branch of the fork, through the git database API.
    const main = await eve.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: "eve",
      repo: "r",
      ref: "heads/main",
    });
    const parent = main.data.object.sha;
    const base = await eve.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner: "eve",
      repo: "r",
      commit_sha: parent,
    });
    const tree = await eve.request("POST /repos/{owner}/{repo}/git/trees", {
      owner: "eve",
      repo: "r",
      base_tree: base.data.tree.sha,
      tree: [{ path: "eve.txt", mode: "100644", type: "blob", content: "eve\n" }],
    });
    const commit = await eve.request("POST /repos/{owner}/{repo}/git/commits", {
      owner: "eve",
      repo: "r",
      message: "eve's change",
      tree: tree.data.sha,
      parents: [parent],
    });
    await eve.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: "eve",
      repo: "r",
      ref: "refs/heads/topic",
      sha: commit.data.sha,
    });
    const pr = await eve.request("POST /repos/{owner}/{repo}/pulls", {
      owner: "org1",
      repo: "r",
      title: "t",
      head: "eve:topic",
      base: "main",
    });
    await first.close();
    const second = await startSandbox({ dir });
    try {
      const again = new Octokit({ auth: second.adminToken, baseUrl: second.apiUrl });
      const fork = (await again.request("GET /repos/{owner}/{repo}", { owner: "eve", repo: "r" }))
        .data as RepoJson;
      expect(fork).toMatchObject({
        fork: true,
        parent: { full_name: "org1/r" },
        source: { full_name: "org1/r" },
      });
      const reloaded = await again.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
        owner: "org1",
        repo: "r",
        pull_number: pr.data.number,
      });
      expect(reloaded.data.head).toMatchObject({
        label: "eve:topic",
        sha: commit.data.sha,
        repo: { full_name: "eve/r" },
      });
      const ref = await again.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        owner: "org1",
        repo: "r",
        ref: `pull/${pr.data.number}/head`,
      });
      expect(ref.data.object.sha).toBe(commit.data.sha);
    } finally {
      await second.close();
    }
  });

  it("a fork into an org (by a member) is org-owned, announced to the app as repository.created (schema-valid); same owner and name is refused", async () => {
    const same = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/forks", { owner, repo, organization: owner }),
    );
    expect(same.status).toBe(422);
    await t.idle();
    const before = t.webhooks.length;
    const fork = await t.fork(alice, owner, repo, { organization: owner, name: "gitops-staging" });
    expect(fork).toEqual({ owner, name: "gitops-staging" });
    await t.idle();
    const hooks = t.webhooks.slice(before);
    expect(hooks.map((h) => `${h.event}.${h.action ?? ""}`)).toEqual(["repository.created"]);
    const hook = hooks[0]!;
    expect(hook.payload.repository).toMatchObject({ full_name: "acme/gitops-staging", fork: true });
    expect(webhookErrors(hook)).toEqual([]);
    const json = (await alice.octokit.request("GET /repos/{owner}/{repo}", { owner, repo: "gitops-staging" }))
      .data as RepoJson;
    expect(json.owner).toMatchObject({ login: owner, type: "Organization" });
    expect(json.parent?.full_name).toBe("acme/gitops");
  });
});
