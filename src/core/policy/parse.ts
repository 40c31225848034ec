import type { BranchDoc, PathRuleDoc, PolicyDoc } from "./document.js";
import { isGlob, matchesBranch } from "./glob.js";
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  parseRefreshInterval,
  refreshIntervalProblem,
} from "./refresh-interval.js";
import { sensitivePathsFor } from "./sensitive.js";
import { normalizePrincipals, resolveSettings, type Layer, type Origins } from "./settings.js";
import type {
  BranchPolicy,
  BreakGlassPolicy,
  PathRule,
  Policy,
  PolicyError,
  Principal,
  PromotionPolicy,
} from "./types.js";
import { describePointer, sortErrors, validatePolicyDocument } from "./validate.js";
import { joinPointer, loadYamlWithPositions, type PositionMap } from "./yaml-positions.js";

/** The default location of a repository's (and an org `.github` repository's) policy. */
export const POLICY_PATH = ".github/pullgate.yml";

export const DEFAULT_RECORD_REF_PREFIX = "approved/";

/** Larger files are refused before parsing: a policy is a page of YAML, not megabytes. */
export const MAX_POLICY_BYTES = 256 * 1024;

/** A successfully parsed file: the effective policy plus what the merge needs to know about the text. */
export interface ParsedPolicy {
  policy: Policy;
  file: string;
  document: PolicyDoc;
  positions: PositionMap;
  /** Per branch (same order as policy.branches): where each setting came from. */
  origins: Origins[];
}

export interface ParseResult {
  /** The effective policy, or null when there is any error (fail closed: never a partial policy). */
  policy: Policy | null;
  errors: PolicyError[];
  /** Everything mergePolicies needs; null when there are errors. */
  parsed: ParsedPolicy | null;
}

/** Environment names must be usable in a ref: the same rule as the schema's `environment`. */
const ENVIRONMENT =
  /^(?!.*\.\.)(?!.*\.lock(?:\/|$))[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?(?:\/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?)*$/;

/**
 * Parses `.github/pullgate.yml` text. Never throws: YAML syntax errors, schema violations and
 * semantic problems all come back as errors with the file's 1-based line and column.
 */
export function parsePolicy(text: string, file: string): ParseResult {
  const fail = (errors: PolicyError[]): ParseResult => ({
    policy: null,
    errors: sortErrors(errors),
    parsed: null,
  });
  if (typeof text !== "string")
    return fail([{ file, line: 1, column: 1, message: "policy text is not a string" }]);
  if (text.length > MAX_POLICY_BYTES) {
    return fail([
      { file, line: 1, column: 1, message: `policy file is larger than ${MAX_POLICY_BYTES} bytes` },
    ]);
  }
  const loaded = loadYamlWithPositions(text);
  if (!loaded.ok) return fail([{ file, ...loaded.position, message: loaded.message }]);
  if (loaded.value === null || loaded.value === undefined) {
    return fail([
      {
        file,
        line: 1,
        column: 1,
        message: "policy file is empty: expected a mapping starting with `version: 1`",
      },
    ]);
  }
  const schemaErrors = validatePolicyDocument(loaded.value, file, loaded.positions);
  if (schemaErrors.length > 0) return fail(schemaErrors);
  const document = loaded.value as PolicyDoc;
  const semanticErrors = checkDocument(document, file, loaded.positions);
  if (semanticErrors.length > 0) return fail(semanticErrors);
  const { policy, origins } = buildPolicy(document, file, loaded.positions);
  return { policy, errors: [], parsed: { policy, file, document, positions: loaded.positions, origins } };
}

/** The layers of one branch entry within one file: the entry itself, then the file's defaults. */
export function fileLayers(
  document: PolicyDoc,
  file: string,
  positions: PositionMap,
  branchIndex: number | null,
): Layer[] {
  const layers: Layer[] = [];
  if (branchIndex !== null) {
    const entry = document.branches?.[branchIndex];
    layers.push({ settings: entry, file, positions, pointer: joinPointer("", "branches", branchIndex) });
  }
  layers.push({ settings: document.defaults, file, positions, pointer: "/defaults" });
  return layers;
}

/** Default `break_glass.label` (src/core/break-glass uses the same). */
export const DEFAULT_BREAK_GLASS_LABEL = "pullgate/break-glass";
export const DEFAULT_BREAK_GLASS_APPROVALS = 2;
/** `promotion.min_age` may not exceed this (a year: anything longer is a typo). */
export const MAX_PROMOTION_MIN_AGE_MS = 365 * 86_400_000;

/** The entry's `promotion`, or undefined when it writes none (checkDocument refused bad values). */
export function promotionOf(entry: BranchDoc | undefined): PromotionPolicy | undefined {
  const doc = entry?.promotion;
  if (doc === undefined) return undefined;
  return {
    from: doc.from,
    minAgeMs: parseRefreshInterval(doc.min_age) ?? 0,
    path: doc.path ?? null,
    fromPath: doc.from_path ?? null,
  };
}

/** The entry's `break_glass`, admins defaulting to `admins`; undefined when it writes none. */
export function breakGlassOf(
  entry: BranchDoc | undefined,
  admins: readonly Principal[],
): BreakGlassPolicy | undefined {
  const doc = entry?.break_glass;
  if (doc === undefined) return undefined;
  return {
    enabled: doc.enabled,
    label: doc.label ?? DEFAULT_BREAK_GLASS_LABEL,
    approvals: doc.approvals ?? DEFAULT_BREAK_GLASS_APPROVALS,
    admins: normalizePrincipals(doc.admins ?? admins),
  };
}

export function pathRulesOf(entry: BranchDoc | undefined): PathRule[] {
  return (entry?.paths ?? []).map((rule: PathRuleDoc) => ({
    name: rule.name ?? rule.paths[0] ?? "",
    paths: [...rule.paths],
    approvals: rule.approvals ?? 1,
    from: normalizePrincipals(rule.from),
  }));
}

function buildPolicy(
  document: PolicyDoc,
  file: string,
  positions: PositionMap,
): { policy: Policy; origins: Origins[] } {
  const origins: Origins[] = [];
  const admins = normalizePrincipals(document.admins ?? []);
  const branches: BranchPolicy[] = (document.branches ?? []).map((entry, index) => {
    const resolved = resolveSettings(fileLayers(document, file, positions, index));
    origins.push(resolved.origins);
    const promotion = promotionOf(entry);
    const breakGlass = breakGlassOf(entry, admins);
    return {
      branch: entry.branch,
      environment: entry.environment ?? entry.branch,
      signatures: resolved.signatures,
      reviews: resolved.reviews,
      pathRules: pathRulesOf(entry),
      protection: resolved.protection,
      // Only when in force: a policy that does not use them (or writes break-glass off, the
      // default) keeps its digest.
      ...(promotion === undefined ? {} : { promotion }),
      ...(breakGlass?.enabled === true ? { breakGlass } : {}),
      secrets: resolved.secrets,
    };
  });
  const policy: Policy = {
    version: 1,
    admins,
    // The defaults' keyrings count even when no branch uses them: a repository file may
    // inherit them for its own branches, and guarding an unused keyring costs nothing.
    sensitivePaths: sensitivePathsFor(
      [
        ...branches.map((b) => b.signatures),
        resolveSettings(fileLayers(document, file, positions, null)).signatures,
      ],
      document.sensitive_paths ?? [],
    ),
    recordRefPrefix: document.records?.ref_prefix ?? DEFAULT_RECORD_REF_PREFIX,
    recordRefreshIntervalMs: refreshIntervalOf(document),
    branches,
  };
  return { policy, origins };
}

/** The document's refresh interval in ms (checkDocument has refused anything unparsable). */
export function refreshIntervalOf(document: PolicyDoc): number {
  const text = document.records?.refresh_interval;
  if (text === undefined) return DEFAULT_REFRESH_INTERVAL_MS;
  return parseRefreshInterval(text) ?? DEFAULT_REFRESH_INTERVAL_MS;
}

/** Problems the schema cannot express: environments, shadowed entries, unsatisfiable rules. */
function checkDocument(document: PolicyDoc, file: string, positions: PositionMap): PolicyError[] {
  const errors: PolicyError[] = [];
  const error = (pointer: string, message: string) =>
    errors.push({ file, ...positions.valueAt(pointer), message });
  const refresh = document.records?.refresh_interval;
  if (refresh !== undefined) {
    const ms = parseRefreshInterval(refresh);
    const problem = ms === null ? 'must be "0" or a duration such as "24h"' : refreshIntervalProblem(ms);
    if (problem !== null)
      error("/records/refresh_interval", `records.refresh_interval: \`${refresh}\` ${problem}`);
  }
  const branches = document.branches ?? [];
  branches.forEach((entry, index) => {
    const pointer = joinPointer("", "branches", index);
    const where = describePointer(pointer);
    if (entry.environment === undefined) {
      if (isGlob(entry.branch)) {
        error(
          joinPointer(pointer, "branch"),
          `${where}: the glob \`${entry.branch}\` needs an explicit \`environment\` (only a literal branch name defaults to itself)`,
        );
      } else if (!ENVIRONMENT.test(entry.branch)) {
        error(
          joinPointer(pointer, "branch"),
          `${where}: the branch name \`${entry.branch}\` is not a valid environment name; set \`environment\` explicitly`,
        );
      }
    }
    const earlier = branches.findIndex(
      (other, otherIndex) =>
        otherIndex < index &&
        (other.branch === entry.branch ||
          (!isGlob(entry.branch) && matchesBranch(other.branch, entry.branch))),
    );
    const shadow = branches[earlier];
    if (shadow !== undefined) {
      const at = positions.valueAt(joinPointer("", "branches", earlier, "branch"));
      error(
        joinPointer(pointer, "branch"),
        `${where}: \`${entry.branch}\` is already matched by \`${shadow.branch}\` (line ${at.line}); the first match wins, so this entry would never apply`,
      );
    }
    errors.push(...checkPromotionAndBreakGlass(entry, index, file, positions));
    const names = new Map<string, number>();
    pathRulesOf(entry).forEach((rule, ruleIndex) => {
      const rulePointer = joinPointer(pointer, "paths", ruleIndex);
      const previous = names.get(rule.name);
      if (previous !== undefined) {
        error(
          rulePointer,
          `${describePointer(rulePointer)}: path rule name \`${rule.name}\` is already used by paths[${previous}]; give each rule its own \`name\``,
        );
      } else {
        names.set(rule.name, ruleIndex);
      }
      // Only individual users are countable: a team may have any number of members.
      if (rule.from.every((p) => !p.includes("/")) && rule.approvals > rule.from.length) {
        error(
          joinPointer(rulePointer, "approvals"),
          `${describePointer(rulePointer)}: needs ${rule.approvals} approvals from ${rule.from.length} ${rule.from.length === 1 ? "person" : "people"}; it could never be satisfied`,
        );
      }
    });
  });
  return errors;
}

/** `promotion` and `break_glass` of one branch entry: what the schema cannot say. */
function checkPromotionAndBreakGlass(
  entry: BranchDoc,
  index: number,
  file: string,
  positions: PositionMap,
): PolicyError[] {
  const errors: PolicyError[] = [];
  const error = (pointer: string, message: string) =>
    errors.push({ file, ...positions.valueAt(pointer), message });
  const pointer = joinPointer("", "branches", index);
  const promotion = entry.promotion;
  if (promotion !== undefined) {
    const at = joinPointer(pointer, "promotion");
    const ms = parseRefreshInterval(promotion.min_age);
    if (ms === null || ms > MAX_PROMOTION_MIN_AGE_MS) {
      error(
        joinPointer(at, "min_age"),
        `${describePointer(at)}.min_age: \`${promotion.min_age}\` must be "0" or a duration of at most 365d`,
      );
    }
    if (promotion.from_path !== undefined && promotion.path === undefined) {
      error(
        joinPointer(at, "from_path"),
        `${describePointer(at)}: \`from_path\` needs \`path\` (the promoted directory in this branch)`,
      );
    }
    const environment = entry.environment ?? entry.branch;
    const fromPath = promotion.from_path ?? promotion.path;
    if (promotion.from === environment && (promotion.path === undefined || fromPath === promotion.path)) {
      error(
        joinPointer(at, "from"),
        `${describePointer(at)}: promoting \`${environment}\` from itself ${promotion.path === undefined ? "(the whole tree)" : `(${promotion.path} from ${promotion.path})`} could never accept a change; name another environment, or a \`from_path\` other than \`path\``,
      );
    }
  }
  const glass = entry.break_glass;
  if (glass?.admins !== undefined) {
    const approvals = glass.approvals ?? DEFAULT_BREAK_GLASS_APPROVALS;
    const people = normalizePrincipals(glass.admins);
    // Only individual users are countable: a team may have any number of members.
    if (people.every((p) => !p.includes("/")) && approvals > people.length) {
      const at = joinPointer(pointer, "break_glass");
      error(
        joinPointer(at, glass.approvals === undefined ? "admins" : "approvals"),
        `${describePointer(at)}: needs ${approvals} distinct admins and names ${people.length}; it could never be used`,
      );
    }
  }
  return errors;
}
