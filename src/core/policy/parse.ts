import type { BranchDoc, PathRuleDoc, PolicyDoc } from "./document.js";
import { isGlob, matchesBranch } from "./glob.js";
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  parseRefreshInterval,
  refreshIntervalProblem,
} from "./refresh-interval.js";
import { sensitivePathsFor } from "./sensitive.js";
import { normalizePrincipals, resolveSettings, type Layer, type Origins } from "./settings.js";
import type { BranchPolicy, PathRule, Policy, PolicyError } from "./types.js";
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
  const branches: BranchPolicy[] = (document.branches ?? []).map((entry, index) => {
    const resolved = resolveSettings(fileLayers(document, file, positions, index));
    origins.push(resolved.origins);
    return {
      branch: entry.branch,
      environment: entry.environment ?? entry.branch,
      signatures: resolved.signatures,
      reviews: resolved.reviews,
      pathRules: pathRulesOf(entry),
      protection: resolved.protection,
      secrets: resolved.secrets,
    };
  });
  const policy: Policy = {
    version: 1,
    admins: normalizePrincipals(document.admins ?? []),
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
