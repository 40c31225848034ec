import type { ProtectionDoc, ReviewsDoc, SecretsDoc, SettingsDoc, SignaturesDoc } from "./document.js";
import {
  SIGNER_IDENTITY_RANK,
  type KeyScope,
  type Principal,
  type ProtectionPolicy,
  type ReviewPolicy,
  type SecretsPolicy,
  type SignaturePolicy,
  type SignerIdentity,
} from "./types.js";
import { joinPointer, type PositionMap } from "./yaml-positions.js";

/**
 * Resolving the signatures / reviews / protection sections of one branch from layers of
 * documents (the branch entry, the file's `defaults`, and for a merge the org's layers below
 * the repo's): each field takes the first layer that writes it, else its built-in default.
 * Every resolved field remembers where its value came from, so merge errors can name both files.
 */

export type Section = "signatures" | "reviews" | "protection" | "secrets";

/** One document layer: a branch entry or a `defaults` block, with the file it was read from. */
export interface Layer {
  settings: SettingsDoc | undefined;
  file: string;
  positions: PositionMap;
  /** JSON pointer of the settings object in its file: "/defaults" or "/branches/2". */
  pointer: string;
}

/** Where a resolved value came from. */
export type Origin =
  | { kind: "file"; file: string; line: number; column: number }
  | { kind: "builtin" }
  /** A protection field defaulting to a review or signature field; `from` is that field's origin. */
  | { kind: "derived"; field: string; from: Origin };

/** Origins keyed by "section.yaml_key", e.g. "reviews.required_approvals". */
export type Origins = Map<string, Origin>;

export interface ResolvedSettings {
  signatures: SignaturePolicy;
  reviews: ReviewPolicy;
  protection: ProtectionPolicy;
  secrets: SecretsPolicy;
  origins: Origins;
}

/** Built-in defaults: strict. A repo that names only its branches gets these. */
export const BUILTIN_SIGNATURES: SignaturePolicy = {
  required: true,
  openpgpKeyrings: [".github/pullgate/keys"],
  sshAllowedSigners: ".github/pullgate/allowed_signers",
  trustWebFlow: false,
  signerIdentity: "author_or_committer",
  signerLogins: null,
  scopes: [],
};

export const BUILTIN_REVIEWS: ReviewPolicy = {
  requiredApprovals: 1,
  requireCodeOwnerReview: true,
  dismissStaleApprovals: true,
  requireLastPushApproval: false,
};

/** On for every governed branch unless a policy turns it off. */
export const BUILTIN_SECRETS: SecretsPolicy = { enabled: true, allow: [] };

/** GitHub's required_approving_review_count accepts 0..6. */
export const GITHUB_MAX_REQUIRED_APPROVALS = 6;

/** Protection defaults that do not derive from the review or signature settings. */
export const BUILTIN_PROTECTION = {
  mode: "audit",
  requirePullRequest: true,
  requirePullgateCheck: true,
  requireUpToDate: true,
  allowForcePushes: false,
  allowDeletions: false,
  enforceAdmins: true,
  allowedBypass: [] as Principal[],
} as const satisfies Partial<ProtectionPolicy>;

function stricterIdentity(a: SignerIdentity, b: SignerIdentity): SignerIdentity {
  return SIGNER_IDENTITY_RANK.indexOf(a) >= SIGNER_IDENTITY_RANK.indexOf(b) ? a : b;
}

/** GitHub logins and team slugs are case-insensitive: compare and digest them in lower case. */
export function normalizePrincipal(principal: Principal): Principal {
  return principal.startsWith("@") ? principal.toLowerCase() : principal;
}

export function normalizePrincipals(list: readonly Principal[]): Principal[] {
  return [...new Set(list.map(normalizePrincipal))];
}

/** OpenPGP fingerprints are compared in upper case (the model's convention); SSH principals as written. */
function normalizeSigner(signer: string): string {
  return /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(signer) ? signer.toUpperCase() : signer;
}

export function normalizeScopes(scopes: readonly { signers: string[]; paths: string[] }[]): KeyScope[] {
  return scopes.map((s) => ({ signers: [...new Set(s.signers.map(normalizeSigner))], paths: [...s.paths] }));
}

interface Docs {
  signatures: SignaturesDoc;
  reviews: ReviewsDoc;
  protection: ProtectionDoc;
  secrets: SecretsDoc;
}

export function resolveSettings(layers: readonly Layer[]): ResolvedSettings {
  const origins: Origins = new Map();

  function pick<S extends Section, K extends keyof Docs[S] & string>(
    section: S,
    key: K,
  ): { value: Exclude<Docs[S][K], undefined> } | undefined {
    for (const layer of layers) {
      const doc = layer.settings?.[section] as Docs[S] | undefined;
      if (doc === undefined || !Object.hasOwn(doc, key)) continue;
      const value = doc[key];
      if (value === undefined) continue;
      const at = layer.positions.valueAt(joinPointer(layer.pointer, section, key));
      origins.set(`${section}.${key}`, { kind: "file", file: layer.file, line: at.line, column: at.column });
      return { value: value as Exclude<Docs[S][K], undefined> };
    }
    return undefined;
  }

  function value<S extends Section, K extends keyof Docs[S] & string, D>(
    section: S,
    key: K,
    fallback: D,
  ): Exclude<Docs[S][K], undefined> | D {
    const found = pick(section, key);
    if (found !== undefined) return found.value;
    origins.set(`${section}.${key}`, { kind: "builtin" });
    return fallback;
  }

  /** A protection field whose default is another field's resolved value. */
  function derived<K extends keyof ProtectionDoc & string, D>(key: K, fromField: string, fallback: D) {
    const found = pick("protection", key);
    if (found !== undefined) return found.value;
    const from = origins.get(fromField) ?? { kind: "builtin" as const };
    origins.set(`protection.${key}`, { kind: "derived", field: fromField, from });
    return fallback;
  }

  const signatures: SignaturePolicy = {
    required: value("signatures", "required", BUILTIN_SIGNATURES.required),
    openpgpKeyrings: [...value("signatures", "openpgp_keyrings", BUILTIN_SIGNATURES.openpgpKeyrings)],
    sshAllowedSigners: value("signatures", "ssh_allowed_signers", BUILTIN_SIGNATURES.sshAllowedSigners),
    trustWebFlow: value("signatures", "trust_web_flow", BUILTIN_SIGNATURES.trustWebFlow),
    signerIdentity: stricterIdentity(
      value("signatures", "signer_identity", BUILTIN_SIGNATURES.signerIdentity),
      // The legacy key can only tighten: true is "author", false leaves signer_identity alone
      // (it used to mean "any"; a file that wrote it false gets the strict default now).
      value("signatures", "require_signer_matches_author", false) ? "author" : "any",
    ),
    signerLogins: value("signatures", "signer_logins", BUILTIN_SIGNATURES.signerLogins),
    scopes: normalizeScopes(value("signatures", "scopes", BUILTIN_SIGNATURES.scopes)),
  };

  const reviews: ReviewPolicy = {
    requiredApprovals: value("reviews", "required_approvals", BUILTIN_REVIEWS.requiredApprovals),
    requireCodeOwnerReview: value(
      "reviews",
      "require_code_owner_review",
      BUILTIN_REVIEWS.requireCodeOwnerReview,
    ),
    dismissStaleApprovals: value("reviews", "dismiss_stale_approvals", BUILTIN_REVIEWS.dismissStaleApprovals),
    requireLastPushApproval: value(
      "reviews",
      "require_last_push_approval",
      BUILTIN_REVIEWS.requireLastPushApproval,
    ),
  };

  const protection: ProtectionPolicy = {
    mode: value("protection", "mode", BUILTIN_PROTECTION.mode),
    requirePullRequest: value("protection", "require_pull_request", BUILTIN_PROTECTION.requirePullRequest),
    requiredApprovals: derived(
      "required_approvals",
      "reviews.required_approvals",
      Math.min(reviews.requiredApprovals, GITHUB_MAX_REQUIRED_APPROVALS),
    ),
    requireCodeOwnerReview: derived(
      "require_code_owner_review",
      "reviews.require_code_owner_review",
      reviews.requireCodeOwnerReview,
    ),
    dismissStaleReviews: derived(
      "dismiss_stale_reviews",
      "reviews.dismiss_stale_approvals",
      reviews.dismissStaleApprovals,
    ),
    requireLastPushApproval: derived(
      "require_last_push_approval",
      "reviews.require_last_push_approval",
      reviews.requireLastPushApproval,
    ),
    requireSignedCommits: derived("require_signed_commits", "signatures.required", signatures.required),
    requirePullgateCheck: value(
      "protection",
      "require_pullgate_check",
      BUILTIN_PROTECTION.requirePullgateCheck,
    ),
    requireUpToDate: value("protection", "require_up_to_date", BUILTIN_PROTECTION.requireUpToDate),
    allowForcePushes: value("protection", "allow_force_pushes", BUILTIN_PROTECTION.allowForcePushes),
    allowDeletions: value("protection", "allow_deletions", BUILTIN_PROTECTION.allowDeletions),
    enforceAdmins: value("protection", "enforce_admins", BUILTIN_PROTECTION.enforceAdmins),
    allowedBypass: normalizePrincipals(
      value("protection", "allowed_bypass", BUILTIN_PROTECTION.allowedBypass),
    ),
  };

  const secrets: SecretsPolicy = {
    enabled: value("secrets", "enabled", BUILTIN_SECRETS.enabled),
    allow: [...value("secrets", "allow", BUILTIN_SECRETS.allow)],
  };

  return { signatures, reviews, protection, secrets, origins };
}
