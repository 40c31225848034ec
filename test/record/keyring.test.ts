/**
 * One armored block per key text (docs/agents.md, "One key per file, one key per Secret value"):
 * `pullgate verify` and `pullgate verify-commit` read the keys of the first armored block of each
 * file, as Flux does (proven against go-git in test/interop/flux.test.ts; this file needs no Go).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { armoredKeyBlockCounts, fingerprintOf, readPublicKeys } from "../../src/record/keys.js";
import {
  gnupgHomeWith,
  makeKey,
  makeRepo,
  commitFiles,
  publishRecord,
  removeDir,
  tempDir,
  type TestKey,
} from "./helpers.js";

function io(cwd: string): CliIo & { err: string[] } {
  const err: string[] = [];
  return { err, stdout: () => undefined, stderr: (t) => err.push(t), env: process.env, cwd };
}

describe("key texts: the first armored block counts, for verify and verify-commit alike", () => {
  let root: string;
  let app: TestKey;
  let other: TestKey;
  let bare: string;
  let record: string;
  const files = { concatenated: "", reversed: "", oneBlock: "" };
  beforeAll(async () => {
    root = tempDir("keyring");
    app = await makeKey();
    other = await makeKey("other", "other@example.com");
    const repo = makeRepo(join(root, "r"));
    bare = repo.bare;
    record = await publishRecord(bare, app, commitFiles(repo.work, { "a.txt": "a\n" }), 1, null);
    files.concatenated = join(root, "concatenated.asc");
    files.reversed = join(root, "reversed.asc");
    files.oneBlock = join(root, "one-block.asc");
    writeFileSync(files.concatenated, app.publicKey + other.publicKey);
    writeFileSync(files.reversed, other.publicKey + app.publicKey);
    const home = gnupgHomeWith(app.publicKey + other.publicKey);
    writeFileSync(
      files.oneBlock,
      execFileSync("gpg", ["--batch", "--export", "--armor", app.fingerprint, other.fingerprint], {
        env: { ...process.env, GNUPGHOME: home },
      }),
    );
    removeDir(home);
  });
  afterAll(() => removeDir(root));

  it("readPublicKeys reads every key of the first block only", async () => {
    const text = (path: string) => readFileSync(path, "utf8");
    expect((await readPublicKeys([text(files.concatenated)])).map(fingerprintOf)).toEqual([app.fingerprint]);
    expect((await readPublicKeys([text(files.reversed)])).map(fingerprintOf)).toEqual([other.fingerprint]);
    expect((await readPublicKeys([text(files.oneBlock)])).map(fingerprintOf).sort()).toEqual(
      [app.fingerprint, other.fingerprint].sort(),
    );
    expect(armoredKeyBlockCounts([text(files.concatenated), text(files.oneBlock)])).toEqual([2, 1]);
  });

  it("pullgate verify refuses a record whose key sits in an ignored second block, and says so", async () => {
    const verify = async (keys: string) => {
      const capture = io(root);
      const code = await main(
        ["verify", "--repo", bare, "--environment", "production", "--keys", keys],
        capture,
      );
      return { code, err: capture.err.join("\n") };
    };
    expect((await verify(files.concatenated)).code).toBe(0);
    expect((await verify(files.oneBlock)).code).toBe(0);
    const refused = await verify(files.reversed);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/UNKNOWN_KEY: .*keyring text #1 but after its first armored block/);
  });

  it("pullgate verify-commit gives the same verdicts and warns about the ignored block", async () => {
    const verifyCommit = async (keys: string) => {
      const capture = io(root);
      const code = await main(["verify-commit", "--repo", bare, "--keys", keys, record], capture);
      return { code, err: capture.err.join("\n") };
    };
    const accepted = await verifyCommit(files.concatenated);
    expect(accepted.code).toBe(0);
    expect(accepted.err).toMatch(/holds 2 armored key blocks; only the first is read/);
    expect((await verifyCommit(files.reversed)).code).toBe(1);
    expect((await verifyCommit(files.oneBlock)).code).toBe(0);
  });
});
