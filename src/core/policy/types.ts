/**
 * The effective policy: what the YAML says after defaults and the org -> repo merge. The core
 * evaluates this model; the YAML syntax lives in parse.ts and policies/pullgate.schema.json.
 *
 * A principal is "@login", "@org/team-slug", or an email address (CODEOWNERS style).
 */
export type Principal = string;

export type ProtectionMode = "off" | "audit" | "enforce";

export interface Policy {
  version: 1;
  /** Who must approve changes to sensitive paths (CODEOWNERS, the policy, keyrings, workflows). */
  admins: Principal[];
  /** Paths (CODEOWNERS-style patterns) whose changes need an admin's approval, whatever CODEOWNERS says. */
  sensitivePaths: string[];
  /** Ref prefix of approved-revision records; default "approved/". */
  recordRefPrefix: string;
  /**
   * How often the app re-issues the current record of each environment (`records.refresh_interval`,
   * default 24h), in ms; 0: never (docs/policy.md, "Records").
   */
  recordRefreshIntervalMs: number;
  /** Governed branches, first match wins. */
  branches: BranchPolicy[];
}

export interface BranchPolicy {
  /** Branch name or glob ("main", "release/*"). */
  branch: string;
  /** Environment this branch feeds: the record goes to `${recordRefPrefix}${environment}`. */
  environment: string;
  signatures: SignaturePolicy;
  reviews: ReviewPolicy;
  /** Extra per-path rules: changes under these paths need N approvals from these principals. */
  pathRules: PathRule[];
  protection: ProtectionPolicy;
  secrets: SecretsPolicy;
  /**
   * `promotion` (docs/policy.md, "Promotion"): what this branch records must have been recorded on
   * another environment first. Absent when the policy does not write it, so that policies without
   * it keep their digest.
   */
  promotion?: PromotionPolicy;
  /**
   * `break_glass` (docs/policy.md, "Break-glass"): the emergency path, present only when enabled
   * (absent: off), for the same reason.
   */
  breakGlass?: BreakGlassPolicy;
}

export interface PromotionPolicy {
  /** The environment whose records qualify ("staging"). */
  from: string;
  /** How long before the candidate's evaluation the matching record must have been issued. */
  minAgeMs: number;
  /** Directory layout: the promoted directory in this branch ("envs/production"); null: the whole tree. */
  path: string | null;
  /** Directory layout: the directory compared in the source record's tree; null: `path`. */
  fromPath: string | null;
}

export interface BreakGlassPolicy {
  enabled: boolean;
  /** The label that requests it; default "pullgate/break-glass". */
  label: string;
  /** Distinct admins who must approve, at least 2 (no admin alone). */
  approvals: number;
  /** Who counts as an admin for break-glass; default: the policy's `admins`. */
  admins: Principal[];
}

/** The no-plaintext-secrets rule (docs/policy.md, "secrets"). */
export interface SecretsPolicy {
  /** Fail pull requests that add plaintext credentials. Default: true. */
  enabled: boolean;
  /** CODEOWNERS-style patterns of files not scanned (test fixtures, encrypted vaults). Default: []. */
  allow: string[];
}

export interface KeyScope {
  /** Key fingerprints (OpenPGP, uppercase hex) or SSH principals this scope is about. */
  signers: string[];
  /** CODEOWNERS-style patterns these signers may change. A commit touching other paths is refused for them. */
  paths: string[];
}

export type SignerIdentity = "any" | "author_or_committer" | "author";

/** Weakest first: a repository policy may only move right of the org's. */
export const SIGNER_IDENTITY_RANK: readonly SignerIdentity[] = ["any", "author_or_committer", "author"];

export interface SignaturePolicy {
  /** Every commit pushed to the PR must be signed by a trusted key. */
  required: boolean;
  /** Repo paths (read from the base branch) of OpenPGP armored keys: files or folders of .asc. */
  openpgpKeyrings: string[];
  /** Repo path of an SSH allowed_signers file, or null. */
  sshAllowedSigners: string | null;
  /** Trust GitHub's web-flow key for merge commits GitHub itself made inside the PR (e.g. "Update branch"). */
  trustWebFlow: boolean;
  /**
   * Whose key may sign a commit: "author_or_committer" (default) the person of the signing key
   * must be the commit's author or committer, "author" only its author, "any" any trusted key.
   * The legacy `require_signer_matches_author: true` means "author". docs/policy.md, "Who signed".
   */
  signerIdentity: SignerIdentity;
  /** Repo path (read from the base branch) of the signer-logins file linking keys to GitHub logins, or null. */
  signerLogins: string | null;
  /** Optional path scoping of keys; empty = every trusted key may sign any path. */
  scopes: KeyScope[];
}

export interface ReviewPolicy {
  /** Approvals required from writers other than the author. */
  requiredApprovals: number;
  /** Every changed file with a code owner needs an approval from one of its owners. */
  requireCodeOwnerReview: boolean;
  /** Approvals given on an older head do not count. */
  dismissStaleApprovals: boolean;
  /** The most recent pusher's own approval cannot be the one that satisfies the rules (GitHub's require_last_push_approval). */
  requireLastPushApproval: boolean;
}

export interface PathRule {
  /** Name shown in the check ("cluster-prod"); defaults to the first pattern. */
  name: string;
  /** CODEOWNERS-style patterns. */
  paths: string[];
  /** Approvals needed from the listed principals. */
  approvals: number;
  from: Principal[];
}

export interface ProtectionPolicy {
  mode: ProtectionMode;
  requirePullRequest: boolean;
  /** Required approving review count GitHub must enforce; defaults to reviews.requiredApprovals. */
  requiredApprovals: number;
  requireCodeOwnerReview: boolean;
  dismissStaleReviews: boolean;
  requireLastPushApproval: boolean;
  requireSignedCommits: boolean;
  /** pullgate's check must be a required status check, pinned to this app. */
  requirePullgateCheck: boolean;
  /** Branches must be up to date before merging (strict status checks). */
  requireUpToDate: boolean;
  allowForcePushes: boolean;
  allowDeletions: boolean;
  enforceAdmins: boolean;
  /** Principals allowed to bypass (rulesets' bypass actors / PR review bypass); anything else is drift. */
  allowedBypass: Principal[];
}

/** A policy problem with its place in a file (1-based line and column). */
export interface PolicyError {
  file: string;
  line: number;
  column: number;
  message: string;
}
