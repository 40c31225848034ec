import type { SandboxCore } from "../core.js";
import type { RepoRecord } from "../state/types.js";
import { checksFromRule } from "../protection/enforce.js";
import type { RequiredCheck } from "../protection/requirements.js";
import { rulesFor } from "../protection/rulesets.js";

const PASSING = new Set(["success", "neutral", "skipped"]);

/**
 * The checks a merge group must pass: the base branch's required status checks, from branch
 * protection and every active ruleset (GitHub runs the same list on the group as on the PR).
 */
export function requiredChecksFor(core: SandboxCore, repo: RepoRecord, branch: string): RequiredCheck[] {
  const checks: RequiredCheck[] = [];
  const p = core.state.protections[`${repo.owner}/${repo.name}:${branch}`];
  if (p?.required_status_checks) checks.push(...p.required_status_checks.checks);
  for (const rule of rulesFor(core, repo, branch))
    if (rule.type === "required_status_checks") checks.push(...checksFromRule(rule.parameters).checks);
  return checks;
}

export type GroupChecks = "success" | "pending" | "failure";

/**
 * Where a group's required checks stand on its head commit: every one passing (latest check run
 * per name and app, or latest commit status when no app is named) = success; any one whose latest
 * result is a completed failure (or a failure/error status, with no passing run) = failure; else
 * pending (not reported yet, queued, in progress, or a pending status).
 */
export function groupChecks(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
  required: RequiredCheck[],
): GroupChecks {
  const full = `${repo.owner}/${repo.name}`;
  const runs = Object.values(core.state.checkRuns).filter((r) => r.repo === full && r.head_sha === sha);
  const statuses = Object.values(core.state.statuses).filter((s) => s.repo === full && s.sha === sha);
  let pending = false;
  for (const check of required) {
    const anyApp = check.app_id === null || check.app_id === -1;
    const run = runs
      .filter((r) => r.name === check.context && (anyApp || r.app_id === check.app_id))
      .sort((a, b) => b.id - a.id)[0];
    const status = anyApp
      ? statuses.filter((s) => s.context === check.context).sort((a, b) => b.id - a.id)[0]
      : undefined;
    const runDone = run !== undefined && run.status === "completed";
    if ((runDone && PASSING.has(run.conclusion ?? "")) || status?.state === "success") continue;
    if (runDone || status?.state === "failure" || status?.state === "error") return "failure";
    pending = true;
  }
  return pending ? "pending" : "success";
}
