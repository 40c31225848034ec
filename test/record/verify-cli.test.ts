/**
 * `pullgate verify` end to end over real git repositories: records written by our builder and signer,
 * fetched over file:// and from a local path, and every refusal of docs/architecture.md, "What an
 * agent refuses", with its code.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { buildRecordCommit, insertGpgsig } from "../../src/record/commit.js";
import { formatIssuedAt } from "../../src/record/format.js";
import { signRecord } from "../../src/record/sign.js";
import { loadSigningKey } from "../../src/record/keys.js";
import {
  commitFiles,
  fieldsFor,
  git,
  gnupgHomeWith,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "./helpers.js";

function io(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: process.env, cwd };
}

async function verify(args: string[], cwd: string) {
  const capture = io(cwd);
  const code = await main(["verify", "--json", ...args], capture);
  const json =
    capture.out.length === 1 ? (JSON.parse(capture.out[0] ?? "") as Record<string, unknown>) : null;
  return { code, json, err: capture.err.join("\n") };
}

describe("pullgate keygen + verify", () => {
  let root: string;
  let key: TestKey;
  let keysDir: string;
  beforeAll(async () => {
    root = tempDir("verify");
    key = await makeKey();
    keysDir = join(root, "keys");
    execFileSync("mkdir", ["-p", keysDir]);
    writeFileSync(join(keysDir, "pullgate.asc"), key.publicKey);
  });
  afterAll(() => removeDir(root));

  it("keygen writes a key pair GnuPG imports, private key mode 0600, and refuses to overwrite", async () => {
    const out = join(root, "generated");
    const capture = io(root);
    expect(
      await main(
        ["keygen", "--name", "pullgate", "--email", "bot@example.com", "--out", out, "--json"],
        capture,
      ),
    ).toBe(0);
    const result = JSON.parse(capture.out[0] ?? "") as {
      fingerprint: string;
      privateKey: string;
      publicKey: string;
    };
    expect(statSync(result.privateKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(result.privateKey, "utf8")).toContain("PRIVATE KEY BLOCK");
    const home = gnupgHomeWith(readFileSync(result.publicKey, "utf8"));
    try {
      const listing = execFileSync("gpg", ["--batch", "--with-colons", "--list-keys"], {
        env: { ...process.env, GNUPGHOME: home },
        encoding: "utf8",
      });
      expect(listing).toContain(`fpr:::::::::${result.fingerprint}:`);
    } finally {
      removeDir(home);
    }
    // The private key imports too (GnuPG 2.2 must accept the secret key format).
    const secretHome = tempDir("gnupg-secret");
    try {
      execFileSync("gpg", ["--batch", "--import", result.privateKey], {
        env: { ...process.env, GNUPGHOME: secretHome },
        stdio: "pipe",
      });
      const secret = execFileSync("gpg", ["--batch", "--with-colons", "--list-secret-keys"], {
        env: { ...process.env, GNUPGHOME: secretHome },
        encoding: "utf8",
      });
      expect(secret).toContain(result.fingerprint);
    } finally {
      removeDir(secretHome);
    }
    const again = io(root);
    expect(
      await main(["keygen", "--name", "pullgate", "--email", "bot@example.com", "--out", out], again),
    ).toBe(2);
    expect(again.err.join("")).toMatch(/already exists/);
  });

  it("keygen --passphrase-file encrypts the private key; signing needs the passphrase", async () => {
    const out = join(root, "encrypted");
    const passFile = join(root, "pass.txt");
    writeFileSync(passFile, "correct horse\n");
    const capture = io(root);
    expect(
      await main(
        [
          "keygen",
          "--name",
          "pg",
          "--email",
          "pg@example.com",
          "--out",
          out,
          "--passphrase-file",
          passFile,
          "--json",
        ],
        capture,
      ),
    ).toBe(0);
    expect(JSON.parse(capture.out[0] ?? "")).toMatchObject({ encrypted: true });
    const armored = readFileSync(join(out, "private.asc"), "utf8");
    await expect(loadSigningKey(armored)).rejects.toThrow(/passphrase/);
    await expect(loadSigningKey(armored, "wrong")).rejects.toThrow();
    const unlocked = await loadSigningKey(armored, "correct horse");
    expect(unlocked.isDecrypted()).toBe(true);
    for (const bad of [
      ["keygen", "--name", "pg", "--out", out],
      ["keygen", "--name", "a <b>", "--email", "pg@example.com", "--out", join(root, "x")],
      ["keygen", "--name", "pg", "--email", "not-an-email", "--out", join(root, "y")],
    ]) {
      expect(await main(bad, io(root))).toBe(2);
    }
  });

  it("verifies two chained records over file:// and from a local path; state refuses rollback afterwards", async () => {
    const { bare, work } = makeRepo(join(root, "chain"));
    const s1 = commitFiles(work, { "app.yaml": "v: 1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const state = join(root, "chain-state.json");

    const first = await verify(
      ["--repo", `file://${bare}`, "--environment", "production", "--keys", keysDir, "--state", state],
      root,
    );
    // With --state and the default max-age: nothing to warn about.
    expect(first.err).toBe("");
    expect(first).toMatchObject({
      code: 0,
      json: { verified: true, sequence: 1, recordCommit: r1, sourceCommit: s1.commit, sourceTree: s1.tree },
    });
    expect(JSON.parse(readFileSync(state, "utf8"))).toMatchObject({
      repository: "acme/deploy",
      environment: "production",
      sequence: 1,
      recordCommit: r1,
    });

    const s2 = commitFiles(work, { "app.yaml": "v: 2\n" });
    const r2 = await publishRecord(bare, key, s2, 2, r1);
    // A local path (relative to cwd) works the same; the repository is derived from .../acme/deploy.git.
    const second = await verify(
      [
        "--repo",
        "chain/acme/deploy.git",
        "--environment",
        "production",
        "--keys",
        join(keysDir, "pullgate.asc"),
        "--state",
        state,
      ],
      root,
    );
    expect(second).toMatchObject({ code: 0, json: { verified: true, sequence: 2, recordCommit: r2 } });
    expect(Object.keys(second.json ?? {}).sort()).toEqual([
      "maxAgeSeconds",
      "recordCommit",
      "refuseBreakGlass",
      "rollbackProtection",
      "sequence",
      "sourceCommit",
      "sourceTree",
      "verified",
    ]);
    expect(second.json).toMatchObject({ rollbackProtection: true, maxAgeSeconds: 50 * 3600 });

    // Same record again: still verified, state unchanged.
    const before = readFileSync(state, "utf8");
    expect(
      (
        await verify(
          ["--repo", bare, "--environment", "production", "--keys", keysDir, "--state", state],
          root,
        )
      ).code,
    ).toBe(0);
    expect(readFileSync(state, "utf8")).toBe(before);

    // Rollback: the ref is moved back to record #1.
    git(["update-ref", "refs/heads/approved/production", r1], { cwd: bare });
    const rollback = await verify(
      ["--repo", bare, "--environment", "production", "--keys", keysDir, "--state", state],
      root,
    );
    expect(rollback).toMatchObject({ code: 1, json: { verified: false, code: "SEQUENCE_NOT_INCREASING" } });
    expect(readFileSync(state, "utf8")).toBe(before);

    // Without state, the old record alone verifies (nothing to compare with), and the output says
    // so: a caller must not take a stateless check for rollback protection.
    const stateless = await verify(["--repo", bare, "--environment", "production", "--keys", keysDir], root);
    expect(stateless).toMatchObject({
      code: 0,
      json: { verified: true, sequence: 1, rollbackProtection: false },
    });
    expect(stateless.err).toMatch(/WARNING: no --state: rollback protection is off/);

    // The installed bin gives the same answer (spawned, as operators run it).
    const spawned = spawnSync(
      process.execPath,
      [
        resolve(import.meta.dirname, "../../bin/pullgate.js"),
        "verify",
        "--repo",
        bare,
        "--environment",
        "production",
        "--keys",
        keysDir,
        "--state",
        state,
        "--json",
      ],
      { env: { ...process.env, PULLGATE_FROM_SOURCE: "1" }, encoding: "utf8" },
    );
    expect(spawned.status).toBe(1);
    expect(JSON.parse(spawned.stdout)).toMatchObject({ verified: false, code: "SEQUENCE_NOT_INCREASING" });
    expect(spawned.stderr).toMatch(/REFUSED SEQUENCE_NOT_INCREASING/);
  });

  describe("refusals", () => {
    let bare: string;
    let work: string;
    let source: { commit: string; tree: string };
    let r1: string;
    let n = 0;
    beforeAll(async () => {
      ({ bare, work } = makeRepo(join(root, "refusals")));
      source = commitFiles(work, { "app.yaml": "v: 1\n" });
      r1 = await publishRecord(bare, key, source, 1, null);
    });
    const args = (extra: string[] = []) => [
      "--repo",
      bare,
      "--environment",
      "production",
      "--keys",
      keysDir,
      ...extra,
    ];
    const point = (sha: string) => git(["update-ref", "refs/heads/approved/production", sha], { cwd: bare });
    const freshState = (sequence: number, recordCommit: string) => {
      const file = join(root, `state-${++n}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          repository: "acme/deploy",
          environment: "production",
          sequence,
          recordCommit,
          sourceCommit: source.commit,
          sourceTree: source.tree,
          acceptedAt: new Date().toISOString(),
        }),
      );
      return file;
    };

    it("a record forged with another key: UNKNOWN_KEY", async () => {
      const mallory = await makeKey("mallory", "mallory@example.com");
      point(await publishRecord(bare, mallory, source, 1, null));
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "UNKNOWN_KEY" });
    });

    it("a record whose trailer was changed after signing: SIGNATURE_INVALID (GnuPG agrees)", async () => {
      const raw = git(["cat-file", "commit", r1], { cwd: bare });
      const tampered = raw.replace("Pullgate-Approved-By: bob", "Pullgate-Approved-By: eve");
      const sha = writeCommit(bare, tampered);
      point(sha);
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "SIGNATURE_INVALID" });
      const home = gnupgHomeWith(key.publicKey);
      try {
        expect(() =>
          execFileSync("git", ["-C", bare, "verify-commit", sha], {
            env: { ...process.env, GNUPGHOME: home },
            stdio: "pipe",
          }),
        ).toThrow();
      } finally {
        removeDir(home);
      }
    });

    it("an unsigned record: UNSIGNED", async () => {
      const unsigned = buildRecordCommit({
        fields: fieldsFor(key, source, 1),
        previousRecord: null,
        identity: { name: "bot", email: "bot@x" },
      });
      point(writeCommit(bare, unsigned.raw));
      const result = await verify(args(), root);
      expect(result).toMatchObject({ code: 1, json: { verified: false, code: "UNSIGNED" } });
    });

    it("a replayed older record (state has a higher sequence): SEQUENCE_NOT_INCREASING", async () => {
      point(r1);
      const r5 = await publishRecord(bare, key, source, 2, r1); // a later record exists...
      point(r1); // ...but the attacker serves #1 again
      const result = await verify(args(["--state", freshState(2, r5)]), root);
      expect(result.json).toMatchObject({ verified: false, code: "SEQUENCE_NOT_INCREASING" });
    });

    it("a higher record on a forked chain: NOT_DESCENDANT", async () => {
      const accepted = await publishRecord(bare, key, source, 2, r1);
      const s2 = commitFiles(work, { "app.yaml": "v: fork\n" });
      // #3 built on a different #2 (same sequence, other content): does not contain the accepted #2.
      const other2 = await publishRecord(bare, key, s2, 2, r1, { pullRequest: 99 });
      const fork3 = await publishRecord(bare, key, s2, 3, other2);
      point(fork3);
      const result = await verify(args(["--state", freshState(2, accepted)]), root);
      expect(result.json).toMatchObject({ verified: false, code: "NOT_DESCENDANT" });
    });

    it("a record reaching the accepted one only through its source history: NOT_DESCENDANT", async () => {
      const accepted = await publishRecord(bare, key, source, 2, r1);
      // Someone merged approved/production into a branch: a source commit whose parent is the record.
      const sneaky = git(["commit-tree", source.tree, "-p", accepted, "-m", "merge approved"], {
        cwd: bare,
      }).trim();
      const other2 = await publishRecord(bare, key, source, 2, r1, { pullRequest: 77 });
      point(await publishRecord(bare, key, { commit: sneaky, tree: source.tree }, 3, other2));
      // git merge-base --is-ancestor would say yes; the record chain says no.
      expect(() =>
        git(["merge-base", "--is-ancestor", accepted, "approved/production"], { cwd: bare }),
      ).not.toThrow();
      const result = await verify(args(["--state", freshState(2, accepted)]), root);
      expect(result.json).toMatchObject({ verified: false, code: "NOT_DESCENDANT" });
    });

    it("a record for another environment served on this one: WRONG_ENVIRONMENT", async () => {
      const staging = await publishRecord(bare, key, source, 1, null, {}, "staging");
      point(staging);
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "WRONG_ENVIRONMENT" });
    });

    it("a record of another repository: WRONG_REPOSITORY (explicit --repository and derived)", async () => {
      point(await publishRecord(bare, key, source, 1, null, { repository: "acme/other" }));
      const derived = await verify(args(), root);
      expect(derived.json).toMatchObject({ verified: false, code: "WRONG_REPOSITORY" });
      expect(derived.err).toMatch(/acme\/deploy was derived from --repo/);
      point(r1);
      expect((await verify(args(["--repository", "evil/deploy"]), root)).json).toMatchObject({
        verified: false,
        code: "WRONG_REPOSITORY",
      });
    });

    it("a record whose tree is not the source tree: TREE_MISMATCH", async () => {
      const other = commitFiles(work, { "app.yaml": "v: unreviewed\n" });
      // Signed, trailers name the reviewed source, but the commit's tree is another one.
      const unsigned = buildRecordCommit({
        fields: fieldsFor(key, source, 1),
        previousRecord: null,
        identity: { name: "bot", email: "bot@x" },
      });
      const raw = unsigned.raw.replace(`tree ${source.tree}`, `tree ${other.tree}`);
      const { signCommitPayload } = await import("../../src/record/sign.js");
      point(writeCommit(bare, insertGpgsig(raw, await signCommitPayload(raw, key.signingKey))));
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "TREE_MISMATCH" });
      // And trailers that name a source tree that is not the source commit's tree.
      point(await publishRecord(bare, key, { commit: source.commit, tree: other.tree }, 1, null));
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "TREE_MISMATCH" });
    });

    it("a stale record beyond --max-age: EXPIRED", async () => {
      point(
        await publishRecord(bare, key, source, 1, null, {
          issuedAt: formatIssuedAt(new Date(Date.now() - 3 * 3600_000)),
        }),
      );
      expect((await verify(args(["--max-age", "2h"]), root)).json).toMatchObject({
        verified: false,
        code: "EXPIRED",
      });
      expect((await verify(args(["--max-age", "4h"]), root)).json).toMatchObject({ verified: true });
    });

    it("max-age is on by default (2 × the 24h refresh interval + 2h); only `none` turns it off, with a warning", async () => {
      // A mirror frozen on a genuine record for 51h: refused with no --max-age given.
      point(
        await publishRecord(bare, key, source, 1, null, {
          issuedAt: formatIssuedAt(new Date(Date.now() - 51 * 3600_000)),
        }),
      );
      const frozen = await verify(args(), root);
      expect(frozen).toMatchObject({
        code: 1,
        json: { verified: false, code: "EXPIRED", maxAgeSeconds: 180000 },
      });
      // A policy with a 12h refresh interval: the default follows it (26h).
      expect((await verify(args(["--refresh-interval", "12h"]), root)).json).toMatchObject({
        maxAgeSeconds: 26 * 3600,
      });
      // `none` is the only way off, and it warns.
      const off = await verify(args(["--max-age", "none"]), root);
      expect(off).toMatchObject({ code: 0, json: { verified: true, maxAgeSeconds: null } });
      expect(off.err).toMatch(/WARNING: --max-age none: freshness is not checked/);
      // 49h old: inside the default window.
      point(
        await publishRecord(bare, key, source, 1, null, {
          issuedAt: formatIssuedAt(new Date(Date.now() - 49 * 3600_000)),
        }),
      );
      expect((await verify(args(), root)).json).toMatchObject({ verified: true });
      // The text verdict states the effective max-age.
      const text = io(root);
      expect(await main(["verify", ...args()], text)).toBe(0);
      expect(text.out.join("\n")).toMatch(/; max-age 50h \(default: 2 × refresh interval 24h \+ 2h\)$/);
      expect((await verify(args(["--max-age", "0s"]), root)).code).toBe(2);
      expect((await verify(args(["--refresh-interval", "soon"]), root)).code).toBe(2);
    });

    it("a break-glass record: shown by verify, refused with --refuse-break-glass (BREAK_GLASS_REFUSED)", async () => {
      const emergency = commitFiles(work, { "app.yaml": "v: emergency\n" });
      const marked = await publishRecord(bare, key, emergency, 2, r1, {
        breakGlass: { approvedBy: ["carol", "dave"] },
        promotedFrom: { environment: "staging", sequence: 3, recordCommit: r1 },
      });
      const shown = await verify(args(), root);
      expect(shown).toMatchObject({
        code: 0,
        json: {
          verified: true,
          recordCommit: marked,
          breakGlass: { approvedBy: ["carol", "dave"] },
          promotedFrom: { environment: "staging", sequence: 3, recordCommit: r1 },
          refuseBreakGlass: false,
        },
      });
      const text = io(root);
      expect(await main(["verify", ...args()], text)).toBe(0);
      expect(text.out.join("\n")).toMatch(/BREAK-GLASS: .*@carol, @dave; promoted from staging #3/);
      const refused = await verify(args(["--refuse-break-glass"]), root);
      expect(refused).toMatchObject({
        code: 1,
        json: { verified: false, code: "BREAK_GLASS_REFUSED", refuseBreakGlass: true },
      });
      expect(refused.err).toMatch(/REFUSED BREAK_GLASS_REFUSED: .*PR #12.*--refuse-break-glass/);
    });

    it("a record with wrong parents: PARENTS_INVALID", async () => {
      // #2 whose first parent is the source commit rather than record #1.
      const signed = await signRecord(
        {
          fields: fieldsFor(key, source, 2),
          previousRecord: source.commit,
          identity: { name: "bot", email: "bot@x" },
        },
        key.signingKey,
      );
      point(writeCommit(bare, signed.signedRaw));
      expect((await verify(args(), root)).json).toMatchObject({ verified: false, code: "PARENTS_INVALID" });
    });

    it("an unreachable repository: FETCH_FAILED, exit 2, state kept", async () => {
      const state = freshState(1, r1);
      const before = readFileSync(state, "utf8");
      const result = await verify(
        [
          "--repo",
          join(root, "nowhere", "acme", "deploy.git"),
          "--repository",
          "acme/deploy",
          "--environment",
          "production",
          "--keys",
          keysDir,
          "--state",
          state,
        ],
        root,
      );
      expect(result).toMatchObject({ code: 2, json: { verified: false, code: "FETCH_FAILED" } });
      expect(readFileSync(state, "utf8")).toBe(before);
      // A missing approved ref is the same: nothing to verify.
      const missing = await verify(args(["--environment", "qa"]), root);
      expect(missing).toMatchObject({ code: 2, json: { code: "FETCH_FAILED" } });
    });

    it("usage errors exit 2: bad duration, bad environment, underivable repository, missing keys", async () => {
      expect((await verify(args(["--max-age", "forever"]), root)).code).toBe(2);
      expect((await verify(["--repo", bare, "--environment", "../x", "--keys", keysDir], root)).code).toBe(2);
      expect(
        (await verify(["--repo", "/", "--environment", "production", "--keys", keysDir], root)).code,
      ).toBe(2);
      expect(
        (await verify(["--repo", bare, "--environment", "production", "--keys", join(root, "nokeys")], root))
          .code,
      ).toBe(2);
      expect(existsSync(join(root, "nokeys"))).toBe(false);
    });
  });
});
