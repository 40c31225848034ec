import type { SandboxCore } from "../core.js";
import type { RepoRecord } from "../state/types.js";
import { rulesFor, type SourcedRule } from "../protection/rulesets.js";

/** The `merge_queue` ruleset rule's parameters (GitHub's names and value sets). */
export interface MergeQueueParameters {
  check_response_timeout_minutes: number;
  grouping_strategy: "ALLGREEN" | "HEADGREEN";
  max_entries_to_build: number;
  max_entries_to_merge: number;
  merge_method: "MERGE" | "SQUASH" | "REBASE";
  min_entries_to_merge: number;
  min_entries_to_merge_wait_minutes: number;
}

/** GitHub's defaults when a rule is created in the UI (the API asks for all of them; the sandbox fills gaps). */
const DEFAULTS: MergeQueueParameters = {
  check_response_timeout_minutes: 60,
  grouping_strategy: "ALLGREEN",
  max_entries_to_build: 5,
  max_entries_to_merge: 5,
  merge_method: "MERGE",
  min_entries_to_merge: 1,
  min_entries_to_merge_wait_minutes: 5,
};

/** Integer parameters and GitHub's documented ranges. */
const RANGES: Record<string, [number, number]> = {
  check_response_timeout_minutes: [1, 360],
  max_entries_to_build: [0, 100],
  max_entries_to_merge: [0, 100],
  min_entries_to_merge: [0, 100],
  min_entries_to_merge_wait_minutes: [0, 360],
};

const ENUMS: Record<string, readonly string[]> = {
  grouping_strategy: ["ALLGREEN", "HEADGREEN"],
  merge_method: ["MERGE", "SQUASH", "REBASE"],
};

/**
 * Why a `merge_queue` rule's parameters are invalid (GitHub's 422 message), or null. Missing
 * parameters are allowed (defaults apply); present ones must have the right type and range.
 */
export function mergeQueueParametersError(parameters: Record<string, unknown> | undefined): string | null {
  for (const [name, value] of Object.entries(parameters ?? {})) {
    const range = RANGES[name];
    const values = ENUMS[name];
    if (range !== undefined) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1])
        return `Invalid rule 'merge_queue': ${name} must be an integer between ${range[0]} and ${range[1]}`;
    } else if (values !== undefined) {
      if (typeof value !== "string" || !values.includes(value))
        return `Invalid rule 'merge_queue': ${name} must be one of ${values.join(", ")}`;
    } else {
      return `Invalid rule 'merge_queue': unknown parameter ${name}`;
    }
  }
  return null;
}

function withDefaults(rule: SourcedRule): MergeQueueParameters {
  const p = rule.parameters ?? {};
  const num = (name: keyof MergeQueueParameters): number => {
    const v = p[name];
    return typeof v === "number" ? v : (DEFAULTS[name] as number);
  };
  return {
    check_response_timeout_minutes: num("check_response_timeout_minutes"),
    grouping_strategy: p.grouping_strategy === "HEADGREEN" ? "HEADGREEN" : "ALLGREEN",
    max_entries_to_build: num("max_entries_to_build"),
    max_entries_to_merge: num("max_entries_to_merge"),
    merge_method: p.merge_method === "SQUASH" || p.merge_method === "REBASE" ? p.merge_method : "MERGE",
    min_entries_to_merge: num("min_entries_to_merge"),
    min_entries_to_merge_wait_minutes: num("min_entries_to_merge_wait_minutes"),
  };
}

/**
 * The merge queue a branch requires: the first active ruleset `merge_queue` rule that applies to
 * it, with defaults filled in; null = no queue (merges go through `PUT pulls/{n}/merge`).
 * Bypass actors do not matter here: the queue exists for everyone, bypass only lets someone merge
 * or push around it.
 */
export function mergeQueueRule(
  core: SandboxCore,
  repo: RepoRecord,
  branch: string,
): MergeQueueParameters | null {
  const rule = rulesFor(core, repo, branch)
    .filter((r) => r.type === "merge_queue")
    .sort((a, b) => a.ruleset.id - b.ruleset.id)[0];
  return rule === undefined ? null : withDefaults(rule);
}
