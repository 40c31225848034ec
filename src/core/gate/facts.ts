/**
 * The facts port: everything the gate needs to decide one PR head, as plain data. An adapter
 * (src/github/facts/ for GitHub, src/core/gate/testing.ts in memory) gathers it; `decide` in
 * src/core/gate/decide.ts judges it without any I/O. Everything trusted (policy, CODEOWNERS,
 * keyrings) is read at the base SHA; everything about the PR for exactly the head SHA
 * (docs/architecture.md, "Gating a pull request").
 */
import type { SecretsVerdict } from "../secrets/index.js";
import type { Policy } from "../policy/types.js";
import type { PrefixSource } from "../protection/record-ref-pull.js";
import type { Permission, Review } from "../reviews/types.js";
import type { RuleResult } from "../verdict/types.js";

/** GitHub stops listing a PR's files at 3,000 and its commits at 250 (docs/github-api.md, "Limits"). */
export const MAX_PR_FILES = 3_000;
export const MAX_PR_COMMITS = 250;

export interface RepoName {
  owner: string;
  repo: string;
}

export interface PullCommit {
  sha: string;
  tree: string;
  parents: string[];
  authorEmail: string;
  authorLogin: string | null;
  committerEmail: string;
  committerLogin: string | null;
  /** GitHub's verification payload (the signed commit text) and signature, when signed. */
  payload: string | null;
  signature: string | null;
  /** GitHub's own badge: used only to recognise web-flow merges, never to trust a signature. */
  githubVerified: boolean;
}

/** What one PR looks like at one head SHA. */
export interface PullSnapshot {
  repo: RepoName;
  number: number;
  author: string;
  headSha: string;
  headRef: string;
  headRepoFullName: string | null;
  baseRef: string;
  baseSha: string;
  /** The repository's default branch (the PR's base repository), null when GitHub did not say. */
  defaultBranch: string | null;
  state: string;
  draft: boolean;
  /** Every changed path (both sides of a rename), sorted. */
  changedFiles: string[];
  /** The PR's commits, oldest first, ending at the head. */
  commits: PullCommit[];
  reviews: Review[];
}

/**
 * How many files and commits the PR itself reports. A listing is complete only when the counts are
 * within GitHub's caps; past them the listing is truncated and the gate fails closed.
 */
export interface ListingCounts {
  files: number;
  commits: number;
}

/** A file read at the base SHA: "owner/repo@sha:path" for messages, its path and its text. */
export interface SourceText {
  file: string;
  path: string;
  text: string;
}

export interface KeyringTexts {
  openpgp: SourceText[];
  ssh: SourceText | null;
  /** The signer-logins file (keys -> GitHub logins, docs/policy.md "Who signed"), when the policy names one. */
  signerLogins: SourceText | null;
}

/**
 * The policy at the base commit: parsed (repository over org), absent, or broken. A broken one is
 * kept as a value (its reason, and the adapter's own error to rethrow) so the record-ref rule can
 * still be judged before the PR fails closed on it.
 */
export type PolicyAtBase =
  | { kind: "policy"; policy: Policy; digest: string; sources: string[]; notes: string[] }
  | { kind: "none" }
  | { kind: "error"; reason: string; fix?: string; cause: unknown };

/** What the policy of the governed branches says about the record-ref prefix, and the base's own. */
export interface RecordRefFacts {
  governing: PrefixSource;
  base: PrefixSource;
}

/** The facts a governed PR needs beyond the pull and its policy, all read at the base SHA or about its reviewers. */
export interface GovernedFacts {
  /** The first CODEOWNERS GitHub would use, or null when there is none. */
  codeowners: SourceText | null;
  keyring: KeyringTexts;
  /** Permission of each reviewer on the repository, keyed by lowercase login. */
  permissions: Record<string, Permission>;
  /** Members of the teams the rules may need ("org/slug" -> lowercase logins). */
  teamMembers: Record<string, string[]>;
  /** Paths each commit changes, by SHA; only when the signature policy has key scopes. */
  commitPaths: Record<string, string[]> | null;
  /** The base branch's protection audited against the policy; null when not audited (mode off, or no app). */
  protection: RuleResult | null;
  /**
   * The no-plaintext-secrets rule over the files the PR adds or modifies, by the base's policy
   * (docs/policy.md, "secrets"); its reading (trees and blobs at the head) is the adapter's.
   */
  secrets: SecretsVerdict;
}

/** Everything needed to decide one PR head. */
export interface PullFacts {
  pull: PullSnapshot;
  counts: ListingCounts;
  /** Who pushed the head, when the event or our last decision says; else the head commit's accounts are used. */
  lastPusher: string | null;
  policy: PolicyAtBase;
  recordRef: RecordRefFacts;
  /** Null unless the base is governed by a policy (nothing more is read for other PRs). */
  governed: GovernedFacts | null;
}
