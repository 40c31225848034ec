/**
 * The "signatures" rule over gathered facts: every commit of the PR judged by pullgate's own
 * verifier against the keyring read from the base branch (never GitHub's badge), then the branch's
 * signature policy applied (required, key scopes, signer = author or committer). Also says who
 * signed, as GitHub logins, for the review rules (an approval by a signer is a self-approval).
 * The commits' author/committer logins are GitHub's account of their emails, used only to link a
 * key's email to an account (src/core/signatures/signer-person.ts).
 */
import { createHash } from "node:crypto";
import type { SignaturePolicy } from "../policy/types.js";
import { matchesPattern } from "../reviews/pattern.js";
import { VerdictCache, verifyCached } from "../signatures/cache.js";
import { rebuildFromGitHub } from "../signatures/commit.js";
import {
  commitSigners,
  evaluateSignatures,
  type CommitSignatureFacts,
  type CommitSigner,
} from "../signatures/policy-hooks.js";
import { parseSignerLogins } from "../signatures/signer-logins.js";
import type { SignatureVerdict } from "../signatures/types.js";
import { loadKeyring, type Keyring } from "../signatures/verify.js";
import type { RuleResult } from "../verdict/types.js";
import type { KeyringTexts, PullCommit } from "./facts.js";
import { ImmutableCache } from "./immutable-cache.js";

/**
 * Memo tables, not state: a verdict is a function of (commit SHA, keyring digest) and a parsed
 * keyring of its text, so re-evaluations of the same head cost nothing.
 */
const verdicts = new VerdictCache(20_000);
const keyrings = new ImmutableCache<string, Keyring>(100);

/** GitHub makes "Update branch" merges itself, committed as GitHub and signed with its web-flow key. */
export function isWebFlowMerge(c: PullCommit): boolean {
  return c.parents.length >= 2 && c.committerEmail === "noreply@github.com" && c.githubVerified;
}

function unverified(commit: string, reason: string): SignatureVerdict {
  return {
    commit,
    verified: false,
    format: "none",
    signer: null,
    keyFingerprint: null,
    signerEmail: null,
    reason,
  };
}

async function keyringOf(files: KeyringTexts): Promise<Keyring> {
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

export interface SignatureOutcome {
  rule: RuleResult;
  verdicts: SignatureVerdict[];
  keyringNotes: string[];
  signers: CommitSigner[];
}

/**
 * `commitPaths` must hold every commit's paths when the policy has key scopes; a commit missing
 * there is judged with no paths, which no scope admits (fail closed).
 */
export async function signatureRule(
  policy: SignaturePolicy,
  keyringTexts: KeyringTexts,
  commits: readonly PullCommit[],
  commitPaths: Record<string, string[]> | null,
  now: Date,
): Promise<SignatureOutcome> {
  const keyring = await keyringOf(keyringTexts);
  const signerLogins =
    keyringTexts.signerLogins === null ? null : parseSignerLogins(keyringTexts.signerLogins.text);
  const needPaths = policy.scopes.length > 0;
  const facts: CommitSignatureFacts[] = await Promise.all(
    commits.map(async (c) => ({
      sha: c.sha,
      verdict: await verdictFor(c, keyring, now),
      authorEmail: c.authorEmail,
      authorLogin: c.authorLogin,
      committerEmail: c.committerEmail,
      committerLogin: c.committerLogin,
      isWebFlowMerge: isWebFlowMerge(c),
      ...(needPaths ? { changedPaths: commitPaths?.[c.sha] ?? [] } : {}),
    })),
  );
  return {
    rule: evaluateSignatures(policy, facts, matchesPattern, signerLogins),
    verdicts: facts.map((f) => f.verdict),
    keyringNotes: keyring.errors,
    signers: commitSigners(policy, facts, signerLogins),
  };
}
