import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

describe("sandbox: git smart HTTP", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    reader = await t.createUser("reader");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "public-repo");
    await t.createRepo("acme", "private-repo", { private: true });
  });
  afterAll(async () => t.close());

  it("clones with token auth; anonymous clones of private repos and bad tokens are refused", async () => {
    const dir = await t.clone("acme", "private-repo", alice.token);
    const log = await t.git(dir, ["log", "--format=%s", "main"]);
    expect(log.stdout.trim()).toBe("Initial commit");
    const anonymous = await t.git(t.root, ["clone", t.remoteUrl("acme", "private-repo"), `${t.root}/anon`]);
    expect(anonymous.code).not.toBe(0);
    const bad = await t.git(t.root, [
      "clone",
      t.remoteUrl("acme", "private-repo", "ghp_bogus"),
      `${t.root}/bad`,
    ]);
    expect(bad.code).not.toBe(0);
    const noAccess = await t.git(t.root, [
      "clone",
      t.remoteUrl("acme", "private-repo", reader.token),
      `${t.root}/noaccess`,
    ]);
    expect(noAccess.code).not.toBe(0);
    expect(noAccess.stderr).toMatch(/not found|404/i);
    const publicAnon = await t.git(t.root, [
      "clone",
      "--quiet",
      t.remoteUrl("acme", "public-repo"),
      `${t.root}/pub`,
    ]);
    expect(publicAnon.code).toBe(0);
  });

  it("git routes can be faulted: an injected 502 on fetch fails the clone once", async () => {
    t.sandbox.instrumentation.setFault("GIT GET git-upload-pack", { status: 502, times: 1 });
    const failed = await t.git(t.root, [
      "clone",
      "--quiet",
      t.remoteUrl("acme", "public-repo", alice.token),
      `${t.root}/faulted`,
    ]);
    expect(failed.code).not.toBe(0);
    const retried = await t.git(t.root, [
      "clone",
      "--quiet",
      t.remoteUrl("acme", "public-repo", alice.token),
      `${t.root}/faulted`,
    ]);
    expect(retried.code).toBe(0);
  });

  it("the pre-receive callback refuses callers without the hook secret", async () => {
    const res = await fetch(`${t.sandbox.apiUrl}/sandbox/hooks/pre-receive`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pushId: "x", updates: [] }),
    });
    expect(res.status).toBe(403);
  });

  it("auto_init commits are signed by the web-flow key", async () => {
    const dir = await t.clone("acme", "public-repo", alice.token);
    const raw = await t.git(dir, ["cat-file", "commit", "HEAD"]);
    expect(raw.stdout).toMatch(/^gpgsig -----BEGIN PGP SIGNATURE-----/m);
    expect(raw.stdout).toMatch(/^committer GitHub <noreply@github\.com> \d+ \+0000$/m);
  });

  it("pushes need write access, then emit a push webhook with GitHub's payload", async () => {
    const dir = await t.clone("acme", "public-repo", reader.token);
    await t.commit(dir, { "a.txt": "a\n" }, "add a");
    const refused = await t.push(dir, "HEAD:refs/heads/feature");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/denied|403/i);

    const writer = await t.clone("acme", "public-repo", alice.token);
    const before = (await t.git(writer, ["rev-parse", "HEAD"])).stdout.trim();
    const sha = await t.commit(writer, { "app/config.yaml": "replicas: 2\n" }, "scale up", {
      name: "Alice",
      email: "alice@example.test",
    });
    const pushed = await t.push(writer, "HEAD:refs/heads/main");
    expect(pushed.code).toBe(0);
    await t.idle();
    const push = t.webhooks.filter((w) => w.event === "push").at(-1);
    expect(push?.signatureValid).toBe(true);
    expect(push?.payload).toMatchObject({
      ref: "refs/heads/main",
      before,
      after: sha,
      created: false,
      deleted: false,
      forced: false,
      pusher: { name: "alice" },
      sender: { login: "alice" },
      repository: { full_name: "acme/public-repo" },
    });
    const commits = push?.payload.commits as { id: string; added: string[]; author: { username?: string } }[];
    expect(commits.map((c) => c.id)).toEqual([sha]);
    expect(commits[0]?.added).toEqual(["app/config.yaml"]);
    expect(commits[0]?.author.username).toBe("alice");
    expect((push?.payload.installation as { id: number }).id).toBeGreaterThan(0);
    const branch = await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: "acme",
      repo: "public-repo",
      ref: "heads/main",
    });
    expect(branch.data.object.sha).toBe(sha);
  });

  it("installation tokens push with x-access-token", async () => {
    const token = await t.installationToken("acme");
    const dir = await t.clone("acme", "private-repo", token);
    await t.commit(dir, { "b.txt": "b\n" }, "bot commit");
    const pushed = await t.push(dir, "HEAD:refs/heads/bot-branch");
    expect(pushed.code).toBe(0);
    await t.idle();
    const push = t.webhooks.filter((w) => w.event === "push").at(-1);
    expect(push?.payload).toMatchObject({
      ref: "refs/heads/bot-branch",
      created: true,
      sender: { login: "pullgate[bot]", type: "Bot" },
    });
  });
});
