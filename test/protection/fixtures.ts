/**
 * Builders of GitHub-shaped protection data for the protection tests: realistic responses, so the
 * tests read like the situations they guard against.
 */
import type { ProtectionPolicy } from "../../src/core/policy/types.js";
import type {
  BranchRule,
  ClassicProtection,
  RulesetBypassActor,
  RulesetDetail,
} from "../../src/core/protection/github-types.js";
import type { ProtectionContext } from "../../src/core/protection/principals.js";

export const APP_ID = 4242;
export const APP_SLUG = "pullgate";

export const ctx: ProtectionContext = {
  appId: APP_ID,
  appSlug: APP_SLUG,
  checkName: "pullgate",
  org: "acme",
  teams: { 77: "@acme/release", 78: "@acme/everyone" },
  users: { 1001: "mallory" },
};

/** The policy most branches ask for: everything on, no bypass but the app. */
export function strictPolicy(overrides: Partial<ProtectionPolicy> = {}): ProtectionPolicy {
  return {
    mode: "audit",
    requirePullRequest: true,
    requiredApprovals: 2,
    requireCodeOwnerReview: true,
    dismissStaleReviews: true,
    requireLastPushApproval: true,
    requireSignedCommits: true,
    requirePullgateCheck: true,
    requireUpToDate: true,
    allowForcePushes: false,
    allowDeletions: false,
    enforceAdmins: true,
    allowedBypass: [],
    ...overrides,
  };
}

/** Classic protection that satisfies strictPolicy() on its own, as GET returns it. */
export function goodClassic(): ClassicProtection {
  return {
    required_status_checks: {
      strict: true,
      contexts: ["ci/build", "pullgate"],
      checks: [
        { context: "ci/build", app_id: 15368 },
        { context: "pullgate", app_id: APP_ID },
      ],
    },
    enforce_admins: { enabled: true },
    required_pull_request_reviews: {
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      required_approving_review_count: 2,
      require_last_push_approval: true,
    },
    required_signatures: { enabled: true },
    required_linear_history: { enabled: false },
    allow_force_pushes: { enabled: false },
    allow_deletions: { enabled: false },
    block_creations: { enabled: false },
    required_conversation_resolution: { enabled: false },
    lock_branch: { enabled: false },
    allow_fork_syncing: { enabled: false },
  };
}

export function ruleset(
  id: number,
  name: string,
  overrides: Partial<RulesetDetail> & { bypass_actors?: RulesetBypassActor[] } = {},
): RulesetDetail {
  return {
    id,
    name,
    target: "branch",
    source_type: "Repository",
    source: "acme/deploy",
    enforcement: "active",
    bypass_actors: [],
    conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
    ...overrides,
  };
}

/** The rules a ruleset contributes to `rules/branches/{b}`, tagged with its source. */
export function rulesOf(
  detail: RulesetDetail,
  rules: { type: string; parameters?: unknown }[],
): BranchRule[] {
  return rules.map((r) => ({
    ...r,
    ruleset_source_type: detail.source_type ?? "Repository",
    ruleset_source: detail.source ?? "acme/deploy",
    ruleset_id: detail.id,
  }));
}

/** Ruleset rules that satisfy strictPolicy() on their own. */
export function goodRules(): { type: string; parameters?: unknown }[] {
  return [
    {
      type: "pull_request",
      parameters: {
        required_approving_review_count: 2,
        dismiss_stale_reviews_on_push: true,
        require_code_owner_review: true,
        require_last_push_approval: true,
        required_review_thread_resolution: false,
      },
    },
    {
      type: "required_status_checks",
      parameters: {
        strict_required_status_checks_policy: true,
        required_status_checks: [{ context: "pullgate", integration_id: APP_ID }],
      },
    },
    { type: "required_signatures" },
    { type: "non_fast_forward" },
    { type: "deletion" },
  ];
}
