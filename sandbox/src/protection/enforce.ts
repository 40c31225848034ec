import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import type { Actor } from "../auth/actor.js";
import type { PullRecord, RepoRecord, RepoRole, RulesetRecord } from "../state/types.js";
import { ZERO_SHA } from "../git/repo.js";
import { rulesFor } from "./rulesets.js";
import { parseCommit } from "../git/objects.js";
import { commitVerification } from "../signing/known.js";
import { filesMissingOwnerApproval } from "./codeowners.js";
import { missingChecks, reviewSummary, type RequiredCheck } from "./requirements.js";

/** One ref update a push proposes, as the pre-receive hook describes it. */
export interface ProposedUpdate {
  ref: string;
  before: string;
  after: string;
  fastForward: boolean;
  /** Commits the update introduces (not reachable from any ref), with their raw text. */
  commits: { sha: string; raw: string; parents: number }[];
}

/** Does any introduced commit lack a signature GitHub would badge "verified"? */
async function hasUnverifiedCommit(core: SandboxCore, commits: ProposedUpdate["commits"]): Promise<boolean> {
  for (const c of commits) {
    if (!(await commitVerification(core, c.sha, parseCommit(c.raw))).verified) return true;
  }
  return false;
}

/** Ruleset RepositoryRole ids → roles (GitHub: 2 maintain, 4 write, 5 admin). */
const REPOSITORY_ROLE_IDS: Record<number, RepoRole> = {
  1: "read",
  2: "maintain",
  3: "triage",
  4: "write",
  5: "admin",
};

function isTeamMember(core: SandboxCore, org: string, slugOrId: string | number, login: string): boolean {
  return Object.values(core.state.teams).some(
    (t) => t.org === org && (t.slug === slugOrId || t.id === slugOrId) && t.members[login] !== undefined,
  );
}

/** Is the actor in a {users, teams, apps} allowance list? */
function inAllowance(
  core: SandboxCore,
  repo: RepoRecord,
  actor: Actor,
  list: { users: string[]; teams: string[]; apps: string[] },
): boolean {
  if (actor.kind === "installation") return list.apps.includes(core.state.app.slug);
  if (actor.kind !== "user") return false;
  const login = actor.user.login;
  return list.users.includes(login) || list.teams.some((slug) => isTeamMember(core, repo.owner, slug, login));
}

/**
 * Does the actor bypass a ruleset? `mode` "push" ignores `pull_request`-only bypasses (they only
 * apply to merges through a pull request).
 */
export function bypassesRuleset(
  core: SandboxCore,
  repo: RepoRecord,
  actor: Actor,
  ruleset: RulesetRecord,
  mode: "push" | "merge",
): boolean {
  return ruleset.bypass_actors.some((b) => {
    if (mode === "push" && b.bypass_mode === "pull_request") return false;
    switch (b.actor_type) {
      case "Integration":
        return actor.kind === "installation" && b.actor_id === core.state.app.id;
      case "OrganizationAdmin":
        return (
          actor.kind === "user" &&
          (actor.user.site_admin || core.org(repo.owner)?.members[actor.user.login] === "admin")
        );
      case "RepositoryRole": {
        const role = REPOSITORY_ROLE_IDS[b.actor_id ?? 0];
        return (
          actor.kind === "user" && role !== undefined && roleAtLeast(core.userRole(actor.user, repo), role)
        );
      }
      case "Team":
        return (
          actor.kind === "user" &&
          b.actor_id !== null &&
          isTeamMember(core, repo.owner, b.actor_id, actor.user.login)
        );
      default:
        return false;
    }
  });
}

/** Admins bypass branch protection (reviews, checks, restrictions) unless enforce_admins is on. */
function adminBypass(core: SandboxCore, repo: RepoRecord, actor: Actor, enforceAdmins: boolean): boolean {
  return !enforceAdmins && actor.kind === "user" && core.userRole(actor.user, repo) === "admin";
}

export function checksFromRule(parameters: Record<string, unknown> | undefined): {
  checks: RequiredCheck[];
  strict: boolean;
} {
  const raw = Array.isArray(parameters?.required_status_checks) ? parameters.required_status_checks : [];
  const checks = raw.flatMap((c: unknown) => {
    const item = c as { context?: unknown; integration_id?: unknown };
    return typeof item.context === "string"
      ? [
          {
            context: item.context,
            app_id: typeof item.integration_id === "number" ? item.integration_id : null,
          },
        ]
      : [];
  });
  return { checks, strict: parameters?.strict_required_status_checks_policy === true };
}

/**
 * The reasons a push (git or API ref update) to a branch is refused: branch protection (GH006)
 * and active rulesets (GH013). Empty = allowed. Enforced: deletion, force push, lock,
 * push restrictions, "changes through a pull request", required checks on the new head,
 * verified signatures on new commits (the sandbox's badge: web-flow or registered GPG keys), linear history, ruleset
 * creation/update/deletion/non_fast_forward; with admin and bypass-actor exemptions.
 */
export async function checkPush(
  core: SandboxCore,
  repo: RepoRecord,
  actor: Actor,
  update: ProposedUpdate,
): Promise<string[]> {
  if (!update.ref.startsWith("refs/heads/")) return [];
  const branch = update.ref.slice("refs/heads/".length);
  const deleting = update.after === ZERO_SHA;
  const creating = update.before === ZERO_SHA;
  const protectionErrors: string[] = [];
  const p = core.state.protections[`${repo.owner}/${repo.name}:${branch}`];
  if (p !== undefined) {
    if (deleting && !p.allow_deletions) protectionErrors.push("Cannot delete this protected branch.");
    if (!deleting && !creating && !update.fastForward && !p.allow_force_pushes)
      protectionErrors.push("Cannot force-push to this branch.");
    if (!adminBypass(core, repo, actor, p.enforce_admins) && !deleting) {
      if (p.lock_branch) protectionErrors.push("Cannot change this locked branch.");
      if (p.restrictions !== null && !inAllowance(core, repo, actor, p.restrictions))
        protectionErrors.push("You're not authorized to push to this branch.");
      const reviews = p.required_pull_request_reviews;
      if (reviews !== null && !inAllowance(core, repo, actor, reviews.bypass_pull_request_allowances))
        protectionErrors.push("Changes must be made through a pull request.");
      if (p.required_status_checks !== null) {
        for (const context of missingChecks(core, repo, update.after, p.required_status_checks.checks))
          protectionErrors.push(`Required status check "${context}" is expected.`);
      }
      if (p.required_signatures && (await hasUnverifiedCommit(core, update.commits)))
        protectionErrors.push("Commits must have verified signatures.");
      if (p.required_linear_history && update.commits.some((c) => c.parents > 1))
        protectionErrors.push("This branch must not contain merge commits.");
    }
  }
  const rulesetErrors: string[] = [];
  for (const rule of rulesFor(core, repo, branch)) {
    if (bypassesRuleset(core, repo, actor, rule.ruleset, "push")) continue;
    switch (rule.type) {
      case "creation":
        if (creating) rulesetErrors.push("Cannot create ref due to creations being restricted.");
        break;
      case "update":
        if (!creating && !deleting) rulesetErrors.push("Cannot update this protected ref.");
        break;
      case "deletion":
        if (deleting) rulesetErrors.push("Cannot delete this protected ref.");
        break;
      case "non_fast_forward":
        if (!creating && !deleting && !update.fastForward)
          rulesetErrors.push("Cannot force-push to this branch.");
        break;
      case "pull_request":
        if (!deleting) rulesetErrors.push("Changes must be made through a pull request.");
        break;
      case "required_status_checks":
        if (!deleting)
          for (const context of missingChecks(
            core,
            repo,
            update.after,
            checksFromRule(rule.parameters).checks,
          ))
            rulesetErrors.push(`Required status check "${context}" is expected.`);
        break;
      case "required_signatures":
        if (await hasUnverifiedCommit(core, update.commits))
          rulesetErrors.push("Commits must have verified signatures.");
        break;
      case "required_linear_history":
        if (update.commits.some((c) => c.parents > 1))
          rulesetErrors.push("This branch must not contain merge commits.");
        break;
      case "merge_queue":
        // The queue itself moves the branch without passing through here (queue/engine.ts).
        if (!creating && !deleting) rulesetErrors.push("Changes must be made through the merge queue");
        break;
      default:
        break;
    }
  }
  const messages: string[] = [];
  if (protectionErrors.length > 0) {
    messages.push(`error: GH006: Protected branch update failed for ${update.ref}.`);
    messages.push(...[...new Set(protectionErrors)].map((e) => `error: ${e}`));
  }
  if (rulesetErrors.length > 0) {
    messages.push(`error: GH013: Repository rule violations found for ${update.ref}.`);
    messages.push(...[...new Set(rulesetErrors)].map((e) => `- ${e}`));
  }
  return messages;
}

/**
 * Why a pull request cannot be merged by this actor now (405 reasons), from branch protection
 * and rulesets on its base: approvals (write access, not the author, latest opinion; with
 * require_last_push_approval the last pusher's approval does not count), changes requested,
 * required checks on the head, strict up-to-dateness, linear history vs merge commits,
 * required signatures (PR commits must carry a verified badge; rebase merges are refused
 * because they cannot be signed). Code-owner approval uses a simplified CODEOWNERS (codeowners.ts). Not enforced: conversation resolution.
 */
export async function checkMerge(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  author: string,
  actor: Actor,
  method: "merge" | "squash" | "rebase",
  context: {
    baseSha: string;
    upToDate: boolean;
    unverifiedCommits: number;
    /** Asked on behalf of the merge queue (enqueueing): the merge_queue rule is what is being used. */
    viaQueue?: boolean;
  },
): Promise<string[]> {
  const reasons: string[] = [];
  const summary = reviewSummary(core, repo, pr, author);
  const approvalsExcludingLastPusher = summary.approvers.filter((a) => a !== pr.last_pusher).length;
  let ownerCheck: Promise<string[]> | undefined;
  const requireCodeOwners = async (where: string[]) => {
    ownerCheck ??= filesMissingOwnerApproval(core, repo, pr, context.baseSha, summary.approvers);
    const missing = await ownerCheck;
    if (missing.length > 0)
      where.push(
        `Waiting on code owner review from the owners of ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}.`,
      );
  };
  const requireReviews = (count: number, lastPush: boolean, where: string[]) => {
    const approvals = lastPush ? approvalsExcludingLastPusher : summary.approvers.length;
    if (approvals < count)
      where.push(
        `At least ${count} approving review${count === 1 ? " is" : "s are"} required by reviewers with write access.`,
      );
    if (summary.changesRequestedBy.length > 0)
      where.push("Changes have been requested by a reviewer with write access.");
  };
  const requireChecks = (checks: RequiredCheck[], strict: boolean, where: string[]) => {
    for (const c of missingChecks(core, repo, pr.head_sha, checks))
      where.push(`Required status check "${c}" is expected.`);
    if (strict && !context.upToDate) where.push("Head branch was not up to date with the base branch.");
  };
  const p = core.state.protections[`${repo.owner}/${repo.name}:${pr.base_ref}`];
  if (p !== undefined) {
    if (p.required_linear_history && method === "merge")
      reasons.push("Merge commits are not allowed on this branch.");
    if (p.required_signatures && method === "rebase")
      reasons.push(
        "Base branch requires signed commits. Rebase merges cannot be automatically signed by GitHub.",
      );
    if (!adminBypass(core, repo, actor, p.enforce_admins)) {
      if (p.lock_branch) reasons.push("Cannot change this locked branch.");
      if (p.restrictions !== null && !inAllowance(core, repo, actor, p.restrictions))
        reasons.push("You're not authorized to push to this branch.");
      const r = p.required_pull_request_reviews;
      if (r !== null)
        requireReviews(r.required_approving_review_count, r.require_last_push_approval, reasons);
      if (r?.require_code_owner_reviews === true) await requireCodeOwners(reasons);
      if (p.required_status_checks !== null)
        requireChecks(p.required_status_checks.checks, p.required_status_checks.strict, reasons);
      if (p.required_signatures && context.unverifiedCommits > 0)
        reasons.push("Commits must have verified signatures.");
    }
  }
  for (const rule of rulesFor(core, repo, pr.base_ref)) {
    if (bypassesRuleset(core, repo, actor, rule.ruleset, "merge")) continue;
    const params = rule.parameters ?? {};
    switch (rule.type) {
      case "pull_request":
        requireReviews(
          typeof params.required_approving_review_count === "number"
            ? params.required_approving_review_count
            : 0,
          params.require_last_push_approval === true,
          reasons,
        );
        if (params.require_code_owner_review === true) await requireCodeOwners(reasons);
        break;
      case "required_status_checks": {
        const { checks, strict } = checksFromRule(params);
        requireChecks(checks, strict, reasons);
        break;
      }
      case "required_linear_history":
        if (method === "merge") reasons.push("Merge commits are not allowed on this branch.");
        break;
      case "required_signatures":
        if (method === "rebase")
          reasons.push(
            "Base branch requires signed commits. Rebase merges cannot be automatically signed by GitHub.",
          );
        else if (context.unverifiedCommits > 0) reasons.push("Commits must have verified signatures.");
        break;
      case "update":
        reasons.push("Cannot update this protected ref.");
        break;
      case "merge_queue":
        if (context.viaQueue !== true) reasons.push("Changes must be made through the merge queue");
        break;
      default:
        break;
    }
  }
  return [...new Set(reasons)];
}
