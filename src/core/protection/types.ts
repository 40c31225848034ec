import type { BypassMode, ClassicProtection } from "./github-types.js";

/** Where a setting comes from: classic branch protection or one active ruleset. */
export type ProtectionSource =
  { kind: "classic" } | { kind: "ruleset"; id: number; name: string; sourceType: string; source: string };

/**
 * Someone who may escape a setting of one source. Classic protection with `enforce_admins` off
 * lets repository admins and organization owners escape everything ("admins").
 */
export type BypassActor = (
  | { kind: "admins" }
  | { kind: "organization-admin" }
  | { kind: "enterprise-owner" }
  | { kind: "repository-role"; roleId: number | null }
  | { kind: "team"; id: number | null; slug: string | null }
  | { kind: "user"; id: number | null; login: string | null }
  | { kind: "app"; id: number | null; slug: string | null }
  | { kind: "deploy-key" }
  | { kind: "unknown"; actorType: string; id: number | null }
  /** GitHub did not show the ruleset's bypass list (insufficient permission): anyone may be on it. */
  | { kind: "unreadable" }
) & {
  /** `pull_request`: may merge a PR that does not meet the rules, but may not push directly. */
  mode: BypassMode;
};

/** One source's contribution to a setting, with who may escape it there. */
export interface SourceSetting<T> {
  source: ProtectionSource;
  value: T;
  /** Actors this source lets escape this setting. Empty = nobody escapes this source. */
  bypass: BypassActor[];
}

/**
 * A setting after combining every source, most restrictive wins. `sources` lists only sources
 * that enforce something (a boolean true, a count above 0, at least one check). An actor escapes
 * the effective setting only by escaping every source that enforces it, so a single source with an
 * empty bypass list makes the setting binding on everyone.
 */
export interface EffectiveSetting<T> {
  value: T;
  sources: SourceSetting<T>[];
}

/** A required status check; `appId` null = any app or user may satisfy it by posting that context. */
export interface RequiredCheck {
  context: string;
  appId: number | null;
}

export interface EffectiveProtection {
  pullRequest: EffectiveSetting<boolean>;
  requiredApprovals: EffectiveSetting<number>;
  codeOwnerReview: EffectiveSetting<boolean>;
  dismissStaleReviews: EffectiveSetting<boolean>;
  lastPushApproval: EffectiveSetting<boolean>;
  reviewThreadResolution: EffectiveSetting<boolean>;
  signedCommits: EffectiveSetting<boolean>;
  linearHistory: EffectiveSetting<boolean>;
  /** Union of required checks; each source's own list is in `sources`. */
  statusChecks: EffectiveSetting<RequiredCheck[]>;
  /** Strict status checks (up to date before merging); only credited where the source requires a check. */
  upToDate: EffectiveSetting<boolean>;
  forcePushesBlocked: EffectiveSetting<boolean>;
  deletionsBlocked: EffectiveSetting<boolean>;
  /** Pushes restricted to bypass actors (ruleset `update`, classic `restrictions` / `lock_branch`). */
  updateRestricted: EffectiveSetting<boolean>;
  /** Ref creation restricted to bypass actors (ruleset `creation`). */
  creationRestricted: EffectiveSetting<boolean>;
  /** The classic protection as read (the fix payload builds on it), null if the branch had none. */
  classic: ClassicProtection | null;
  /** Every source that was counted. */
  counted: ProtectionSource[];
  /** Inputs that were not credited and why (evaluate-mode rulesets, missing ruleset details...). */
  notes: string[];
}
