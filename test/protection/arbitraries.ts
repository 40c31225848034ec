/**
 * fast-check generators of GitHub protection inputs, shared by the protection property tests.
 * They produce the odd cases too: missing fields, zero counts, unpinned checks, broad bypass lists.
 */
import fc from "fast-check";
import type { ProtectionPolicy } from "../../src/core/policy/types.js";
import type {
  ActorLists,
  BranchRule,
  ClassicProtection,
  RulesetBypassActor,
  RulesetDetail,
} from "../../src/core/protection/github-types.js";
import { APP_ID } from "./fixtures.js";

const flag = fc.option(fc.record({ enabled: fc.boolean() }), { nil: undefined });
const context = fc.constantFrom("pullgate", "ci/build", "lint", "deploy-preview");
const appId = fc.option(fc.constantFrom(APP_ID, 15368, 999), { nil: null });

// GitHub logins, slugs and ids are unique: keep each name paired with its one id.
const actorLists: fc.Arbitrary<ActorLists> = fc.record({
  users: fc.subarray([
    { login: "alice", id: 1 },
    { login: "bob", id: 2 },
    { login: "mallory", id: 1001 },
  ]),
  teams: fc.subarray([
    { slug: "release", id: 77 },
    { slug: "everyone", id: 78 },
  ]),
  apps: fc.subarray([
    { slug: "pullgate", id: APP_ID },
    { slug: "renovate", id: 2740 },
  ]),
});

export const classicArb: fc.Arbitrary<ClassicProtection> = fc.record(
  {
    required_status_checks: fc.option(
      fc.record({
        strict: fc.boolean(),
        contexts: fc.array(context, { maxLength: 3 }),
        checks: fc.array(fc.record({ context, app_id: appId }), { maxLength: 3 }),
      }),
      { nil: null },
    ),
    enforce_admins: flag,
    required_pull_request_reviews: fc.option(
      fc.record(
        {
          dismiss_stale_reviews: fc.boolean(),
          require_code_owner_reviews: fc.boolean(),
          required_approving_review_count: fc.integer({ min: 0, max: 6 }),
          require_last_push_approval: fc.boolean(),
          bypass_pull_request_allowances: actorLists,
          dismissal_restrictions: actorLists,
        },
        { requiredKeys: ["dismiss_stale_reviews", "require_code_owner_reviews"] },
      ),
      { nil: null },
    ),
    restrictions: fc.option(actorLists, { nil: null }),
    required_signatures: flag,
    required_linear_history: flag,
    allow_force_pushes: flag,
    allow_deletions: flag,
    block_creations: flag,
    required_conversation_resolution: flag,
    lock_branch: flag,
    allow_fork_syncing: flag,
  },
  { requiredKeys: [] },
);

const bypassActorArb: fc.Arbitrary<RulesetBypassActor> = fc.record({
  actor_id: fc.option(fc.constantFrom(1, 2, 4, 5, 77, 78, 1001, APP_ID), { nil: null }),
  actor_type: fc.constantFrom(
    "Integration",
    "OrganizationAdmin",
    "RepositoryRole",
    "Team",
    "DeployKey",
    "User",
  ),
  bypass_mode: fc.constantFrom("always", "pull_request", "exempt"),
});

const ruleArb: fc.Arbitrary<{ type: string; parameters?: unknown }> = fc.oneof(
  fc.record({
    type: fc.constant("pull_request"),
    parameters: fc.record({
      required_approving_review_count: fc.integer({ min: 0, max: 10 }),
      dismiss_stale_reviews_on_push: fc.boolean(),
      require_code_owner_review: fc.boolean(),
      require_last_push_approval: fc.boolean(),
      required_review_thread_resolution: fc.boolean(),
    }),
  }),
  fc.record({
    type: fc.constant("required_status_checks"),
    parameters: fc.record({
      strict_required_status_checks_policy: fc.boolean(),
      required_status_checks: fc.array(
        fc.record({ context, integration_id: fc.constantFrom(APP_ID, 15368) }, { requiredKeys: ["context"] }),
        { maxLength: 3 },
      ),
    }),
  }),
  fc.record({
    type: fc.constantFrom(
      "required_signatures",
      "non_fast_forward",
      "deletion",
      "update",
      "creation",
      "required_linear_history",
      "merge_queue",
    ),
  }),
);

/** A ruleset with the rules it contributes to the branch. */
export interface RulesetInput {
  detail: RulesetDetail;
  rules: BranchRule[];
}

export function rulesetArb(id: number): fc.Arbitrary<RulesetInput> {
  return fc
    .record({
      name: fc.constantFrom("prod", "main", "org-baseline"),
      source_type: fc.constantFrom("Repository", "Organization"),
      enforcement: fc.constantFrom("active", "active", "evaluate", "disabled"),
      bypass_actors: fc.option(fc.array(bypassActorArb, { maxLength: 3 }), { nil: undefined, freq: 8 }),
      rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
    })
    .map(({ rules, ...rest }) => {
      const detail: RulesetDetail = { id, source: "acme", ...rest };
      return {
        detail,
        rules: rules.map((r) => ({
          ...r,
          ruleset_id: id,
          ruleset_source_type: rest.source_type,
          ruleset_source: "acme",
        })),
      };
    });
}

export const rulesetsArb: fc.Arbitrary<RulesetInput[]> = fc
  .integer({ min: 0, max: 3 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rulesetArb(100 + i))));

export const policyArb: fc.Arbitrary<ProtectionPolicy> = fc.record({
  mode: fc.constantFrom("audit", "enforce"),
  requirePullRequest: fc.boolean(),
  requiredApprovals: fc.integer({ min: 0, max: 6 }),
  requireCodeOwnerReview: fc.boolean(),
  dismissStaleReviews: fc.boolean(),
  requireLastPushApproval: fc.boolean(),
  requireSignedCommits: fc.boolean(),
  requirePullgateCheck: fc.boolean(),
  requireUpToDate: fc.boolean(),
  allowForcePushes: fc.boolean(),
  allowDeletions: fc.boolean(),
  enforceAdmins: fc.boolean(),
  allowedBypass: fc.subarray(["@alice", "@acme/release", "app:2740", "role:maintain"]),
});
