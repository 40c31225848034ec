import type { ProtectionPolicy } from "../policy/types.js";
import type { ActorLists, ClassicProtection } from "./github-types.js";
import { isAllowedBypass, type ProtectionContext } from "./principals.js";
import type { BypassActor } from "./types.js";

/** Logins / slugs, the form PUT takes actor lists in (GET returns objects). */
export interface ActorNames {
  users: string[];
  teams: string[];
  apps: string[];
}

/** The body of `PUT /repos/{owner}/{repo}/branches/{branch}/protection`. */
export interface ClassicProtectionUpdate {
  required_status_checks: {
    strict: boolean;
    /** app_id -1 = any source (kept only where an existing requirement already said so). */
    checks: { context: string; app_id: number }[];
  } | null;
  enforce_admins: boolean;
  required_pull_request_reviews: {
    dismissal_restrictions?: ActorNames;
    dismiss_stale_reviews: boolean;
    require_code_owner_reviews: boolean;
    required_approving_review_count: number;
    require_last_push_approval: boolean;
    bypass_pull_request_allowances: ActorNames;
  } | null;
  restrictions: ActorNames | null;
  required_linear_history: boolean;
  allow_force_pushes: boolean;
  allow_deletions: boolean;
  block_creations: boolean;
  required_conversation_resolution: boolean;
  lock_branch: boolean;
  allow_fork_syncing: boolean;
}

/**
 * Everything enforce mode applies to classic protection. Required signatures are not part of the
 * PUT body: GitHub sets them with `POST .../branches/{branch}/protection/required_signatures`.
 */
export interface ProtectionFix {
  put: ClassicProtectionUpdate;
  /** Call `POST .../protection/required_signatures` after the PUT (idempotent). */
  enableRequiredSignatures: boolean;
}

export type ProtectionFixErrorCode = "UNNAMED_ACTOR";

/** The existing protection cannot be reproduced faithfully, so a PUT could weaken it: refuse. */
export class ProtectionFixError extends Error {
  constructor(
    readonly code: ProtectionFixErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ProtectionFixError";
  }
}

/** GitHub's classic protection accepts 0..6 required approvals; more needs a ruleset. */
export const CLASSIC_MAX_APPROVALS = 6;

/**
 * The PUT body that applies every setting the policy requires while keeping whatever stricter
 * setting the branch already has. PUT replaces the whole protection, so everything that exists is
 * carried over (checks with their sources, push restrictions, dismissal restrictions, lock,
 * linear history...); the only things it removes are permissions: force pushes / deletions the
 * policy forbids and PR-bypass allowances the policy does not allow.
 */
export function protectionFixPayload(
  classic: ClassicProtection | null,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ClassicProtectionUpdate {
  const c = classic ?? {};
  return {
    required_status_checks: statusChecks(c, required, ctx),
    enforce_admins: c.enforce_admins?.enabled === true || required.enforceAdmins,
    required_pull_request_reviews: pullRequestReviews(c, required, ctx),
    restrictions: c.restrictions ? names(c.restrictions, "restrictions") : null,
    required_linear_history: c.required_linear_history?.enabled === true,
    // Allowed only if it already was and the policy allows it; a missing flag reads as blocked.
    allow_force_pushes: c.allow_force_pushes?.enabled === true && required.allowForcePushes,
    allow_deletions: c.allow_deletions?.enabled === true && required.allowDeletions,
    block_creations: c.block_creations?.enabled === true,
    required_conversation_resolution: c.required_conversation_resolution?.enabled === true,
    lock_branch: c.lock_branch?.enabled === true,
    allow_fork_syncing: c.allow_fork_syncing?.enabled === true,
  };
}

/** The full enforce-mode fix: the PUT body and whether to switch on required signatures. */
export function protectionFix(
  classic: ClassicProtection | null,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ProtectionFix {
  return {
    put: protectionFixPayload(classic, required, ctx),
    enableRequiredSignatures: classic?.required_signatures?.enabled === true || required.requireSignedCommits,
  };
}

function statusChecks(
  c: ClassicProtection,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ClassicProtectionUpdate["required_status_checks"] {
  const existing = c.required_status_checks ?? null;
  const checks: { context: string; app_id: number }[] = [];
  const add = (context: string, appId: number): void => {
    const same = checks.filter((x) => x.context === context);
    if (same.some((x) => x.app_id === appId)) return;
    // The same context required twice, once from any source and once pinned, means pinned.
    const anySource = same.find((x) => x.app_id === -1);
    if (anySource) anySource.app_id = appId;
    else if (same.length === 0 || appId !== -1) checks.push({ context, app_id: appId });
  };
  // Strict needs at least one required check to mean anything, and pullgate's is the natural one.
  const pinPullgate = required.requirePullgateCheck || (required.requireUpToDate && !hasAnyCheck(existing));
  if (pinPullgate) add(ctx.checkName, ctx.appId);
  for (const check of existing?.checks ?? []) {
    if (typeof check?.context !== "string") continue;
    // pullgate's check belongs to pullgate's app: a requirement of it from elsewhere is replaced.
    if (pinPullgate && check.context === ctx.checkName) continue;
    // -1 keeps "any source" explicit: omitting app_id would let GitHub pick an app instead.
    add(check.context, typeof check.app_id === "number" ? check.app_id : -1);
  }
  for (const context of existing?.contexts ?? []) {
    if (typeof context === "string" && !(pinPullgate && context === ctx.checkName)) add(context, -1);
  }
  if (!existing && checks.length === 0) return null;
  return { strict: existing?.strict === true || required.requireUpToDate, checks };
}

function hasAnyCheck(existing: ClassicProtection["required_status_checks"]): boolean {
  return (existing?.checks?.length ?? 0) > 0 || (existing?.contexts?.length ?? 0) > 0;
}

function pullRequestReviews(
  c: ClassicProtection,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ClassicProtectionUpdate["required_pull_request_reviews"] {
  const existing = c.required_pull_request_reviews ?? null;
  const wanted =
    required.requirePullRequest ||
    required.requiredApprovals > 0 ||
    required.requireCodeOwnerReview ||
    required.dismissStaleReviews ||
    required.requireLastPushApproval;
  if (!existing && !wanted) return null;

  const existingCount =
    typeof existing?.required_approving_review_count === "number"
      ? existing.required_approving_review_count
      : 0;
  const reviews: NonNullable<ClassicProtectionUpdate["required_pull_request_reviews"]> = {
    dismiss_stale_reviews: existing?.dismiss_stale_reviews === true || required.dismissStaleReviews,
    require_code_owner_reviews:
      existing?.require_code_owner_reviews === true || required.requireCodeOwnerReview,
    required_approving_review_count: Math.max(
      existingCount,
      Math.min(required.requiredApprovals, CLASSIC_MAX_APPROVALS),
    ),
    require_last_push_approval:
      existing?.require_last_push_approval === true || required.requireLastPushApproval,
    bypass_pull_request_allowances: allowedBypassNames(
      existing?.bypass_pull_request_allowances,
      required,
      ctx,
    ),
  };
  // Dismissal restrictions narrow who may dismiss reviews; dropping them would widen it.
  if (existing?.dismissal_restrictions) {
    reviews.dismissal_restrictions = names(existing.dismissal_restrictions, "dismissal_restrictions");
  }
  return reviews;
}

/** Existing PR-bypass allowances minus those the policy does not allow (removal only narrows). */
function allowedBypassNames(
  lists: ActorLists | undefined,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ActorNames {
  const keep = (actor: BypassActor): boolean => isAllowedBypass(actor, required.allowedBypass, ctx);
  const result: ActorNames = { users: [], teams: [], apps: [] };
  for (const u of lists?.users ?? []) {
    if (keep({ kind: "user", id: u.id ?? null, login: u.login ?? null, mode: "always" }) && u.login) {
      result.users.push(u.login);
    }
  }
  for (const t of lists?.teams ?? []) {
    if (keep({ kind: "team", id: t.id ?? null, slug: t.slug ?? null, mode: "always" }) && t.slug) {
      result.teams.push(t.slug);
    }
  }
  for (const a of lists?.apps ?? []) {
    if (keep({ kind: "app", id: a.id ?? null, slug: a.slug ?? null, mode: "always" }) && a.slug) {
      result.apps.push(a.slug);
    }
  }
  return result;
}

/** GET's actor objects as PUT's names; an unnamed actor cannot be carried over, so refuse. */
function names(lists: ActorLists, field: string): ActorNames {
  const pick = (items: { login?: string; slug?: string; id?: number }[] | undefined, key: "login" | "slug") =>
    (items ?? []).map((item) => {
      const name = item[key];
      if (typeof name !== "string" || name === "") {
        throw new ProtectionFixError(
          "UNNAMED_ACTOR",
          `${field} lists an actor without a ${key} (id ${item.id ?? "unknown"}); a PUT could not keep it`,
        );
      }
      return name;
    });
  return {
    users: pick(lists.users, "login"),
    teams: pick(lists.teams, "slug"),
    apps: pick(lists.apps, "slug"),
  };
}
