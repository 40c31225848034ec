/**
 * Test fixtures for records: temp git repos (bare, local), a source commit, and signed record chains
 * written with `git hash-object -t commit -w --stdin`, exactly the bytes our builder produced.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrivateKey } from "openpgp";
import { formatIssuedAt, type RecordFields } from "../../src/record/format.js";
import { generateRecordKey, loadSigningKey, type GeneratedKeyPair } from "../../src/record/keys.js";
import { commitSha } from "../../src/record/raw-commit.js";
import { signRecord } from "../../src/record/sign.js";

/** git with no global/system config, a fixed identity, and no terminal prompts. */
export function git(
  args: string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  return execFileSync("git", args, {
    cwd: options.cwd,
    input: options.input,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Dev",
      GIT_AUTHOR_EMAIL: "dev@example.com",
      GIT_COMMITTER_NAME: "Dev",
      GIT_COMMITTER_EMAIL: "dev@example.com",
      ...options.env,
    },
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pullgate-${prefix}-`));
}

/**
 * Removes a temporary folder; a GNUPGHOME's gpg-agent (started by the first `git verify-commit`
 * or `gpg --verify` in it) is stopped first, so no test leaves agents running behind it.
 */
export function removeDir(dir: string): void {
  if (existsSync(join(dir, "pubring.kbx"))) {
    spawnSync("gpgconf", ["--kill", "all"], { env: { ...process.env, GNUPGHOME: dir }, stdio: "ignore" });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Keys are generated "in the past" so records issued at old fixed dates are within key validity. */
export const KEY_DATE = new Date("2020-01-01T00:00:00Z");

export interface TestKey extends GeneratedKeyPair {
  signingKey: PrivateKey;
}

export async function makeKey(name = "pullgate", email = "pullgate@example.com"): Promise<TestKey> {
  const pair = await generateRecordKey({ name, email, date: KEY_DATE });
  return { ...pair, signingKey: await loadSigningKey(pair.privateKey) };
}

/** A bare repository at <root>/<owner>/<name>.git with a main branch holding `files`. */
export function makeRepo(root: string, owner = "acme", name = "deploy"): { bare: string; work: string } {
  const bare = join(root, owner, `${name}.git`);
  const work = join(root, "work");
  git(["init", "-q", "--bare", "-b", "main", bare]);
  git(["init", "-q", "-b", "main", work]);
  git(["remote", "add", "origin", bare], { cwd: work });
  return { bare, work };
}

/** Commits files in the work tree, pushes main, returns {commit, tree}. */
export function commitFiles(
  work: string,
  files: Record<string, string>,
  message = "change",
): { commit: string; tree: string } {
  for (const [path, content] of Object.entries(files)) writeFileSync(join(work, path), content);
  git(["add", "-A"], { cwd: work });
  git(["commit", "-q", "-m", message], { cwd: work });
  git(["push", "-q", "origin", "main"], { cwd: work });
  const commit = git(["rev-parse", "HEAD"], { cwd: work }).trim();
  const tree = git(["rev-parse", "HEAD^{tree}"], { cwd: work }).trim();
  return { commit, tree };
}

export function fieldsFor(
  key: TestKey,
  source: { commit: string; tree: string },
  sequence: number,
  overrides: Partial<RecordFields> = {},
): RecordFields {
  return {
    repository: "acme/deploy",
    environment: "production",
    branch: "main",
    sequence,
    sourceCommit: source.commit,
    sourceTree: source.tree,
    pullRequest: 10 + sequence,
    approvedBy: ["alice", "bob"],
    policyDigest: "sha256:" + "ab".repeat(32),
    issuedAt: formatIssuedAt(new Date()),
    key: key.fingerprint,
    ...overrides,
  };
}

/** Writes a raw commit object into the repo; asserts git computes the same id as commitSha. */
export function writeCommit(bare: string, raw: string): string {
  const sha = git(["hash-object", "-t", "commit", "-w", "--stdin"], { cwd: bare, input: raw }).trim();
  if (sha !== commitSha(raw)) throw new Error(`git hashed ${sha}, commitSha said ${commitSha(raw)}`);
  return sha;
}

/** Signs record #sequence on top of `previous`, writes it, and moves approved/<env> to it. */
export async function publishRecord(
  bare: string,
  key: TestKey,
  source: { commit: string; tree: string },
  sequence: number,
  previous: string | null,
  overrides: Partial<RecordFields> = {},
  environment = "production",
): Promise<string> {
  const signed = await signRecord(
    {
      fields: fieldsFor(key, source, sequence, { environment, ...overrides }),
      previousRecord: previous,
      identity: { name: "pullgate[bot]", email: "pullgate@example.com" },
      format: { decision: { rules: [{ name: "approvals", ok: true }] } },
    },
    key.signingKey,
  );
  const sha = writeCommit(bare, signed.signedRaw);
  git(["update-ref", `refs/heads/approved/${environment}`, sha], { cwd: bare });
  return sha;
}

/** A GNUPGHOME with only the given public key imported (never the user's ~/.gnupg). */
export function gnupgHomeWith(publicKey: string): string {
  const home = tempDir("gnupg");
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync("gpg", ["--batch", "--quiet", "--import"], {
    input: publicKey,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return home;
}
