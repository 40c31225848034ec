/**
 * The policy file as written (snake_case, every field optional except where the schema requires
 * it), after JSON Schema validation. Defaults and merging turn documents into the effective
 * `Policy` of types.ts; keeping the document lets the merge know which values a file actually
 * wrote (a repo file that says nothing about approvals inherits the org's, it does not reset them).
 */

export interface SignaturesDoc {
  required?: boolean;
  openpgp_keyrings?: string[];
  ssh_allowed_signers?: string | null;
  trust_web_flow?: boolean;
  /** Legacy: `true` is `signer_identity: author`; `false` adds nothing. */
  require_signer_matches_author?: boolean;
  signer_identity?: "any" | "author_or_committer" | "author";
  signer_logins?: string | null;
  scopes?: { signers: string[]; paths: string[] }[];
}

export interface ReviewsDoc {
  required_approvals?: number;
  require_code_owner_review?: boolean;
  dismiss_stale_approvals?: boolean;
  require_last_push_approval?: boolean;
}

export interface ProtectionDoc {
  mode?: "off" | "audit" | "enforce";
  require_pull_request?: boolean;
  required_approvals?: number;
  require_code_owner_review?: boolean;
  dismiss_stale_reviews?: boolean;
  require_last_push_approval?: boolean;
  require_signed_commits?: boolean;
  require_pullgate_check?: boolean;
  require_up_to_date?: boolean;
  allow_force_pushes?: boolean;
  allow_deletions?: boolean;
  enforce_admins?: boolean;
  allowed_bypass?: string[];
}

export interface SecretsDoc {
  enabled?: boolean;
  allow?: string[];
}

export interface PathRuleDoc {
  name?: string;
  paths: string[];
  approvals?: number;
  from: string[];
}

/** The sections a `defaults` block and a branch entry share. */
export interface SettingsDoc {
  signatures?: SignaturesDoc;
  reviews?: ReviewsDoc;
  protection?: ProtectionDoc;
  secrets?: SecretsDoc;
}

export interface PromotionDoc {
  from: string;
  min_age: string;
  path?: string;
  from_path?: string;
}

export interface BreakGlassDoc {
  enabled: boolean;
  label?: string;
  approvals?: number;
  admins?: string[];
}

export interface BranchDoc extends SettingsDoc {
  branch: string;
  environment?: string;
  paths?: PathRuleDoc[];
  promotion?: PromotionDoc;
  break_glass?: BreakGlassDoc;
}

export interface PolicyDoc {
  version: 1;
  admins?: string[];
  records?: { ref_prefix?: string; refresh_interval?: string };
  sensitive_paths?: string[];
  defaults?: SettingsDoc;
  branches?: BranchDoc[];
}
