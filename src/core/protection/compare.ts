import type { ProtectionPolicy } from "../policy/types.js";
import type { Missing, RuleResult } from "../verdict/types.js";
import { describeSource } from "./effective.js";
import { CLASSIC_MAX_APPROVALS, ProtectionFixError, protectionFix, type ProtectionFix } from "./fix.js";
import { describeActor, isAdminActor, isAllowedBypass, type ProtectionContext } from "./principals.js";
import type { BypassActor, EffectiveProtection, ProtectionSource, SourceSetting } from "./types.js";

/** Stable ids of the settings pullgate compares (the `setting` of a "protection" Missing). */
export type ProtectionSettingId =
  | "pull_request"
  | "required_approvals"
  | "code_owner_review"
  | "dismiss_stale_reviews"
  | "last_push_approval"
  | "signed_commits"
  | "pullgate_check"
  | "up_to_date"
  | "force_pushes"
  | "deletions"
  | "enforce_admins"
  | "bypass";

/** One difference between the effective protection and the policy, with how to fix it on GitHub. */
export interface Drift {
  setting: ProtectionSettingId;
  expected: string;
  actual: string;
  /** An imperative sentence naming the exact GitHub setting. */
  fix: string;
}

export interface ProtectionComparison {
  drift: Drift[];
  result: RuleResult;
  /**
   * Enforce mode with drift: the body for `PUT /repos/{o}/{r}/branches/{b}/protection` (and whether
   * to enable required signatures) that makes classic protection alone satisfy the policy without
   * weakening anything already set.
   */
  fixPayload?: ProtectionFix;
}

const RULE_ID = "protection";
const TITLE = "Branch protection";

/** A policy requirement on one effective setting: which sources satisfy it, and what is there instead. */
interface Requirement {
  id: Exclude<ProtectionSettingId, "enforce_admins" | "bypass">;
  label: string;
  expected: string;
  /** Sources enforcing the requirement on their own. */
  guards: SourceSetting<unknown>[];
  actual: string;
  fix: string;
}

/**
 * Compares the effective protection of a branch with what the policy requires. Every required
 * setting must be enforced by some source, and no actor beyond `allowedBypass` (and pullgate's own
 * app) may escape it: an actor escapes only by bypassing every source that enforces the setting, so
 * one source whose bypass list is acceptable makes the setting binding.
 */
export function compareProtection(
  effective: EffectiveProtection,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): ProtectionComparison {
  if (required.mode === "off") {
    return {
      drift: [],
      result: {
        id: RULE_ID,
        title: TITLE,
        status: "pass",
        summary: "Branch protection not checked (protection mode is off).",
        satisfied: [],
        missing: [],
        fix: [],
      },
    };
  }

  const requirements = buildRequirements(effective, required, ctx);
  const drift: Drift[] = [];
  const satisfied: string[] = [];

  // Who may escape each satisfied requirement, grouped by actor for one drift line per actor.
  const escapes = new Map<string, { actor: BypassActor; settings: string[]; sources: ProtectionSource[] }>();
  for (const req of requirements) {
    if (req.guards.length === 0) {
      drift.push({ setting: req.id, expected: req.expected, actual: req.actual, fix: req.fix });
      continue;
    }
    const acceptable = (actor: BypassActor): boolean => isAcceptableBypass(actor, required, ctx);
    // Binding if one guard lets only acceptable actors through: an escaper must escape that guard too.
    if (req.guards.some((g) => g.bypass.every(acceptable))) {
      satisfied.push(
        `${req.label}: ${req.expected}, enforced by ${joinSources(req.guards.map((g) => g.source))}`,
      );
      continue;
    }
    for (const guard of req.guards) {
      for (const actor of guard.bypass) {
        if (acceptable(actor)) continue;
        const key = `${describeActor(actor, ctx)}|${actor.kind}`;
        const entry = escapes.get(key) ?? { actor, settings: [], sources: [] };
        if (!entry.settings.includes(req.label)) entry.settings.push(req.label);
        if (!entry.sources.some((s) => sameSource(s, guard.source))) entry.sources.push(guard.source);
        escapes.set(key, entry);
      }
    }
  }

  for (const { actor, settings, sources } of escapes.values()) {
    drift.push(escapeDrift(actor, settings, sources, required, ctx));
  }

  let fixPayload: ProtectionFix | undefined;
  const fix = drift.map((d) => d.fix);
  if (required.mode === "enforce" && drift.length > 0) {
    try {
      fixPayload = protectionFix(effective.classic, required, ctx);
      if (required.requiredApprovals > CLASSIC_MAX_APPROVALS) {
        fix.push(
          `Classic branch protection allows at most ${CLASSIC_MAX_APPROVALS} required approvals: require ${required.requiredApprovals} with a ruleset "Require a pull request before merging" rule.`,
        );
      }
      fix.push(
        "pullgate (enforce mode) applies the missing settings with PUT /repos/{owner}/{repo}/branches/{branch}/protection; classic protection without bypass makes every required setting binding even where a ruleset allows bypass.",
      );
    } catch (error) {
      if (!(error instanceof ProtectionFixError)) throw error;
      fix.push(`pullgate cannot apply the fix automatically: ${error.message}`);
    }
  }

  const missing: Missing[] = drift.map((d) => ({
    kind: "protection",
    setting: d.setting,
    expected: d.expected,
    actual: d.actual,
  }));
  const sources =
    effective.counted.length > 0 ? effective.counted.map(describeSource).join(", ") : "no protection at all";
  const notes = effective.notes.length > 0 ? ` Not counted: ${effective.notes.join("; ")}.` : "";
  const summary =
    drift.length === 0
      ? `Effective protection meets the policy (${sources}).${notes}`
      : `${drift.length} protection setting${drift.length === 1 ? "" : "s"} short of the policy (${sources}).${notes}`;

  const result: RuleResult = {
    id: RULE_ID,
    title: TITLE,
    // Audit and enforce judge alike: drift fails the rule until the protection is really there.
    status: drift.length === 0 ? "pass" : "fail",
    summary,
    satisfied,
    missing,
    fix,
  };
  return fixPayload ? { drift, result, fixPayload } : { drift, result };
}

/** An actor the policy accepts as a bypasser of pullgate-relevant settings. */
function isAcceptableBypass(actor: BypassActor, required: ProtectionPolicy, ctx: ProtectionContext): boolean {
  // With enforceAdmins, admins are never acceptable, whatever allowedBypass says.
  if (isAdminActor(actor)) return !required.enforceAdmins;
  return isAllowedBypass(actor, required.allowedBypass, ctx);
}

function buildRequirements(
  effective: EffectiveProtection,
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): Requirement[] {
  const reqs: Requirement[] = [];
  const bool = (
    id: Requirement["id"],
    label: string,
    setting: EffectiveProtection[
      | "pullRequest"
      | "codeOwnerReview"
      | "dismissStaleReviews"
      | "lastPushApproval"
      | "signedCommits"
      | "upToDate"
      | "forcePushesBlocked"
      | "deletionsBlocked"],
    expected: string,
    actual: string,
    fix: string,
  ): void => {
    reqs.push({ id, label, expected, guards: setting.sources, actual, fix });
  };

  if (required.requirePullRequest) {
    bool(
      "pull_request",
      "pull request",
      effective.pullRequest,
      "required",
      "not required",
      'Enable "Require a pull request before merging" (required_pull_request_reviews) in the branch protection rule, or a ruleset "Require a pull request before merging" rule.',
    );
  }
  if (required.requiredApprovals > 0) {
    const n = required.requiredApprovals;
    const have = effective.requiredApprovals;
    const from = have.sources.filter((s) => s.value === have.value).map((s) => s.source);
    reqs.push({
      id: "required_approvals",
      label: "required approvals",
      expected: `at least ${n}`,
      guards: have.sources.filter((s) => s.value >= n),
      actual: have.value === 0 ? "none required" : `${have.value} (${joinSources(from)})`,
      fix: `Set "Required number of approvals before merging" (required_approving_review_count) to at least ${n}.`,
    });
  }
  if (required.requireCodeOwnerReview) {
    bool(
      "code_owner_review",
      "code owner review",
      effective.codeOwnerReview,
      "required",
      "not required",
      'Enable "Require review from Code Owners" (require_code_owner_reviews; ruleset: require_code_owner_review).',
    );
  }
  if (required.dismissStaleReviews) {
    bool(
      "dismiss_stale_reviews",
      "stale review dismissal",
      effective.dismissStaleReviews,
      "on",
      "off",
      'Enable "Dismiss stale pull request approvals when new commits are pushed" (dismiss_stale_reviews; ruleset: dismiss_stale_reviews_on_push).',
    );
  }
  if (required.requireLastPushApproval) {
    bool(
      "last_push_approval",
      "last-push approval",
      effective.lastPushApproval,
      "required",
      "not required",
      'Enable "Require approval of the most recent reviewable push" (require_last_push_approval).',
    );
  }
  if (required.requireSignedCommits) {
    bool(
      "signed_commits",
      "signed commits",
      effective.signedCommits,
      "required",
      "not required",
      'Enable "Require signed commits" (required_signatures; ruleset rule required_signatures).',
    );
  }
  if (required.requirePullgateCheck) {
    reqs.push(pullgateCheckRequirement(effective, ctx));
  }
  if (required.requireUpToDate) {
    bool(
      "up_to_date",
      "up-to-date branches",
      effective.upToDate,
      "required",
      effective.statusChecks.value.length === 0 ? "not required (no required status check)" : "not required",
      'Enable "Require branches to be up to date before merging" (required_status_checks.strict; ruleset: strict_required_status_checks_policy).',
    );
  }
  if (!required.allowForcePushes) {
    bool(
      "force_pushes",
      "force pushes",
      effective.forcePushesBlocked,
      "blocked",
      "allowed",
      'Disable "Allow force pushes" (allow_force_pushes: false), or add a ruleset with "Block force pushes" (non_fast_forward).',
    );
  }
  if (!required.allowDeletions) {
    bool(
      "deletions",
      "branch deletion",
      effective.deletionsBlocked,
      "blocked",
      "allowed",
      'Disable "Allow deletions" (allow_deletions: false), or add a ruleset with "Restrict deletions" (deletion).',
    );
  }
  return reqs;
}

/**
 * pullgate's check must be required AND pinned to pullgate's app. A check required by name only
 * ("any source") is satisfied by any app or any user with write access posting a commit status
 * named "pullgate": the gate would be forgeable. One pinned requirement is enough, since every
 * required check must pass.
 */
function pullgateCheckRequirement(effective: EffectiveProtection, ctx: ProtectionContext): Requirement {
  const name = ctx.checkName;
  const guards = effective.statusChecks.sources.filter((s) =>
    s.value.some((c) => c.context === name && c.appId === ctx.appId),
  );
  const found: string[] = [];
  for (const s of effective.statusChecks.sources) {
    for (const c of s.value) {
      if (c.context !== name) continue;
      const pin = c.appId === null || c.appId === -1 ? "from any source" : `pinned to app ${c.appId}`;
      found.push(`required ${pin} (${describeSource(s.source)})`);
    }
  }
  return {
    id: "pullgate_check",
    label: `required check "${name}"`,
    expected: `required, pinned to app ${ctx.appSlug} (${ctx.appId})`,
    guards,
    actual: found.length > 0 ? found.join("; ") : "not required",
    fix: `Under "Require status checks to pass before merging", require "${name}" with its source set to the GitHub App "${ctx.appSlug}" (checks: [{context: "${name}", app_id: ${ctx.appId}}]; ruleset: integration_id ${ctx.appId}), not "any source".`,
  };
}

function escapeDrift(
  actor: BypassActor,
  settings: string[],
  sources: ProtectionSource[],
  required: ProtectionPolicy,
  ctx: ProtectionContext,
): Drift {
  const who = describeActor(actor, ctx);
  const actual = `${who} may bypass ${settings.join(", ")} (${joinSources(sources)})`;
  const where = sources.map((s) => removalPlace(actor, who, s)).join("; ");
  if (isAdminActor(actor)) {
    return {
      setting: "enforce_admins",
      expected: "administrators included",
      actual,
      fix: `${where}.`,
    };
  }
  const allowed = required.allowedBypass.length > 0 ? required.allowedBypass.join(", ") : "nobody";
  return {
    setting: "bypass",
    expected: `bypass only by ${allowed} (and ${ctx.appSlug})`,
    actual,
    fix: `${where}.`,
  };
}

function removalPlace(actor: BypassActor, who: string, source: ProtectionSource): string {
  if (source.kind === "classic") {
    if (actor.kind === "admins") {
      return 'Enable "Do not allow bypassing the above settings" (enforce_admins: true) in the classic branch protection rule';
    }
    return `Remove ${who} from "Allow specified actors to bypass required pull requests" (bypass_pull_request_allowances) in the classic branch protection rule`;
  }
  if (actor.kind === "unreadable") {
    return `Let pullgate read the bypass list of ${describeSource(source)} (repository or organization "Administration: read" permission) and keep it to allowed actors`;
  }
  return `Remove ${who} from the bypass list of ${describeSource(source)}`;
}

function joinSources(sources: ProtectionSource[]): string {
  const names: string[] = [];
  for (const s of sources) {
    const name = describeSource(s);
    if (!names.includes(name)) names.push(name);
  }
  return names.join(" and ");
}

function sameSource(a: ProtectionSource, b: ProtectionSource): boolean {
  if (a.kind === "classic" || b.kind === "classic") return a.kind === b.kind;
  return a.id === b.id;
}
