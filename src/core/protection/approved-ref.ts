import type { Missing, RuleResult } from "../verdict/types.js";
import { allowsDirectPush, describeSource } from "./effective.js";
import type { RulesetBypassActor, RulesetDetail } from "./github-types.js";
import { describeActor, isOwnApp, type ProtectionContext } from "./principals.js";
import type { EffectiveProtection, EffectiveSetting, ProtectionSource } from "./types.js";

/**
 * Records live on `approved/<env>` branches that deploy agents trust. Only pullgate's app may
 * create, move or delete them: anyone else who can push there can hand an agent a revision nobody
 * approved (the agent still checks the record signature, but the ref is the first line of defence
 * and the app must also be able to publish through whatever rules apply there).
 */
export interface ApprovedRefContext extends ProtectionContext {
  /** Default "approved/". */
  recordRefPrefix?: string;
}

/** The body of `POST /repos/{owner}/{repo}/rulesets` that protects the record refs. */
export interface RulesetCreateBody {
  name: string;
  target: "branch";
  enforcement: "active";
  bypass_actors: RulesetBypassActor[];
  conditions: { ref_name: { include: string[]; exclude: string[] } };
  rules: { type: string; parameters?: Record<string, unknown> }[];
}

export type ApprovedRefSettingId =
  "ref_update" | "ref_creation" | "ref_deletion" | "app_can_publish" | "ref_bypass";

export interface ApprovedRefDrift {
  setting: ApprovedRefSettingId;
  expected: string;
  actual: string;
  fix: string;
}

export interface ApprovedRefCheck {
  drift: ApprovedRefDrift[];
  result: RuleResult;
  /** With drift: the ruleset that fixes it. */
  fixPayload?: RulesetCreateBody;
}

const DEFAULT_PREFIX = "approved/";

/** The ruleset that leaves record refs to pullgate's app alone. */
export function approvedRefProtection(ctx: ApprovedRefContext): RulesetCreateBody {
  const prefix = ctx.recordRefPrefix ?? DEFAULT_PREFIX;
  return {
    name: `pullgate records (${prefix}*)`,
    target: "branch",
    enforcement: "active",
    bypass_actors: [{ actor_id: ctx.appId, actor_type: "Integration", bypass_mode: "always" }],
    conditions: {
      // `*` stops at "/", `**` crosses it: cover environments with and without slashes.
      ref_name: { include: [`refs/heads/${prefix}*`, `refs/heads/${prefix}**/*`], exclude: [] },
    },
    rules: [
      { type: "creation" },
      { type: "update", parameters: { update_allows_fetch_and_merge: false } },
      { type: "deletion" },
      { type: "non_fast_forward" },
    ],
  };
}

/**
 * The body that brings pullgate's own record-ref ruleset (found by name) back to the required shape
 * without weakening anything someone added to it (docs/protection.md, "Record refs"): the required
 * rules, enforcement and bypass list are imposed (the app alone may bypass: dropping other bypass
 * actors is the fix), every ref pattern it already included is kept next to the required ones, and
 * every extra rule it carries is kept as it is. Exclusions are dropped, since they can only take
 * refs out of the protection. The result covers at least what the ruleset covered before, with at
 * least its rules, and at least what `required` asks.
 */
export function mergeRecordRuleset(existing: RulesetDetail, required: RulesetCreateBody): RulesetCreateBody {
  const include = [...required.conditions.ref_name.include];
  for (const pattern of existing.conditions?.ref_name?.include ?? []) {
    if (typeof pattern === "string" && !include.includes(pattern)) include.push(pattern);
  }
  const requiredTypes = new Set(required.rules.map((r) => r.type));
  const extra = (existing.rules ?? [])
    .filter((r) => typeof r.type === "string" && !requiredTypes.has(r.type))
    .map((r) =>
      r.parameters !== undefined && r.parameters !== null && typeof r.parameters === "object"
        ? { type: r.type, parameters: r.parameters as Record<string, unknown> }
        : { type: r.type },
    );
  return {
    ...required,
    conditions: { ref_name: { include, exclude: [] } },
    rules: [...required.rules, ...extra],
  };
}

/**
 * Checks the effective protection of one record ref (`approved/<env>`): creation, update and
 * deletion restricted so that nobody but the app escapes, and no rule there that stops the app
 * itself from publishing (a pull request, status check, signature or linear-history requirement
 * the app does not bypass would block every record: records are two-parent commits pushed directly).
 */
export function checkApprovedRefProtection(
  effective: EffectiveProtection,
  ctx: ApprovedRefContext,
): ApprovedRefCheck {
  const drift: ApprovedRefDrift[] = [];
  const satisfied: string[] = [];
  const restrictions: [ApprovedRefSettingId, string, EffectiveSetting<boolean>][] = [
    ["ref_creation", "creation", effective.creationRestricted],
    ["ref_update", "updates", effective.updateRestricted],
    ["ref_deletion", "deletion", effective.deletionsBlocked],
  ];
  const ruleName: Record<string, string> = {
    ref_creation: '"Restrict creations" (creation)',
    ref_update: '"Restrict updates" (update)',
    ref_deletion: '"Restrict deletions" (deletion)',
  };

  for (const [id, label, setting] of restrictions) {
    if (setting.sources.length === 0) {
      drift.push({
        setting: id,
        expected: `${label} restricted to ${ctx.appSlug}`,
        actual: "not restricted",
        fix: `Add an active ruleset on refs/heads/${ctx.recordRefPrefix ?? DEFAULT_PREFIX}* with ${ruleName[id]} and only the GitHub App "${ctx.appSlug}" (${ctx.appId}) as bypass actor.`,
      });
      continue;
    }
    if (setting.sources.some((s) => s.bypass.every((a) => isOwnApp(a, ctx)))) {
      satisfied.push(
        `${label} restricted to ${ctx.appSlug} by ${setting.sources.map((s) => describeSource(s.source)).join(" and ")}`,
      );
      continue;
    }
    for (const s of setting.sources) {
      for (const actor of s.bypass) {
        if (isOwnApp(actor, ctx)) continue;
        const who = describeActor(actor, ctx);
        drift.push({
          setting: "ref_bypass",
          expected: `only ${ctx.appSlug} may bypass ${label}`,
          actual: `${who} may bypass ${label} (${describeSource(s.source)})`,
          fix: `Remove ${who} from the bypass list of ${describeSource(s.source)}${s.source.kind === "classic" ? " (enforce_admins / push restrictions)" : ""}.`,
        });
      }
    }
  }

  // Everything that stops a direct push must let the app through, or no record can be published.
  const blockers: [string, EffectiveSetting<unknown>][] = [
    ["creation restriction", effective.creationRestricted],
    ["update restriction", effective.updateRestricted],
    ["required pull request", effective.pullRequest],
    ["required status checks", effective.statusChecks],
    ["required signatures", effective.signedCommits],
    ["required linear history", effective.linearHistory],
  ];
  for (const [label, setting] of blockers) {
    for (const s of setting.sources) {
      if (s.bypass.some((a) => isOwnApp(a, ctx) && allowsDirectPush(a.mode))) continue;
      drift.push({
        setting: "app_can_publish",
        expected: `${ctx.appSlug} can publish records`,
        actual: `${describeSource(s.source)} blocks ${ctx.appSlug}: ${label}`,
        fix: appUnblockFix(s.source, ctx),
      });
    }
  }

  const missing: Missing[] = drift.map((d) => ({
    kind: "protection",
    setting: d.setting,
    expected: d.expected,
    actual: d.actual,
  }));
  const result: RuleResult = {
    id: "approved-ref-protection",
    title: "Record ref protection",
    status: drift.length === 0 ? "pass" : "fail",
    summary:
      drift.length === 0
        ? `Only ${ctx.appSlug} can create, move or delete the record ref.`
        : `${drift.length} problem${drift.length === 1 ? "" : "s"} with the record ref's protection.`,
    satisfied,
    missing,
    fix: drift.map((d) => d.fix),
  };
  return drift.length === 0 ? { drift, result } : { drift, result, fixPayload: approvedRefProtection(ctx) };
}

function appUnblockFix(source: ProtectionSource, ctx: ApprovedRefContext): string {
  if (source.kind === "classic") {
    return `Remove the classic branch protection from the record ref (pullgate pushes records directly); protect it with the ruleset pullgate proposes instead.`;
  }
  return `Add the GitHub App "${ctx.appSlug}" (Integration ${ctx.appId}, bypass mode "always") to the bypass list of ${describeSource(source)}, or exclude refs/heads/${ctx.recordRefPrefix ?? DEFAULT_PREFIX}* from it.`;
}
