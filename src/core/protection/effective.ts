import type {
  ActorLists,
  BranchRule,
  BypassMode,
  ClassicProtection,
  PullRequestRuleParameters,
  RulesetBypassActor,
  RulesetDetail,
  RulesetStatusCheck,
  StatusChecksRuleParameters,
} from "./github-types.js";
import type {
  BypassActor,
  EffectiveProtection,
  EffectiveSetting,
  ProtectionSource,
  RequiredCheck,
  SourceSetting,
} from "./types.js";

/**
 * Combines classic branch protection and the active rulesets that apply to a branch into the
 * protection GitHub actually enforces. GitHub layers them: every source applies, so the most
 * restrictive value wins and an actor escapes a setting only by bypassing every source enforcing it.
 *
 * Only rules whose ruleset is known (details fetched) and `active` are credited: an `evaluate`
 * ruleset only reports, and a rule whose ruleset we cannot see might have any bypass list.
 */
export function effectiveProtection(
  classic: ClassicProtection | null,
  rules: readonly BranchRule[],
  rulesets: readonly RulesetDetail[],
): EffectiveProtection {
  const acc = new Accumulator();
  const notes: string[] = [];
  const counted: ProtectionSource[] = [];

  if (classic) {
    counted.push({ kind: "classic" });
    addClassic(acc, classic);
  }

  const details = new Map<number, RulesetDetail>();
  for (const ruleset of rulesets) details.set(ruleset.id, ruleset);

  const countedRulesets = new Set<number>();
  const unreadableNoted = new Set<number>();
  for (const rule of rules) {
    if (typeof rule.ruleset_id !== "number") {
      notes.push(`ignored a "${rule.type}" rule with no ruleset id: its bypass list cannot be known`);
      continue;
    }
    const detail = details.get(rule.ruleset_id);
    if (!detail) {
      notes.push(
        `ignored a "${rule.type}" rule of ruleset ${rule.ruleset_id}: ruleset details missing, bypass list unknown`,
      );
      continue;
    }
    const source: ProtectionSource = {
      kind: "ruleset",
      id: detail.id,
      name: detail.name,
      sourceType: detail.source_type ?? rule.ruleset_source_type ?? "Repository",
      source: detail.source ?? rule.ruleset_source ?? "",
    };
    if (detail.enforcement !== "active") {
      notes.push(
        `ignored a "${rule.type}" rule of ${describeSource(source)}: enforcement is "${detail.enforcement}", not "active"`,
      );
      continue;
    }
    if (!countedRulesets.has(detail.id)) {
      countedRulesets.add(detail.id);
      counted.push(source);
    }
    // GitHub omits bypass_actors from callers not allowed to see them: unknown is not "nobody".
    const readable = Array.isArray(detail.bypass_actors);
    if (!readable && !unreadableNoted.has(detail.id)) {
      unreadableNoted.add(detail.id);
      notes.push(`${describeSource(source)}: bypass list not readable, counted as bypassable by anyone`);
    }
    const bypass: BypassActor[] = readable
      ? rulesetBypass(detail.bypass_actors ?? [])
      : [{ kind: "unreadable", mode: "always" }];
    addRule(acc, rule, source, bypass);
  }

  return { ...acc.build(), classic, counted, notes };
}

/** "classic branch protection", "ruleset 'prod' (org)", for reports. */
export function describeSource(source: ProtectionSource): string {
  if (source.kind === "classic") return "classic branch protection";
  const level =
    source.sourceType === "Organization" ? "org" : source.sourceType === "Enterprise" ? "enterprise" : "repo";
  return `ruleset '${source.name}' (${level})`;
}

/** Bypass modes that allow pushing directly (force push, delete, update, create), not only merging a PR. */
export function allowsDirectPush(mode: BypassMode): boolean {
  return mode !== "pull_request";
}

type BoolKey =
  | "pullRequest"
  | "codeOwnerReview"
  | "dismissStaleReviews"
  | "lastPushApproval"
  | "reviewThreadResolution"
  | "signedCommits"
  | "linearHistory"
  | "upToDate"
  | "forcePushesBlocked"
  | "deletionsBlocked"
  | "updateRestricted"
  | "creationRestricted";

const BOOL_KEYS: readonly BoolKey[] = [
  "pullRequest",
  "codeOwnerReview",
  "dismissStaleReviews",
  "lastPushApproval",
  "reviewThreadResolution",
  "signedCommits",
  "linearHistory",
  "upToDate",
  "forcePushesBlocked",
  "deletionsBlocked",
  "updateRestricted",
  "creationRestricted",
];

/** Collects each source's contributions, then folds them most-restrictive-wins. */
class Accumulator {
  private readonly bools = new Map<BoolKey, SourceSetting<boolean>[]>();
  private readonly approvals: SourceSetting<number>[] = [];
  private readonly checks: SourceSetting<RequiredCheck[]>[] = [];

  flag(key: BoolKey, source: ProtectionSource, bypass: BypassActor[]): void {
    const list = this.bools.get(key) ?? [];
    list.push({ source, value: true, bypass });
    this.bools.set(key, list);
  }

  count(source: ProtectionSource, value: unknown, bypass: BypassActor[]): void {
    // A count GitHub did not send, or sent as garbage, is not credited (fail closed).
    if (typeof value === "number" && Number.isInteger(value) && value > 0) {
      this.approvals.push({ source, value, bypass });
    }
  }

  requireChecks(source: ProtectionSource, checks: RequiredCheck[], bypass: BypassActor[]): void {
    if (checks.length > 0) this.checks.push({ source, value: checks, bypass });
  }

  build(): Omit<EffectiveProtection, "classic" | "counted" | "notes"> {
    const bool = (key: BoolKey): EffectiveSetting<boolean> => {
      const sources = this.bools.get(key) ?? [];
      return { value: sources.length > 0, sources };
    };
    const union: RequiredCheck[] = [];
    for (const s of this.checks) {
      for (const check of s.value) {
        if (!union.some((c) => c.context === check.context && c.appId === check.appId)) union.push(check);
      }
    }
    const result = {
      requiredApprovals: {
        value: this.approvals.reduce((max, s) => Math.max(max, s.value), 0),
        sources: this.approvals,
      },
      statusChecks: { value: union, sources: this.checks },
    } as Omit<EffectiveProtection, "classic" | "counted" | "notes">;
    for (const key of BOOL_KEYS) result[key] = bool(key);
    return result;
  }
}

function addClassic(acc: Accumulator, classic: ClassicProtection): void {
  const source: ProtectionSource = { kind: "classic" };
  // With enforce_admins off, repository admins and organization owners may bypass every classic
  // setting. Counting them for force pushes and deletions too over-reports at worst.
  const admins: BypassActor[] =
    classic.enforce_admins?.enabled === true ? [] : [{ kind: "admins", mode: "always" }];

  const reviews = classic.required_pull_request_reviews;
  if (reviews) {
    const prBypass = [...admins, ...listedActors(reviews.bypass_pull_request_allowances)];
    acc.flag("pullRequest", source, prBypass);
    acc.count(source, reviews.required_approving_review_count, prBypass);
    if (reviews.dismiss_stale_reviews === true) acc.flag("dismissStaleReviews", source, prBypass);
    if (reviews.require_code_owner_reviews === true) acc.flag("codeOwnerReview", source, prBypass);
    if (reviews.require_last_push_approval === true) acc.flag("lastPushApproval", source, prBypass);
  }

  const status = classic.required_status_checks;
  if (status) {
    const checks: RequiredCheck[] = [];
    for (const check of status.checks ?? []) {
      if (typeof check?.context !== "string") continue;
      checks.push({ context: check.context, appId: typeof check.app_id === "number" ? check.app_id : null });
    }
    // Contexts listed without a `checks` entry carry no source: any app or user may satisfy them.
    for (const context of status.contexts ?? []) {
      if (typeof context === "string" && !checks.some((c) => c.context === context)) {
        checks.push({ context, appId: null });
      }
    }
    acc.requireChecks(source, checks, admins);
    // GitHub ignores strictness when no check is required.
    if (status.strict === true && checks.length > 0) acc.flag("upToDate", source, admins);
  }

  if (classic.required_signatures?.enabled === true) acc.flag("signedCommits", source, admins);
  if (classic.required_linear_history?.enabled === true) acc.flag("linearHistory", source, admins);
  if (classic.required_conversation_resolution?.enabled === true) {
    acc.flag("reviewThreadResolution", source, admins);
  }
  // Only an explicit `enabled: false` is credited: a response without the field proves nothing.
  if (classic.allow_force_pushes?.enabled === false) acc.flag("forcePushesBlocked", source, admins);
  if (classic.allow_deletions?.enabled === false) acc.flag("deletionsBlocked", source, admins);

  if (classic.lock_branch?.enabled === true) {
    acc.flag("updateRestricted", source, admins);
  } else if (classic.restrictions) {
    acc.flag("updateRestricted", source, [...admins, ...listedActors(classic.restrictions)]);
  }
}

function addRule(acc: Accumulator, rule: BranchRule, source: ProtectionSource, bypass: BypassActor[]): void {
  // Bypassing "on pull requests only" lets an actor merge a PR past the rules, never push directly.
  const pushBypass = bypass.filter((a) => allowsDirectPush(a.mode));
  switch (rule.type) {
    case "pull_request": {
      const p = asRecord(rule.parameters) as PullRequestRuleParameters;
      acc.flag("pullRequest", source, bypass);
      acc.count(source, p.required_approving_review_count, bypass);
      if (p.dismiss_stale_reviews_on_push === true) acc.flag("dismissStaleReviews", source, bypass);
      if (p.require_code_owner_review === true) acc.flag("codeOwnerReview", source, bypass);
      if (p.require_last_push_approval === true) acc.flag("lastPushApproval", source, bypass);
      if (p.required_review_thread_resolution === true) acc.flag("reviewThreadResolution", source, bypass);
      return;
    }
    case "required_status_checks": {
      const p = asRecord(rule.parameters) as StatusChecksRuleParameters;
      const list: unknown = p.required_status_checks;
      const checks: RequiredCheck[] = [];
      if (Array.isArray(list)) {
        for (const item of list as unknown[]) {
          const c = asRecord(item) as Partial<RulesetStatusCheck>;
          if (typeof c.context !== "string") continue;
          checks.push({
            context: c.context,
            appId: typeof c.integration_id === "number" ? c.integration_id : null,
          });
        }
      }
      acc.requireChecks(source, checks, bypass);
      if (p.strict_required_status_checks_policy === true && checks.length > 0) {
        acc.flag("upToDate", source, bypass);
      }
      return;
    }
    case "required_signatures":
      acc.flag("signedCommits", source, bypass);
      return;
    case "required_linear_history":
      acc.flag("linearHistory", source, bypass);
      return;
    case "non_fast_forward":
      acc.flag("forcePushesBlocked", source, pushBypass);
      return;
    case "deletion":
      acc.flag("deletionsBlocked", source, pushBypass);
      return;
    case "update":
      acc.flag("updateRestricted", source, pushBypass);
      return;
    case "creation":
      acc.flag("creationRestricted", source, pushBypass);
      return;
    default:
      // Other rule types (merge_queue, commit_message_pattern, ...) do not bear on the policy.
      return;
  }
}

function listedActors(lists: ActorLists | null | undefined): BypassActor[] {
  if (!lists) return [];
  const actors: BypassActor[] = [];
  for (const u of lists.users ?? [])
    actors.push({ kind: "user", id: u.id ?? null, login: u.login ?? null, mode: "always" });
  for (const t of lists.teams ?? [])
    actors.push({ kind: "team", id: t.id ?? null, slug: t.slug ?? null, mode: "always" });
  for (const a of lists.apps ?? [])
    actors.push({ kind: "app", id: a.id ?? null, slug: a.slug ?? null, mode: "always" });
  return actors;
}

function rulesetBypass(actors: readonly RulesetBypassActor[]): BypassActor[] {
  return actors.map((actor) => {
    // An unknown mode is treated as the strongest bypass: never under-report who can escape.
    const mode: BypassMode =
      actor.bypass_mode === "pull_request"
        ? "pull_request"
        : actor.bypass_mode === "exempt"
          ? "exempt"
          : "always";
    const id = typeof actor.actor_id === "number" ? actor.actor_id : null;
    switch (actor.actor_type) {
      case "Integration":
        return { kind: "app", id, slug: null, mode };
      case "OrganizationAdmin":
        return { kind: "organization-admin", mode };
      case "EnterpriseOwner":
        return { kind: "enterprise-owner", mode };
      case "RepositoryRole":
        return { kind: "repository-role", roleId: id, mode };
      case "Team":
        return { kind: "team", id, slug: null, mode };
      case "User":
        return { kind: "user", id, login: null, mode };
      case "DeployKey":
        // Deploy keys cannot open pull requests: whatever the mode says, they push directly.
        return { kind: "deploy-key", mode: "always" };
      default:
        return { kind: "unknown", actorType: String(actor.actor_type), id, mode };
    }
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
