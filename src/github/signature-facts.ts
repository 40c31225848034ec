import { createHash } from "node:crypto";
import type { SignaturePolicy } from "../core/policy/types.js";
import { matchesPattern } from "../core/reviews/pattern.js";
import { VerdictCache, verifyCached } from "../core/signatures/cache.js";
import { rebuildFromGitHub } from "../core/signatures/commit.js";
import {
  commitSigners,
  evaluateSignatures,
  type CommitSignatureFacts,
  type CommitSigner,
} from "../core/signatures/policy-hooks.js";
import { parseSignerLogins } from "../core/signatures/signer-logins.js";
import type { SignatureVerdict } from "../core/signatures/types.js";
import { loadKeyring, type Keyring } from "../core/signatures/verify.js";
import type { RuleResult } from "../core/verdict/types.js";
import type { KeyringFiles, SourceFile } from "./base-config.js";
import { ImmutableCache } from "./immutable-cache.js";
import { FactsError, type GitHub, type RepoRef } from "./octokit.js";
import type { PullCommit, PullSnapshot } from "./pull-facts.js";

/** Verdicts are immutable per (commit SHA, keyring digest): re-evaluations cost nothing. */
const verdicts = new VerdictCache(20_000);
/** Parsed keyrings, keyed by a hash of their text: a keyring is parsed once per base revision. */
const keyrings = new ImmutableCache<string, Keyring>(100);
/** Paths changed by one commit (for key scopes); immutable per commit SHA. */
const commitPaths = new ImmutableCache<string, string[]>(20_000);

/** GitHub makes "Update branch" merges itself, committed as GitHub and signed with its web-flow key. */
function isWebFlowMerge(c: PullCommit): boolean {
  return c.parents.length >= 2 && c.committerEmail === "noreply@github.com" && c.githubVerified;
}

function unverified(
  commit: string,
  reason: string,
  format: SignatureVerdict["format"] = "none",
): SignatureVerdict {
  return { commit, verified: false, format, signer: null, keyFingerprint: null, signerEmail: null, reason };
}

async function keyringOf(files: { openpgp: SourceFile[]; ssh: SourceFile | null }): Promise<Keyring> {
  const texts = files.openpgp.map((f) => f.text);
  const ssh = files.ssh?.text ?? null;
  const key = createHash("sha256")
    .update(JSON.stringify([texts, ssh]))
    .digest("hex");
  return keyrings.getOrLoad(key, () => loadKeyring({ openpgp: texts, sshAllowedSigners: ssh }));
}

/** Our own verdict on one PR commit: the API's payload is trusted only once it hashes to the SHA. */
async function verdictFor(c: PullCommit, keyring: Keyring, now: Date): Promise<SignatureVerdict> {
  if (c.signature === null || c.payload === null) return unverified(c.sha, "no signature");
  const rebuilt = rebuildFromGitHub(c.payload, c.signature, c.sha);
  if (!rebuilt.ok) return unverified(c.sha, rebuilt.reason);
  return verifyCached(verdicts, rebuilt.raw, keyring, { now });
}

async function changedPathsOf(gh: GitHub, repo: RepoRef, sha: string): Promise<string[]> {
  return commitPaths.getOrLoad(`${repo.owner}/${repo.repo}:${sha}`, async () => {
    // The commit endpoint pages its file list (at most 3,000 files in all).
    const files: { filename: string; previous_filename?: string }[] = [];
    for (let page = 1; ; page++) {
      const { data } = await gh.rest.repos.getCommit({ ...repo, ref: sha, per_page: 100, page });
      const batch = data.files ?? [];
      files.push(...batch);
      if (batch.length < 100) break;
    }
    if (files.length >= 3_000)
      throw new FactsError(
        `commit ${sha.slice(0, 7)} changes 3,000 files or more; its paths cannot be listed completely`,
      );
    return files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename]));
  });
}

/**
 * The "signatures" rule for a PR: every commit pushed to it judged by pullgate's own verifier
 * against the keyring read from the base branch (never GitHub's badge), then the branch's
 * signature policy applied (required, key scopes, signer = author or committer). Also returns who
 * signed, as GitHub logins, for the review rules (an approval by a signer is a self-approval).
 * The commits' author/committer logins are GitHub's account of their emails, used only to link
 * a key's email to an account (src/core/signatures/signer-person.ts).
 */
export async function signatureRule(
  gh: GitHub,
  repo: RepoRef,
  policy: SignaturePolicy,
  keyringFiles: KeyringFiles,
  snapshot: PullSnapshot,
  now: Date = new Date(),
): Promise<{
  rule: RuleResult;
  verdicts: SignatureVerdict[];
  keyringNotes: string[];
  signers: CommitSigner[];
}> {
  const keyring = await keyringOf(keyringFiles);
  const signerLogins =
    keyringFiles.signerLogins === null ? null : parseSignerLogins(keyringFiles.signerLogins.text);
  const needPaths = policy.scopes.length > 0;
  const facts: CommitSignatureFacts[] = await Promise.all(
    snapshot.commits.map(async (c) => ({
      sha: c.sha,
      verdict: await verdictFor(c, keyring, now),
      authorEmail: c.authorEmail,
      authorLogin: c.authorLogin,
      committerEmail: c.committerEmail,
      committerLogin: c.committerLogin,
      isWebFlowMerge: isWebFlowMerge(c),
      ...(needPaths ? { changedPaths: await changedPathsOf(gh, repo, c.sha) } : {}),
    })),
  );
  return {
    rule: evaluateSignatures(policy, facts, matchesPattern, signerLogins),
    verdicts: facts.map((f) => f.verdict),
    keyringNotes: keyring.errors,
    signers: commitSigners(policy, facts, signerLogins),
  };
}
