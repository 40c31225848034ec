import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRawCommit, buildRecordCommit, insertGpgsig } from "../../src/record/commit.js";
import { commitSha, parseRawCommit } from "../../src/record/raw-commit.js";
import { githubCreateCommitRequest, signRecord } from "../../src/record/sign.js";
import {
  commitFiles,
  fieldsFor,
  git,
  gnupgHomeWith,
  makeKey,
  makeRepo,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "./helpers.js";

describe("record commits signed by pullgate verify with GnuPG (invariant 6)", () => {
  let root: string;
  let key: TestKey;
  let gnupgHome: string;
  beforeAll(async () => {
    root = tempDir("sign");
    key = await makeKey();
    gnupgHome = gnupgHomeWith(key.publicKey);
  });
  afterAll(() => {
    removeDir(root);
    removeDir(gnupgHome);
  });

  it("generates a v4 EdDSA (legacy ed25519) key that GnuPG 2.2 imports", () => {
    const listing = execFileSync("gpg", ["--batch", "--with-colons", "--list-keys"], {
      env: { ...process.env, GNUPGHOME: gnupgHome },
      encoding: "utf8",
    });
    const pub = listing.split("\n").find((l) => l.startsWith("pub:"));
    // Field 4 is the algorithm: 22 = EdDSA; field 17 the curve name.
    expect(pub?.split(":")[3]).toBe("22");
    expect(pub?.split(":")[16]).toBe("ed25519");
    const fpr = listing.split("\n").find((l) => l.startsWith("fpr:"));
    expect(fpr?.split(":")[9]).toBe(key.fingerprint);
    expect(key.fingerprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it("builds the exact commit text git would, and git verify-commit accepts the signed record", async () => {
    const { bare, work } = makeRepo(join(root, "chain"));
    const source = commitFiles(work, { "app.yaml": "replicas: 2\n" });
    const first = await signRecord(
      {
        fields: fieldsFor(key, source, 1),
        previousRecord: null,
        identity: { name: "pullgate[bot]", email: "bot@example.com" },
      },
      key.signingKey,
    );
    const sha1 = writeCommit(bare, first.signedRaw);
    expect(sha1).toBe(first.sha);
    expect(git(["cat-file", "commit", sha1], { cwd: bare })).toBe(first.signedRaw);
    // git itself parses parents and tree as we built them.
    expect(git(["rev-parse", `${sha1}^{tree}`], { cwd: bare }).trim()).toBe(source.tree);
    expect(git(["rev-list", "--parents", "-n1", sha1], { cwd: bare }).trim()).toBe(
      `${sha1} ${source.commit}`,
    );

    const source2 = commitFiles(work, { "app.yaml": "replicas: 3\n" });
    const second = await signRecord(
      {
        fields: fieldsFor(key, source2, 2),
        previousRecord: sha1,
        identity: { name: "pullgate[bot]", email: "bot@example.com" },
      },
      key.signingKey,
    );
    const sha2 = writeCommit(bare, second.signedRaw);
    expect(git(["rev-list", "--parents", "-n1", sha2], { cwd: bare }).trim()).toBe(
      `${sha2} ${sha1} ${source2.commit}`,
    );

    for (const sha of [sha1, sha2]) {
      const result = spawnSync("git", ["verify-commit", "--raw", sha], {
        cwd: bare,
        env: {
          ...process.env,
          GNUPGHOME: gnupgHome,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_CONFIG_NOSYSTEM: "1",
        },
        encoding: "utf8",
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toContain(`VALIDSIG ${key.fingerprint}`);
    }
    // The trailers are what git interpret-trailers reads.
    const trailers = git(["interpret-trailers", "--parse"], { input: second.message });
    expect(trailers).toContain("Pullgate-Sequence: 2\n");
    expect(trailers).toContain("Pullgate-Approved-By: alice\nPullgate-Approved-By: bob\n");
    expect(trailers).toContain("Argocd-gpg-seal: ");
  });

  it("lays out commits exactly as git commit-tree does, and the GitHub request rebuilds the signed bytes", async () => {
    const { bare, work } = makeRepo(join(root, "layout"));
    const source = commitFiles(work, { "x.txt": "x\n" });
    const signed = await signRecord(
      {
        fields: fieldsFor(key, source, 1),
        previousRecord: null,
        identity: { name: "pullgate[bot]", email: "bot@example.com" },
      },
      key.signingKey,
    );
    const date = `${signed.author.timestamp} +0000`;
    const viaGit = git(["commit-tree", source.tree, "-p", source.commit, "-F", "-"], {
      cwd: bare,
      input: signed.message,
      env: {
        GIT_AUTHOR_NAME: "pullgate[bot]",
        GIT_AUTHOR_EMAIL: "bot@example.com",
        GIT_COMMITTER_NAME: "pullgate[bot]",
        GIT_COMMITTER_EMAIL: "bot@example.com",
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      },
    }).trim();
    expect(git(["cat-file", "commit", viaGit], { cwd: bare })).toBe(signed.raw);

    // What an emulator (or GitHub) does with the API request: rebuild the object from its parts.
    const request = githubCreateCommitRequest(signed);
    expect(request.author.date).toBe(signed.date);
    const rebuilt = buildRawCommit({
      tree: request.tree,
      parents: request.parents,
      author: {
        name: request.author.name,
        email: request.author.email,
        timestamp: Date.parse(request.author.date) / 1000,
        timezone: "+0000",
      },
      committer: {
        name: request.committer.name,
        email: request.committer.email,
        timestamp: Date.parse(request.committer.date) / 1000,
        timezone: "+0000",
      },
      message: request.message,
      signature: request.signature,
    });
    expect(rebuilt).toBe(signed.signedRaw);
    expect(commitSha(rebuilt)).toBe(signed.sha);
  });

  it("git verify-commit rejects a record whose trailer was changed after signing", async () => {
    const { bare, work } = makeRepo(join(root, "tamper"));
    const source = commitFiles(work, { "a.txt": "a\n" });
    const signed = await signRecord(
      {
        fields: fieldsFor(key, source, 1),
        previousRecord: null,
        identity: { name: "bot", email: "bot@example.com" },
      },
      key.signingKey,
    );
    const tampered = signed.signedRaw.replace(
      "Pullgate-Environment: production",
      "Pullgate-Environment: staging",
    );
    expect(tampered).not.toBe(signed.signedRaw);
    const sha = writeCommit(bare, tampered);
    const result = spawnSync("git", ["verify-commit", sha], {
      cwd: bare,
      env: { ...process.env, GNUPGHOME: gnupgHome },
      encoding: "utf8",
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/BAD signature/i);
  });

  it("inserts gpgsig after the committer with single-space continuation lines, and parses back", () => {
    const unsigned = buildRecordCommit({
      fields: fieldsFor(key, { commit: "1".repeat(40), tree: "2".repeat(40) }, 1),
      previousRecord: null,
      identity: { name: "bot", email: "bot@example.com" },
    });
    const signature = "-----BEGIN PGP SIGNATURE-----\n\nabc\n=def\n-----END PGP SIGNATURE-----\n";
    const raw = insertGpgsig(unsigned.raw, signature);
    expect(raw).toContain(
      "\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n =def\n -----END PGP SIGNATURE-----\n\npullgate: approve",
    );
    const parsed = parseRawCommit(raw);
    expect(parsed.gpgsig).toBe(signature);
    expect(parsed.signedPayload).toBe(unsigned.raw);
    expect(() => insertGpgsig(raw, signature)).toThrow(/already signed/);
  });

  it("refuses to sign a record that names another key, or a first record with a previous one", async () => {
    const other = await makeKey("other", "other@example.com");
    const fields = fieldsFor(other, { commit: "1".repeat(40), tree: "2".repeat(40) }, 1);
    await expect(
      signRecord({ fields, previousRecord: null, identity: { name: "b", email: "b@x" } }, key.signingKey),
    ).rejects.toThrow(/names key/);
    expect(() =>
      buildRecordCommit({
        fields: fieldsFor(key, { commit: "1".repeat(40), tree: "2".repeat(40) }, 1),
        previousRecord: "3".repeat(40),
        identity: { name: "b", email: "b@x" },
      }),
    ).toThrow(/no previous record/);
    expect(() =>
      buildRecordCommit({
        fields: fieldsFor(key, { commit: "1".repeat(40), tree: "2".repeat(40) }, 2),
        previousRecord: null,
        identity: { name: "b", email: "b@x" },
      }),
    ).toThrow(/needs the previous record/);
  });
});
