import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

const OWNER = "acme";
const REPO = "deploy";

describe("sandbox: Git Database API, contents, compare", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let mainSha: string;
  let key: { privateKey: string; publicKey: string };

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice", "alice@example.test");
    await t.createOrg(OWNER, "alice");
    await t.createRepo(OWNER, REPO);
    mainSha = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        owner: OWNER,
        repo: REPO,
        ref: "heads/main",
      })
    ).data.object.sha;
    key = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Alice", email: "alice@example.test" }],
      format: "armored",
    });
  });
  afterAll(async () => t.close());

  it("blobs and trees: base_tree, nested paths, deletion, recursive listing", async () => {
    const blob = await alice.octokit.request("POST /repos/{owner}/{repo}/git/blobs", {
      owner: OWNER,
      repo: REPO,
      content: Buffer.from("bin\0ary").toString("base64"),
      encoding: "base64",
    });
    const readBack = await alice.octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
      owner: OWNER,
      repo: REPO,
      file_sha: blob.data.sha,
    });
    expect(Buffer.from(readBack.data.content, "base64").toString()).toBe("bin\0ary");
    const base = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: OWNER,
        repo: REPO,
        commit_sha: mainSha,
      })
    ).data.tree.sha;
    const tree = await alice.octokit.request("POST /repos/{owner}/{repo}/git/trees", {
      owner: OWNER,
      repo: REPO,
      base_tree: base,
      tree: [
        { path: "deep/er/file.txt", mode: "100644", type: "blob", content: "hello\n" },
        { path: "bin.dat", mode: "100644", type: "blob", sha: blob.data.sha },
        { path: "README.md", mode: "100644", type: "blob", sha: null },
      ],
    });
    expect(tree.status).toBe(201);
    const listing = await alice.octokit.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
      owner: OWNER,
      repo: REPO,
      tree_sha: tree.data.sha,
      recursive: "1",
    });
    expect(listing.data.tree.map((e) => `${e.type}:${e.path}`).sort()).toEqual([
      "blob:bin.dat",
      "blob:deep/er/file.txt",
      "tree:deep",
      "tree:deep/er",
    ]);
    expect(listing.data.truncated).toBe(false);
    const bad = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/git/trees", {
        owner: OWNER,
        repo: REPO,
        tree: [{ path: "x", mode: "100644", type: "blob", sha: "1".repeat(40) }],
      }),
    );
    expect(bad.status).toBe(422);
  });

  it("POST git/commits with a signature writes a gpgsig header that git verify-commit accepts", async () => {
    const tree = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: OWNER,
        repo: REPO,
        commit_sha: mainSha,
      })
    ).data.tree.sha;
    const author = { name: "Alice", email: "alice@example.test", date: "2024-05-01T12:00:00+02:00" };
    const message = "Signed via the API\n\nWith a body.\n";
    const payload = `tree ${tree}\nparent ${mainSha}\nauthor Alice <alice@example.test> 1714557600 +0200\ncommitter Alice <alice@example.test> 1714557600 +0200\n\n${message}`;
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.from(payload) }),
      signingKeys: await openpgp.readPrivateKey({ armoredKey: key.privateKey }),
      detached: true,
      format: "armored",
    });
    const commit = await alice.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
      owner: OWNER,
      repo: REPO,
      message,
      tree,
      parents: [mainSha],
      author,
      committer: author,
      signature,
    });
    expect(commit.status).toBe(201);
    expect(commit.data.verification).toMatchObject({ verified: false, reason: "unknown_key", payload });
    expect(commit.data.author).toMatchObject({
      name: "Alice",
      email: "alice@example.test",
      date: "2024-05-01T10:00:00Z",
    });

    await alice.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: OWNER,
      repo: REPO,
      ref: "refs/heads/signed",
      sha: commit.data.sha,
    });
    const dir = await t.clone(OWNER, REPO, alice.token);
    await t.git(dir, ["fetch", "-q", "origin", "signed"]);
    const raw = (await t.git(dir, ["cat-file", "commit", commit.data.sha])).stdout;
    expect(raw.replace(/^gpgsig [\s\S]*?-----END PGP SIGNATURE-----\n/m, "")).toBe(payload);
    const home = mkdtempSync(join(t.root, "gnupg-"));
    writeFileSync(join(home, "k.asc"), key.publicKey);
    const env = { ...process.env, GNUPGHOME: home, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
    execFileSync("gpg", ["--batch", "--quiet", "--import", join(home, "k.asc")], { env, stdio: "ignore" });
    expect(() =>
      execFileSync("git", ["verify-commit", commit.data.sha], { cwd: dir, env, stdio: "pipe" }),
    ).not.toThrow();

    await alice.octokit.request("POST /user/gpg_keys", { armored_public_key: key.publicKey });
    const after = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref: commit.data.sha,
    });
    expect(after.data.commit.verification).toMatchObject({ verified: true, reason: "valid" });
  });

  it("SSH-signed commits are badged valid once the key is registered as the committer's signing key", async () => {
    const keyDir = mkdtempSync(join(t.root, "ssh-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", join(keyDir, "id")], {
      stdio: "ignore",
    });
    const dir = await t.clone(OWNER, REPO, alice.token);
    await t.commit(dir, { "ssh.txt": "1\n" }, "ssh signed", { name: "Alice", email: "alice@example.test" });
    const signed = await t.git(
      dir,
      [
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${join(keyDir, "id.pub")}`,
        "commit",
        "--amend",
        "--no-edit",
        "-S",
      ],
      {
        GIT_AUTHOR_NAME: "Alice",
        GIT_AUTHOR_EMAIL: "alice@example.test",
        GIT_COMMITTER_NAME: "Alice",
        GIT_COMMITTER_EMAIL: "alice@example.test",
      },
    );
    expect(signed.code).toBe(0);
    const head = (await t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    expect((await t.push(dir, "HEAD:refs/heads/ssh-signed")).code).toBe(0);
    const get = () =>
      alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
        owner: OWNER,
        repo: REPO,
        ref: head,
      });
    expect((await get()).data.commit.verification).toMatchObject({ verified: false, reason: "unknown_key" });
    await alice.octokit.request("POST /user/ssh_signing_keys", {
      key: readFileSync(join(keyDir, "id.pub"), "utf8"),
      title: "laptop",
    });
    expect((await get()).data.commit.verification).toMatchObject({ verified: true, reason: "valid" });
  });

  it("refs: create, fast-forward only without force (stale parent refused 422), force, delete", async () => {
    const tree = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: OWNER,
        repo: REPO,
        commit_sha: mainSha,
      })
    ).data.tree.sha;
    const mk = async (parents: string[], message: string) =>
      (
        await alice.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
          owner: OWNER,
          repo: REPO,
          message,
          tree,
          parents,
        })
      ).data.sha;
    const ref = "heads/approved/production";
    const first = await mk([mainSha], "record 1");
    await alice.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: OWNER,
      repo: REPO,
      ref: `refs/${ref}`,
      sha: first,
    });
    const exists = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
        owner: OWNER,
        repo: REPO,
        ref: `refs/${ref}`,
        sha: first,
      }),
    );
    expect(exists.status).toBe(422);
    expect((exists.data as { message: string }).message).toBe("Reference already exists");
    const second = await mk([first], "record 2");
    const staleSibling = await mk([first], "record 2 (racing replica)");
    const ok = await alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref,
      sha: second,
      force: false,
    });
    expect(ok.data.object.sha).toBe(second);
    const refused = await settle(
      alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
        owner: OWNER,
        repo: REPO,
        ref,
        sha: staleSibling,
        force: false,
      }),
    );
    expect(refused.status).toBe(422);
    expect((refused.data as { message: string }).message).toBe("Update is not a fast forward");
    const current = await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref,
    });
    expect(current.data.object.sha).toBe(second);
    const matching = await alice.octokit.request("GET /repos/{owner}/{repo}/git/matching-refs/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref: "heads/approved/",
    });
    expect(matching.data.map((r) => r.ref)).toEqual(["refs/heads/approved/production"]);
    await alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref,
      sha: staleSibling,
      force: true,
    });
    await alice.octokit.request("DELETE /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref,
    });
    const gone = await settle(
      alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { owner: OWNER, repo: REPO, ref }),
    );
    expect(gone.status).toBe(404);
    await t.idle();
    const pushes = t.webhooks.filter((w) => w.event === "push" && w.payload.ref === `refs/${ref}`);
    expect(pushes.map((p) => [p.payload.created, p.payload.deleted, p.payload.forced])).toEqual([
      [true, false, false],
      [false, false, false],
      [false, false, true],
      [false, true, false],
    ]);
  });

  it("two replicas racing to fast-forward the same ref: exactly one wins", async () => {
    const tree = (
      await alice.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: OWNER,
        repo: REPO,
        commit_sha: mainSha,
      })
    ).data.tree.sha;
    const mk = async (parents: string[], message: string) =>
      (
        await alice.octokit.request("POST /repos/{owner}/{repo}/git/commits", {
          owner: OWNER,
          repo: REPO,
          message,
          tree,
          parents,
        })
      ).data.sha;
    const base = await mk([mainSha], "base");
    await alice.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: OWNER,
      repo: REPO,
      ref: "refs/heads/race",
      sha: base,
    });
    const candidates = await Promise.all(Array.from({ length: 6 }, (_, i) => mk([base], `replica ${i}`)));
    const results = await Promise.all(
      candidates.map((sha) =>
        settle(
          alice.octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
            owner: OWNER,
            repo: REPO,
            ref: "heads/race",
            sha,
            force: false,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 422)).toHaveLength(5);
    const winner = candidates[results.findIndex((r) => r.status === 200)];
    const ref = await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: OWNER,
      repo: REPO,
      ref: "heads/race",
    });
    expect(ref.data.object.sha).toBe(winner);
  });

  it("contents: file (base64), directory listing, 404; branches; compare", async () => {
    const file = await alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: "README.md",
    });
    const data = file.data as { type: string; content: string; encoding: string; sha: string };
    expect(data.type).toBe("file");
    expect(Buffer.from(data.content, "base64").toString()).toBe(`# ${REPO}\n`);
    const raw = await alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: "README.md",
      mediaType: { format: "raw" },
    });
    expect(raw.data as unknown).toBe(`# ${REPO}\n`);
    const root = await alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: "",
      ref: "main",
    });
    expect((root.data as { name: string }[]).map((e) => e.name)).toEqual(["README.md"]);
    const missing = await settle(
      alice.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner: OWNER,
        repo: REPO,
        path: "nope.txt",
      }),
    );
    expect(missing.status).toBe(404);
    const branch = await alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}", {
      owner: OWNER,
      repo: REPO,
      branch: "main",
    });
    expect(branch.data).toMatchObject({ name: "main", protected: false, commit: { sha: mainSha } });

    const dir = await t.clone(OWNER, REPO, alice.token);
    const head = await t.commit(dir, { "x.yaml": "x: 1\n" }, "add x");
    await t.push(dir, "HEAD:refs/heads/topic/x");
    const cmp = await alice.octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      owner: OWNER,
      repo: REPO,
      basehead: "main...topic/x",
    });
    expect(cmp.data).toMatchObject({ status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1 });
    expect(cmp.data.commits.map((c) => c.sha)).toEqual([head]);
    expect(cmp.data.files?.map((f) => f.filename)).toEqual(["x.yaml"]);
  });
});
