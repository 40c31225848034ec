import { canonicalJson } from "./digest.js";
import type { BranchDoc } from "./document.js";
import { isGlob, matchesBranch } from "./glob.js";
import { breakGlassOf, fileLayers, pathRulesOf, promotionOf, type ParsedPolicy } from "./parse.js";
import { DEFAULT_REFRESH_INTERVAL, refreshLooserThan } from "./refresh-interval.js";
import { sensitivePathsFor } from "./sensitive.js";
import {
  normalizePrincipals,
  normalizeScopes,
  resolveSettings,
  type Layer,
  type Origin,
  type Origins,
  type ResolvedSettings,
} from "./settings.js";
import {
  SIGNER_IDENTITY_RANK,
  type BranchPolicy,
  type BreakGlassPolicy,
  type KeyScope,
  type PathRule,
  type Policy,
  type PolicyError,
  type ProtectionMode,
  type PromotionPolicy,
  type SignerIdentity,
} from "./types.js";
import { sortErrors } from "./validate.js";
import { joinPointer, type Position } from "./yaml-positions.js";

/**
 * The org -> repo merge. The org policy (from the org's `.github` repository) is the floor; a
 * repository's own `.github/pullgate.yml` may only tighten it. See docs/policy.md, "Org and
 * repository policies", for the rule of every field.
 *
 * Resolution: for an org-governed branch each setting is taken from the first layer that writes
 * it among [repo branch entry (same `branch` pattern), repo defaults, org branch entry, org
 * defaults], else the built-in default. For a branch only the repo governs: [repo branch entry,
 * repo defaults, org defaults]. The result is compared field by field with what the org alone
 * says for that branch; every looser value is an error naming both places.
 */

export interface MergeResult {
  /** The merged effective policy, or null if the repository loosens anything (fail closed). */
  policy: Policy | null;
  errors: PolicyError[];
}

type Looser = (merged: unknown, baseline: unknown) => boolean;

const turnsOff: Looser = (merged, baseline) => baseline === true && merged === false;
const turnsOn: Looser = (merged, baseline) => baseline === false && merged === true;
const lower: Looser = (merged, baseline) => Number(merged) < Number(baseline);
const addsItems: Looser = (merged, baseline) => {
  const allowed = new Set(baseline as string[]);
  return (merged as string[]).some((item) => !allowed.has(item));
};
const MODE_RANK: Record<ProtectionMode, number> = { off: 0, audit: 1, enforce: 2 };
const weakerMode: Looser = (merged, baseline) =>
  MODE_RANK[merged as ProtectionMode] < MODE_RANK[baseline as ProtectionMode];
const otherSignersFile: Looser = (merged, baseline) => merged !== null && merged !== baseline;
const weakerIdentity: Looser = (merged, baseline) =>
  SIGNER_IDENTITY_RANK.indexOf(merged as SignerIdentity) <
  SIGNER_IDENTITY_RANK.indexOf(baseline as SignerIdentity);

interface FieldRule {
  /** "section.yaml_key" as in Origins. */
  field: string;
  looser: Looser;
  /** Why a looser value is refused, in a few words. */
  why: string;
  /** Other "section.yaml_key" fields that feed this one's value: a file writing them is checked too. */
  alsoFrom?: readonly string[];
}

/** Every setting of a branch and what "looser" means for it. `scopes` is unioned (see below). */
export const FIELD_RULES: readonly FieldRule[] = [
  { field: "signatures.required", looser: turnsOff, why: "unsigned commits would pass" },
  { field: "signatures.openpgp_keyrings", looser: addsItems, why: "more keys would be trusted" },
  {
    field: "signatures.ssh_allowed_signers",
    looser: otherSignersFile,
    why: "other SSH keys would be trusted",
  },
  { field: "signatures.trust_web_flow", looser: turnsOn, why: "GitHub's web-flow key would be trusted" },
  {
    field: "signatures.signer_identity",
    looser: weakerIdentity,
    why: "someone else's key could sign for an author",
    // The legacy key is folded into signer_identity (settings.ts): writing it false in a
    // repository can loosen an org's `true`, so its place is checked too.
    alsoFrom: ["signatures.require_signer_matches_author"],
  },
  {
    field: "signatures.signer_logins",
    looser: otherSignersFile,
    why: "keys could be linked to other people",
  },
  { field: "reviews.required_approvals", looser: lower, why: "fewer approvals would be required" },
  {
    field: "reviews.require_code_owner_review",
    looser: turnsOff,
    why: "code owners would not need to approve",
  },
  {
    field: "reviews.dismiss_stale_approvals",
    looser: turnsOff,
    why: "approvals of older commits would count",
  },
  {
    field: "reviews.require_last_push_approval",
    looser: turnsOff,
    why: "the last pusher could approve their own push",
  },
  { field: "protection.mode", looser: weakerMode, why: "branch protection would be checked less" },
  { field: "protection.require_pull_request", looser: turnsOff, why: "direct pushes would be allowed" },
  { field: "protection.required_approvals", looser: lower, why: "GitHub would require fewer approvals" },
  {
    field: "protection.require_code_owner_review",
    looser: turnsOff,
    why: "GitHub would not require code owners",
  },
  { field: "protection.dismiss_stale_reviews", looser: turnsOff, why: "GitHub would keep stale reviews" },
  {
    field: "protection.require_last_push_approval",
    looser: turnsOff,
    why: "GitHub would not require last-push approval",
  },
  {
    field: "protection.require_signed_commits",
    looser: turnsOff,
    why: "GitHub would accept unsigned commits",
  },
  {
    field: "protection.require_pullgate_check",
    looser: turnsOff,
    why: "merging would not wait for pullgate",
  },
  {
    field: "protection.require_up_to_date",
    looser: turnsOff,
    why: "a merge could land a tree nobody approved",
  },
  { field: "protection.allow_force_pushes", looser: turnsOn, why: "history could be rewritten" },
  { field: "protection.allow_deletions", looser: turnsOn, why: "the branch could be deleted" },
  { field: "protection.enforce_admins", looser: turnsOff, why: "administrators could skip the rules" },
  { field: "protection.allowed_bypass", looser: addsItems, why: "more principals could bypass protection" },
  { field: "secrets.enabled", looser: turnsOff, why: "plaintext credentials would pass" },
  { field: "secrets.allow", looser: addsItems, why: "more files would go unscanned for credentials" },
];

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The value of a FIELD_RULES field ("section.yaml_key") in resolved settings or a branch policy. */
export function valueOf(
  settings: Pick<ResolvedSettings, "signatures" | "reviews" | "protection" | "secrets">,
  field: string,
): unknown {
  const [section, key] = field.split(".") as ["signatures" | "reviews" | "protection" | "secrets", string];
  return (settings[section] as unknown as Record<string, unknown>)[camel(key)];
}

function describeOrigin(origin: Origin | undefined): string {
  if (origin === undefined || origin.kind === "builtin") return "built-in default";
  if (origin.kind === "derived") return `defaults to ${origin.field}, ${describeOrigin(origin.from)}`;
  return `${origin.file}:${origin.line}:${origin.column}`;
}

/** A setting's value as error messages show it. */
export function show(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(", ")}]` : JSON.stringify(value);
}

export function mergePolicies(org: ParsedPolicy, repo: ParsedPolicy): MergeResult {
  const errors: PolicyError[] = [];
  const repoError = (at: Position, message: string) => errors.push({ file: repo.file, ...at, message });
  const orgBranches = org.document.branches ?? [];
  const repoBranches = repo.document.branches ?? [];
  const repoDefaults = fileLayers(repo.document, repo.file, repo.positions, null);
  const orgDefaults = fileLayers(org.document, org.file, org.positions, null);

  const branches: BranchPolicy[] = [];

  // Org-governed branches, in the org's order (first match wins, and the org's order is kept).
  orgBranches.forEach((orgEntry, orgIndex) => {
    const baselinePolicy = org.policy.branches[orgIndex];
    const baselineOrigins = org.origins[orgIndex];
    if (baselinePolicy === undefined || baselineOrigins === undefined) return;
    const repoIndex = repoBranches.findIndex((entry) => entry.branch === orgEntry.branch);
    const repoEntry = repoBranches[repoIndex];
    const repoLayers: Layer[] =
      repoEntry === undefined
        ? repoDefaults
        : fileLayers(repo.document, repo.file, repo.positions, repoIndex);
    const layers = [...repoLayers, ...fileLayers(org.document, org.file, org.positions, orgIndex)];
    const merged = resolveSettings(layers);
    const label = `branch \`${orgEntry.branch}\``;
    compareSettings(merged, { ...baselinePolicy, origins: baselineOrigins }, label, repoError);

    let environment = baselinePolicy.environment;
    if (repoEntry?.environment !== undefined && repoEntry.environment !== baselinePolicy.environment) {
      const at = repo.positions.valueAt(joinPointer("", "branches", repoIndex, "environment"));
      const orgAt = org.positions.valueAt(joinPointer("", "branches", orgIndex, "branch"));
      repoError(
        at,
        `${label}: environment \`${repoEntry.environment}\` differs from the org's \`${baselinePolicy.environment}\` (${org.file}:${orgAt.line}:${orgAt.column}); a repository cannot redirect records`,
      );
      environment = baselinePolicy.environment;
    }
    const scopes = mergeScopes(
      baselinePolicy.signatures.scopes,
      merged,
      repoEntry,
      repoIndex,
      label,
      repo,
      repoError,
    );
    const marks = mergeMarks(baselinePolicy, repoEntry, repoIndex, label, org, repo, repoError);
    branches.push({
      branch: orgEntry.branch,
      environment,
      signatures: { ...merged.signatures, scopes },
      reviews: merged.reviews,
      pathRules: mergePathRules(baselinePolicy.pathRules, repoEntry, repoIndex, label, repo, repoError),
      protection: merged.protection,
      ...marks,
      secrets: merged.secrets,
    });
  });

  // Branches only the repository governs: added after the org's, under the org's defaults.
  repoBranches.forEach((repoEntry, repoIndex) => {
    if (orgBranches.some((entry) => entry.branch === repoEntry.branch)) return;
    const label = `branch \`${repoEntry.branch}\``;
    const repoPolicy = repo.policy.branches[repoIndex];
    if (repoPolicy === undefined) return;
    if (!isGlob(repoEntry.branch)) {
      const shadowIndex = orgBranches.findIndex((entry) => matchesBranch(entry.branch, repoEntry.branch));
      const shadow = orgBranches[shadowIndex];
      if (shadow !== undefined) {
        const orgAt = org.positions.valueAt(joinPointer("", "branches", shadowIndex, "branch"));
        repoError(
          repo.positions.valueAt(joinPointer("", "branches", repoIndex, "branch")),
          `${label} is already governed by the org's \`${shadow.branch}\` (${org.file}:${orgAt.line}:${orgAt.column}), which matches first; to tighten it, use the same pattern \`${shadow.branch}\``,
        );
        return;
      }
    }
    // An environment the org feeds from its own branches is the org's: a repository branch
    // publishing records there under the org's mere defaults would bypass that branch's rules.
    const feederIndex = org.policy.branches.findIndex(
      (entry) => entry.environment === repoPolicy.environment,
    );
    const feeder = org.policy.branches[feederIndex];
    if (feeder !== undefined) {
      const orgAt = org.positions.valueAt(joinPointer("", "branches", feederIndex, "branch"));
      const pointer = joinPointer(
        "",
        "branches",
        repoIndex,
        repoEntry.environment === undefined ? "branch" : "environment",
      );
      repoError(
        repo.positions.valueAt(pointer),
        `${label}: environment \`${repoPolicy.environment}\` is fed by the org's branch \`${feeder.branch}\` (${org.file}:${orgAt.line}:${orgAt.column}); a repository cannot add another branch that publishes records to it`,
      );
      return;
    }
    const merged = resolveSettings([
      ...fileLayers(repo.document, repo.file, repo.positions, repoIndex),
      ...orgDefaults,
    ]);
    const baseline = resolveSettings(orgDefaults);
    compareSettings(merged, baseline, label, repoError);
    branches.push({
      branch: repoEntry.branch,
      environment: repoPolicy.environment,
      signatures: {
        ...merged.signatures,
        scopes: mergeScopes(baseline.signatures.scopes, merged, repoEntry, repoIndex, label, repo, repoError),
      },
      reviews: merged.reviews,
      pathRules: pathRulesOf(repoEntry),
      protection: merged.protection,
      // The org's defaults carry no break-glass: this branch may only have it off.
      ...mergeMarks({}, repoEntry, repoIndex, label, org, repo, repoError),
      secrets: merged.secrets,
    });
  });

  // Admins: a repository may name a subset of the org's admins, never someone else.
  let admins = org.policy.admins;
  if (repo.document.admins !== undefined) {
    const orgAdmins = new Set(org.policy.admins);
    repo.policy.admins.forEach((admin, index) => {
      if (orgAdmins.has(admin)) return;
      repoError(
        repo.positions.valueAt(joinPointer("", "admins", index)),
        `admins: \`${admin}\` is not an org admin (${org.file}: ${show(org.policy.admins)}); a repository may only narrow the admins, since admins approve changes to the gate itself`,
      );
    });
    admins = repo.policy.admins;
  }

  // Record refs: agents are configured with the org's prefix; a repository cannot move them.
  if (
    repo.document.records?.ref_prefix !== undefined &&
    repo.policy.recordRefPrefix !== org.policy.recordRefPrefix
  ) {
    const orgAt = org.positions.valueAt("/records/ref_prefix");
    repoError(
      repo.positions.valueAt("/records/ref_prefix"),
      `records.ref_prefix: \`${repo.policy.recordRefPrefix}\` differs from the org's \`${org.policy.recordRefPrefix}\` (${org.document.records?.ref_prefix === undefined ? "built-in default" : `${org.file}:${orgAt.line}:${orgAt.column}`}); a repository cannot move records`,
    );
  }

  // Refresh interval: agents derive their --max-age from the org's; a repository may only shorten it
  // (refresh more often), never lengthen it or turn refreshing off.
  let recordRefreshIntervalMs = org.policy.recordRefreshIntervalMs;
  if (repo.document.records?.refresh_interval !== undefined) {
    if (refreshLooserThan(repo.policy.recordRefreshIntervalMs, org.policy.recordRefreshIntervalMs)) {
      const orgAt = org.positions.valueAt("/records/refresh_interval");
      repoError(
        repo.positions.valueAt("/records/refresh_interval"),
        `records.refresh_interval: \`${repo.document.records.refresh_interval}\` is looser than the org's \`${org.document.records?.refresh_interval ?? DEFAULT_REFRESH_INTERVAL}\` (${org.document.records?.refresh_interval === undefined ? "built-in default" : `${org.file}:${orgAt.line}:${orgAt.column}`}); a repository may only shorten the refresh interval`,
      );
    }
    recordRefreshIntervalMs = repo.policy.recordRefreshIntervalMs;
  }

  if (errors.length > 0) return { policy: null, errors: sortErrors(errors) };

  const extraSensitive = [...(org.document.sensitive_paths ?? []), ...(repo.document.sensitive_paths ?? [])];
  const policy: Policy = {
    version: 1,
    admins,
    sensitivePaths: [
      ...new Set([
        ...org.policy.sensitivePaths,
        ...sensitivePathsFor(
          branches.map((b) => b.signatures),
          extraSensitive,
        ),
      ]),
    ],
    recordRefPrefix: org.policy.recordRefPrefix,
    recordRefreshIntervalMs,
    branches,
  };
  return { policy, errors: [] };
}

function compareSettings(
  merged: ResolvedSettings,
  baseline: {
    signatures: unknown;
    reviews: unknown;
    protection: unknown;
    secrets: unknown;
    origins: Origins;
  },
  label: string,
  report: (at: Position, message: string) => void,
): void {
  for (const rule of FIELD_RULES) {
    const fields = [rule.field, ...(rule.alsoFrom ?? [])];
    const written = fields.find((field) => merged.origins.get(field)?.kind === "file");
    const origin = written === undefined ? undefined : merged.origins.get(written);
    // A derived value loosens only if the field it derives from does, which is reported there.
    if (written === undefined || origin === undefined || origin.kind !== "file") continue;
    const mergedValue = valueOf(merged, rule.field);
    const baselineValue = valueOf(baseline as ResolvedSettings, rule.field);
    if (!rule.looser(mergedValue, baselineValue)) continue;
    const baselineOrigin =
      fields.map((field) => baseline.origins.get(field)).find((o) => o?.kind === "file") ??
      baseline.origins.get(rule.field);
    const what = written === rule.field ? rule.field : `${written} (as ${rule.field})`;
    report(
      { line: origin.line, column: origin.column },
      `${label}: ${what} ${show(mergedValue)} is looser than the org's ${show(baselineValue)} (${describeOrigin(baselineOrigin)}): ${rule.why}`,
    );
  }
}

/**
 * Key scopes are unioned: the org's scopes always hold, and a repository may add scopes only for
 * signers the org does not scope (narrowing an unscoped signer is tighter; a second scope for an
 * already-scoped signer could widen what it may sign).
 */
function mergeScopes(
  orgScopes: readonly KeyScope[],
  merged: ResolvedSettings,
  repoEntry: BranchDoc | undefined,
  repoIndex: number,
  label: string,
  repo: ParsedPolicy,
  report: (at: Position, message: string) => void,
): KeyScope[] {
  // Whether the repository wrote scopes at all (in this branch's entry or its defaults); the
  // origin's file name cannot tell, since both files are usually called .github/pullgate.yml.
  const inBranch = repoEntry?.signatures?.scopes !== undefined;
  if (!inBranch && repo.document.defaults?.signatures?.scopes === undefined) return [...orgScopes];
  const orgSigners = new Set(orgScopes.flatMap((scope) => scope.signers));
  const known = new Set(orgScopes.map((scope) => canonicalJson(scope)));
  const out = [...orgScopes];
  const repoScopes = normalizeScopes(merged.signatures.scopes);
  repoScopes.forEach((scope, index) => {
    if (known.has(canonicalJson(scope))) return;
    const clash = scope.signers.find((signer) => orgSigners.has(signer));
    if (clash !== undefined) {
      const pointer = inBranch
        ? joinPointer("", "branches", repoIndex, "signatures", "scopes", index)
        : joinPointer("", "defaults", "signatures", "scopes", index);
      report(
        repo.positions.valueAt(pointer),
        `${label}: signer \`${clash}\` is already scoped by the org; a repository may scope only signers the org leaves unscoped`,
      );
      return;
    }
    known.add(canonicalJson(scope));
    out.push(scope);
  });
  return out;
}

/** Path rules are unioned: the org's rules stay, the repository's are added; a name means one rule. */
function mergePathRules(
  orgRules: readonly PathRule[],
  repoEntry: BranchDoc | undefined,
  repoIndex: number,
  label: string,
  repo: ParsedPolicy,
  report: (at: Position, message: string) => void,
): PathRule[] {
  const out = [...orgRules];
  const byName = new Map(orgRules.map((rule) => [rule.name, canonicalJson(rule)]));
  pathRulesOf(repoEntry).forEach((rule, index) => {
    const existing = byName.get(rule.name);
    if (existing === canonicalJson(rule)) return;
    if (existing !== undefined) {
      report(
        repo.positions.valueAt(joinPointer("", "branches", repoIndex, "paths", index)),
        `${label}: path rule \`${rule.name}\` is defined differently by the org; org path rules cannot be changed, add a rule with another name`,
      );
      return;
    }
    byName.set(rule.name, canonicalJson(rule));
    out.push({ ...rule, from: normalizePrincipals(rule.from) });
  });
  return out;
}

/**
 * `promotion` and `break_glass` of one branch (docs/policy.md, "Org and repository policies"). A
 * repository may add a promotion rule or lengthen the org's min_age, never change what the org's
 * rule promotes from; it may turn break-glass off, ask for more admins or name fewer, never turn it
 * on where the org has it off, change its label, or add admins.
 */
function mergeMarks(
  baseline: Pick<BranchPolicy, "promotion" | "breakGlass">,
  repoEntry: BranchDoc | undefined,
  repoIndex: number,
  label: string,
  org: ParsedPolicy,
  repo: ParsedPolicy,
  report: (at: Position, message: string) => void,
): { promotion?: PromotionPolicy; breakGlass?: BreakGlassPolicy } {
  const at = (...tokens: (string | number)[]) =>
    repo.positions.valueAt(joinPointer("", "branches", repoIndex, ...tokens));
  const out: { promotion?: PromotionPolicy; breakGlass?: BreakGlassPolicy } = {};

  const orgPromotion = baseline.promotion;
  const repoPromotion = promotionOf(repoEntry);
  if (repoPromotion !== undefined && orgPromotion !== undefined) {
    if (
      repoPromotion.from !== orgPromotion.from ||
      repoPromotion.path !== orgPromotion.path ||
      repoPromotion.fromPath !== orgPromotion.fromPath
    ) {
      report(
        at("promotion"),
        `${label}: promotion differs from the org's (from \`${orgPromotion.from}\`${orgPromotion.path === null ? "" : `, path \`${orgPromotion.path}\``}); a repository may only lengthen min_age`,
      );
    } else if (repoPromotion.minAgeMs < orgPromotion.minAgeMs) {
      report(
        at("promotion", "min_age"),
        `${label}: promotion.min_age \`${repoEntry?.promotion?.min_age ?? ""}\` is shorter than the org's: a tree could be promoted before it ran long enough`,
      );
    }
  }
  const promotion = repoPromotion ?? orgPromotion;
  if (promotion !== undefined) out.promotion = promotion;

  const orgGlass = baseline.breakGlass;
  const repoDoc = repoEntry?.break_glass;
  if (repoDoc === undefined) {
    if (orgGlass !== undefined) out.breakGlass = orgGlass;
    return out;
  }
  const admins = orgGlass?.admins ?? org.policy.admins;
  // Unwritten keys inherit the org's values, admins included.
  const repoGlass = breakGlassOf(repoEntry, admins) as BreakGlassPolicy;
  const merged: BreakGlassPolicy = {
    ...repoGlass,
    label: repoDoc.label ?? orgGlass?.label ?? repoGlass.label,
    approvals: repoDoc.approvals ?? orgGlass?.approvals ?? repoGlass.approvals,
  };
  if (merged.enabled && orgGlass?.enabled !== true) {
    report(
      at("break_glass", "enabled"),
      `${label}: break_glass.enabled is true, the org's is off (unset or false); only the org can open the emergency path`,
    );
  }
  if (merged.enabled && orgGlass !== undefined) {
    if (merged.label !== orgGlass.label) {
      report(
        at("break_glass", "label"),
        `${label}: break_glass.label \`${merged.label}\` differs from the org's \`${orgGlass.label}\`; the label is the org's`,
      );
    }
    if (merged.approvals < orgGlass.approvals) {
      report(
        at("break_glass", "approvals"),
        `${label}: break_glass.approvals ${merged.approvals} is looser than the org's ${orgGlass.approvals}: fewer admins could open the emergency path`,
      );
    }
    const allowed = new Set(orgGlass.admins);
    merged.admins.forEach((admin, index) => {
      if (allowed.has(admin)) return;
      report(
        repoDoc.admins === undefined ? at("break_glass") : at("break_glass", "admins", index),
        `${label}: break_glass.admins: \`${admin}\` is not one of the org's break-glass admins (${show(orgGlass.admins)})`,
      );
    });
  }
  // Off is the default: not in the effective policy (its digest does not change with writing it).
  if (merged.enabled) out.breakGlass = merged;
  return out;
}
