import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classicArb, policyArb } from "../../../test/protection/arbitraries.js";
import { APP_ID, ctx, goodClassic, strictPolicy } from "../../../test/protection/fixtures.js";
import { compareProtection } from "./compare.js";
import { effectiveProtection } from "./effective.js";
import {
  CLASSIC_MAX_APPROVALS,
  ProtectionFixError,
  protectionFix,
  protectionFixPayload,
  type ActorNames,
  type ClassicProtectionUpdate,
} from "./fix.js";
import type { ActorLists, ClassicProtection } from "./github-types.js";

describe("protectionFixPayload", () => {
  it("protects an unprotected branch with everything the policy requires", () => {
    expect(protectionFixPayload(null, strictPolicy(), ctx)).toEqual({
      required_status_checks: { strict: true, checks: [{ context: "pullgate", app_id: APP_ID }] },
      enforce_admins: true,
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: 2,
        require_last_push_approval: true,
        bypass_pull_request_allowances: { users: [], teams: [], apps: [] },
      },
      restrictions: null,
      required_linear_history: false,
      allow_force_pushes: false,
      allow_deletions: false,
      block_creations: false,
      required_conversation_resolution: false,
      lock_branch: false,
      allow_fork_syncing: false,
    });
    expect(protectionFix(null, strictPolicy(), ctx).enableRequiredSignatures).toBe(true);
  });

  it("keeps existing checks with their sources and pins pullgate's check to the app", () => {
    const classic = goodClassic();
    classic.required_status_checks = {
      strict: false,
      contexts: ["lint", "pullgate", "ci/build"],
      checks: [
        { context: "pullgate", app_id: null },
        { context: "ci/build", app_id: 15368 },
      ],
    };
    expect(protectionFixPayload(classic, strictPolicy(), ctx).required_status_checks).toEqual({
      strict: true,
      checks: [
        { context: "pullgate", app_id: APP_ID },
        { context: "ci/build", app_id: 15368 },
        // A context GitHub reported without a check entry stays "any source", explicitly.
        { context: "lint", app_id: -1 },
      ],
    });
  });

  it("replaces a 'pullgate' check pinned elsewhere, and never loses a pin on a duplicated context", () => {
    const classic = goodClassic();
    classic.required_status_checks = {
      strict: true,
      contexts: ["pullgate", "deploy"],
      checks: [
        { context: "pullgate", app_id: 999 },
        { context: "deploy", app_id: null },
        { context: "deploy", app_id: 15368 },
      ],
    };
    expect(protectionFixPayload(classic, strictPolicy(), ctx).required_status_checks?.checks).toEqual([
      { context: "pullgate", app_id: APP_ID },
      { context: "deploy", app_id: 15368 },
    ]);
  });

  it("keeps stricter existing settings the policy does not ask for", () => {
    const classic: ClassicProtection = {
      ...goodClassic(),
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: 5,
        require_last_push_approval: true,
        dismissal_restrictions: {
          users: [{ login: "alice", id: 1 }],
          teams: [{ slug: "release", id: 77 }],
          apps: [],
        },
      },
      restrictions: {
        users: [],
        teams: [{ slug: "release", id: 77 }],
        apps: [{ slug: "pullgate", id: APP_ID }],
      },
      required_linear_history: { enabled: true },
      lock_branch: { enabled: true },
      required_conversation_resolution: { enabled: true },
      block_creations: { enabled: true },
    };
    const loose = strictPolicy({ requiredApprovals: 1, enforceAdmins: false, requireSignedCommits: false });
    const put = protectionFixPayload(classic, loose, ctx);
    expect(put.required_pull_request_reviews?.required_approving_review_count).toBe(5);
    expect(put.required_pull_request_reviews?.dismissal_restrictions).toEqual({
      users: ["alice"],
      teams: ["release"],
      apps: [],
    });
    expect(put.restrictions).toEqual({ users: [], teams: ["release"], apps: ["pullgate"] });
    expect(put.enforce_admins).toBe(true);
    expect(put.required_linear_history && put.lock_branch && put.required_conversation_resolution).toBe(true);
    expect(put.block_creations).toBe(true);
    expect(protectionFix(classic, loose, ctx).enableRequiredSignatures).toBe(true);
  });

  it("removes PR-bypass allowances the policy does not allow, keeps the allowed ones", () => {
    const classic = goodClassic();
    classic.required_pull_request_reviews = {
      ...classic.required_pull_request_reviews,
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      bypass_pull_request_allowances: {
        users: [
          { login: "mallory", id: 1001 },
          { login: "alice", id: 1 },
        ],
        teams: [
          { slug: "everyone", id: 78 },
          { slug: "release", id: 77 },
        ],
        apps: [
          { slug: "renovate", id: 2740 },
          { slug: "pullgate", id: APP_ID },
        ],
      },
    };
    const policy = strictPolicy({ allowedBypass: ["@alice", "@acme/release"] });
    expect(
      protectionFixPayload(classic, policy, ctx).required_pull_request_reviews
        ?.bypass_pull_request_allowances,
    ).toEqual({
      users: ["alice"],
      teams: ["release"],
      apps: ["pullgate"],
    });
  });

  it("clamps approvals to classic protection's maximum and says a ruleset is needed", () => {
    const policy = strictPolicy({ requiredApprovals: 8, mode: "enforce" });
    expect(
      protectionFixPayload(null, policy, ctx).required_pull_request_reviews?.required_approving_review_count,
    ).toBe(CLASSIC_MAX_APPROVALS);
    const { result } = compareProtection(effectiveProtection(null, [], []), policy, ctx);
    expect(result.fix.join("\n")).toContain("at most 6 required approvals");
  });

  it("refuses to rebuild restrictions it cannot name (a PUT would drop them)", () => {
    const classic = { ...goodClassic(), restrictions: { users: [{ id: 12 }], teams: [], apps: [] } };
    expect(() => protectionFixPayload(classic, strictPolicy(), ctx)).toThrow(ProtectionFixError);
    try {
      protectionFixPayload(classic, strictPolicy(), ctx);
    } catch (error) {
      expect((error as ProtectionFixError).code).toBe("UNNAMED_ACTOR");
    }
  });

  it("property: the payload never weakens the existing protection nor falls short of the policy", () => {
    fc.assert(
      fc.property(fc.option(classicArb, { nil: null }), policyArb, (classic, policy) => {
        const { put, enableRequiredSignatures } = protectionFix(classic, policy, ctx);
        const c: ClassicProtection = classic ?? {};
        const reviews = put.required_pull_request_reviews;
        const old = c.required_pull_request_reviews;

        // Pull request reviews: present if they were or are required; each knob >= both.
        if (old || policy.requirePullRequest || policy.requiredApprovals > 0) expect(reviews).not.toBeNull();
        if (reviews) {
          expect(reviews.required_approving_review_count).toBeGreaterThanOrEqual(
            old?.required_approving_review_count ?? 0,
          );
          expect(reviews.required_approving_review_count).toBeGreaterThanOrEqual(policy.requiredApprovals);
          atLeast(reviews.dismiss_stale_reviews, old?.dismiss_stale_reviews, policy.dismissStaleReviews);
          atLeast(
            reviews.require_code_owner_reviews,
            old?.require_code_owner_reviews,
            policy.requireCodeOwnerReview,
          );
          atLeast(
            reviews.require_last_push_approval,
            old?.require_last_push_approval,
            policy.requireLastPushApproval,
          );
          // Bypass only narrows.
          expectSubset(reviews.bypass_pull_request_allowances, old?.bypass_pull_request_allowances);
          if (old?.dismissal_restrictions) {
            expect(reviews.dismissal_restrictions).toEqual(namesOf(old.dismissal_restrictions));
          }
        }

        // Status checks: every existing requirement kept with its source, pullgate pinned if required.
        const checks = put.required_status_checks?.checks ?? [];
        for (const check of c.required_status_checks?.checks ?? []) {
          const kept = checks.filter((k) => k.context === check.context);
          expect(kept.length).toBeGreaterThan(0);
          if (check.context === "pullgate" && policy.requirePullgateCheck) continue;
          if (typeof check.app_id === "number") {
            // A pinned requirement stays pinned to the same app.
            expect(kept.map((k) => k.app_id)).toContain(check.app_id);
          }
        }
        for (const context of c.required_status_checks?.contexts ?? []) {
          expect(checks.map((k) => k.context)).toContain(context);
        }
        if (policy.requirePullgateCheck)
          expect(checks).toContainEqual({ context: "pullgate", app_id: APP_ID });
        atLeast(
          put.required_status_checks?.strict ?? false,
          c.required_status_checks?.strict,
          policy.requireUpToDate,
        );

        // Everything else: never less strict than before or than the policy.
        atLeast(put.enforce_admins, c.enforce_admins?.enabled, policy.enforceAdmins);
        atLeast(enableRequiredSignatures, c.required_signatures?.enabled, policy.requireSignedCommits);
        atMost(put.allow_force_pushes, c.allow_force_pushes?.enabled === true, policy.allowForcePushes);
        atMost(put.allow_deletions, c.allow_deletions?.enabled === true, policy.allowDeletions);
        expect(put.restrictions).toEqual(c.restrictions ? namesOf(c.restrictions) : null);
        expect(put.lock_branch).toBe(c.lock_branch?.enabled === true);
        expect(put.required_linear_history).toBe(c.required_linear_history?.enabled === true);
        expect(put.required_conversation_resolution).toBe(
          c.required_conversation_resolution?.enabled === true,
        );
        expect(put.block_creations).toBe(c.block_creations?.enabled === true);
      }),
      { numRuns: 500 },
    );
  });

  it("property: once GitHub applies the fix, classic protection alone meets the policy", () => {
    fc.assert(
      fc.property(fc.option(classicArb, { nil: null }), policyArb, (classic, policy) => {
        const fix = protectionFix(classic, policy, ctx);
        const applied = applyAsGitHub(fix.put, fix.enableRequiredSignatures, classic);
        const { drift } = compareProtection(effectiveProtection(applied, [], []), policy, ctx);
        expect(drift).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

function atLeast(value: boolean, existing: boolean | undefined, required: boolean): void {
  if (existing === true || required) expect(value).toBe(true);
}

function atMost(value: boolean, existing: boolean, allowedByPolicy: boolean): void {
  if (!existing || !allowedByPolicy) expect(value).toBe(false);
}

function namesOf(lists: ActorLists): ActorNames {
  return {
    users: (lists.users ?? []).map((u) => u.login ?? ""),
    teams: (lists.teams ?? []).map((t) => t.slug ?? ""),
    apps: (lists.apps ?? []).map((a) => a.slug ?? ""),
  };
}

function expectSubset(names: ActorNames, before: ActorLists | undefined): void {
  const old = before ? namesOf(before) : { users: [], teams: [], apps: [] };
  for (const u of names.users) expect(old.users).toContain(u);
  for (const t of names.teams) expect(old.teams).toContain(t);
  for (const a of names.apps) expect(old.apps).toContain(a);
}

/** What GET returns after GitHub applies the PUT (ids looked up from the protection it replaced). */
function applyAsGitHub(
  put: ClassicProtectionUpdate,
  signatures: boolean,
  before: ClassicProtection | null,
): ClassicProtection {
  const ids = new Map<string, number>();
  const remember = (lists?: ActorLists | null) => {
    for (const u of lists?.users ?? []) if (u.login && u.id !== undefined) ids.set(`u:${u.login}`, u.id);
    for (const t of lists?.teams ?? []) if (t.slug && t.id !== undefined) ids.set(`t:${t.slug}`, t.id);
    for (const a of lists?.apps ?? []) if (a.slug && a.id !== undefined) ids.set(`a:${a.slug}`, a.id);
  };
  remember(before?.required_pull_request_reviews?.bypass_pull_request_allowances);
  remember(before?.required_pull_request_reviews?.dismissal_restrictions);
  remember(before?.restrictions);
  const objects = (n: ActorNames): ActorLists => ({
    users: n.users.map((login) => ({ login, id: ids.get(`u:${login}`) ?? 0 })),
    teams: n.teams.map((slug) => ({ slug, id: ids.get(`t:${slug}`) ?? 0 })),
    apps: n.apps.map((slug) => ({ slug, id: ids.get(`a:${slug}`) ?? 0 })),
  });
  const rs = put.required_status_checks;
  const rv = put.required_pull_request_reviews;
  return {
    required_status_checks: rs
      ? {
          strict: rs.strict,
          contexts: rs.checks.map((c) => c.context),
          checks: rs.checks.map((c) => ({ context: c.context, app_id: c.app_id === -1 ? null : c.app_id })),
        }
      : null,
    enforce_admins: { enabled: put.enforce_admins },
    required_pull_request_reviews: rv
      ? {
          dismiss_stale_reviews: rv.dismiss_stale_reviews,
          require_code_owner_reviews: rv.require_code_owner_reviews,
          required_approving_review_count: rv.required_approving_review_count,
          require_last_push_approval: rv.require_last_push_approval,
          bypass_pull_request_allowances: objects(rv.bypass_pull_request_allowances),
          ...(rv.dismissal_restrictions
            ? { dismissal_restrictions: objects(rv.dismissal_restrictions) }
            : {}),
        }
      : null,
    restrictions: put.restrictions ? objects(put.restrictions) : null,
    required_signatures: { enabled: signatures },
    required_linear_history: { enabled: put.required_linear_history },
    allow_force_pushes: { enabled: put.allow_force_pushes },
    allow_deletions: { enabled: put.allow_deletions },
    block_creations: { enabled: put.block_creations },
    required_conversation_resolution: { enabled: put.required_conversation_resolution },
    lock_branch: { enabled: put.lock_branch },
    allow_fork_syncing: { enabled: put.allow_fork_syncing },
  };
}
