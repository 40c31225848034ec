import { minimatch } from "minimatch";
import type { SandboxCore } from "../core.js";
import type { RepoRecord, RulesetRecord, RulesetRule } from "../state/types.js";

function matchesAny(patterns: string[], value: string, special: Record<string, string | null>): boolean {
  return patterns.some((pattern) => {
    if (pattern === "~ALL") return true;
    if (Object.hasOwn(special, pattern)) return special[pattern] === value;
    return minimatch(value, pattern, { dot: true });
  });
}

/** Does a ruleset's ref_name / repository_name condition select this branch of this repository? */
export function rulesetApplies(ruleset: RulesetRecord, repo: RepoRecord, branch: string): boolean {
  if (ruleset.target !== "branch") return false;
  const ref = `refs/heads/${branch}`;
  const refCondition = ruleset.conditions?.ref_name;
  const special = { "~DEFAULT_BRANCH": `refs/heads/${repo.default_branch}` };
  if (refCondition === undefined) {
    if (ruleset.source_type === "Organization") return false;
  } else {
    if (!matchesAny(refCondition.include, ref, special)) return false;
    if (matchesAny(refCondition.exclude, ref, special)) return false;
  }
  return rulesetCoversRepo(ruleset, repo);
}

/** An org ruleset covers the repositories its repository_name condition selects; a repo's covers itself. */
export function rulesetCoversRepo(ruleset: RulesetRecord, repo: RepoRecord): boolean {
  if (ruleset.source_type === "Repository") return ruleset.source === `${repo.owner}/${repo.name}`;
  if (ruleset.source !== repo.owner) return false;
  const repoCondition = ruleset.conditions?.repository_name;
  if (repoCondition === undefined) return false;
  return (
    matchesAny(repoCondition.include, repo.name, {}) && !matchesAny(repoCondition.exclude, repo.name, {})
  );
}

/** Active rulesets (repository's and its org's) that apply to a branch. `evaluate` ones are not enforced. */
export function activeRulesets(core: SandboxCore, repo: RepoRecord, branch: string): RulesetRecord[] {
  const full = `${repo.owner}/${repo.name}`;
  return Object.values(core.state.rulesets).filter(
    (r) =>
      r.enforcement === "active" &&
      ((r.source_type === "Repository" && r.source === full) ||
        (r.source_type === "Organization" && r.source === repo.owner)) &&
      rulesetApplies(r, repo, branch),
  );
}

export interface SourcedRule extends RulesetRule {
  ruleset: RulesetRecord;
}

export function rulesFor(core: SandboxCore, repo: RepoRecord, branch: string): SourcedRule[] {
  return activeRulesets(core, repo, branch).flatMap((ruleset) =>
    ruleset.rules.map((rule) => ({ ...rule, ruleset })),
  );
}
