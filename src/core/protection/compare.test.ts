import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classicArb, policyArb, rulesetArb, rulesetsArb } from "../../../test/protection/arbitraries.js";
import {
  APP_ID,
  ctx,
  goodClassic,
  goodRules,
  ruleset,
  rulesOf,
  strictPolicy,
} from "../../../test/protection/fixtures.js";
import { compareProtection, type Drift } from "./compare.js";
import { effectiveProtection } from "./effective.js";
import type { BranchRule, ClassicProtection, RulesetDetail } from "./github-types.js";

function compare(
  classic: ClassicProtection | null,
  rules: BranchRule[] = [],
  rulesets: RulesetDetail[] = [],
  policy = strictPolicy(),
) {
  return compareProtection(effectiveProtection(classic, rules, rulesets), policy, ctx);
}

function settings(drift: Drift[]): string[] {
  return drift.map((d) => d.setting);
}

describe("compareProtection", () => {
  it("passes a branch whose classic protection meets the policy", () => {
    const { drift, result } = compare(goodClassic());
    expect(drift).toEqual([]);
    expect(result).toMatchObject({ id: "protection", status: "pass", missing: [], fix: [] });
    expect(result.satisfied).toContain(
      "required approvals: at least 2, enforced by classic branch protection",
    );
  });

  it("fails an unprotected branch on every required setting", () => {
    const { drift, result } = compare(null);
    expect(settings(drift)).toEqual([
      "pull_request",
      "required_approvals",
      "code_owner_review",
      "dismiss_stale_reviews",
      "last_push_approval",
      "signed_commits",
      "pullgate_check",
      "up_to_date",
      "force_pushes",
      "deletions",
    ]);
    expect(result.status).toBe("fail");
    expect(result.summary).toContain("no protection at all");
    expect(result.missing[0]).toEqual({
      kind: "protection",
      setting: "pull_request",
      expected: "required",
      actual: "not required",
    });
    expect(result.fix[0]).toContain('"Require a pull request before merging"');
  });

  it("catches protection weakened by an admin: approvals 2 -> 1 and stale dismissal off", () => {
    const classic = goodClassic();
    classic.required_pull_request_reviews = {
      ...classic.required_pull_request_reviews,
      dismiss_stale_reviews: false,
      require_code_owner_reviews: true,
      required_approving_review_count: 1,
    };
    const { drift, result } = compare(classic);
    expect(drift).toEqual([
      {
        setting: "required_approvals",
        expected: "at least 2",
        actual: "1 (classic branch protection)",
        fix: 'Set "Required number of approvals before merging" (required_approving_review_count) to at least 2.',
      },
      {
        setting: "dismiss_stale_reviews",
        expected: "on",
        actual: "off",
        fix: expect.stringContaining('"Dismiss stale pull request approvals when new commits are pushed"'),
      },
    ]);
    expect(result.status).toBe("fail");
  });

  it("passes an org ruleset that satisfies the policy without any classic protection", () => {
    const prod = ruleset(7, "prod", {
      source_type: "Organization",
      source: "acme",
      // pullgate's own app may bypass: it is the one actor the policy always allows.
      bypass_actors: [{ actor_id: APP_ID, actor_type: "Integration", bypass_mode: "always" }],
    });
    const { drift, result } = compare(null, rulesOf(prod, goodRules()), [prod]);
    expect(drift).toEqual([]);
    expect(result.status).toBe("pass");
    expect(result.summary).toContain("ruleset 'prod' (org)");
    expect(result.satisfied).toContain("signed commits: required, enforced by ruleset 'prod' (org)");
  });

  it("flags a ruleset whose bypass list lets every writer skip the rules", () => {
    const main = ruleset(8, "main", {
      bypass_actors: [{ actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "always" }],
    });
    const { drift, result } = compare(null, rulesOf(main, goodRules()), [main]);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ setting: "bypass", expected: "bypass only by nobody (and pullgate)" });
    expect(drift[0]?.actual).toMatch(
      /^role:write may bypass pull request, required approvals, .*force pushes, branch deletion \(ruleset 'main' \(repo\)\)$/,
    );
    expect(drift[0]?.fix).toBe("Remove role:write from the bypass list of ruleset 'main' (repo).");
    expect(result.status).toBe("fail");
    // Nothing counts as satisfied while anyone with write access can skip it.
    expect(result.satisfied).toEqual([]);
  });

  it("accepts bypass actors the policy allows, resolving team ids to @org/slug", () => {
    const main = ruleset(9, "main", {
      bypass_actors: [
        { actor_id: 77, actor_type: "Team", bypass_mode: "pull_request" },
        { actor_id: 2740, actor_type: "Integration", bypass_mode: "always" },
      ],
    });
    const policy = strictPolicy({ allowedBypass: ["@acme/release", "app:2740"] });
    expect(compare(null, rulesOf(main, goodRules()), [main], policy).drift).toEqual([]);
    // An unresolvable team id is not assumed to be the allowed one.
    const other = ruleset(10, "main", {
      bypass_actors: [{ actor_id: 55, actor_type: "Team", bypass_mode: "always" }],
    });
    const { drift } = compare(null, rulesOf(other, goodRules()), [other], policy);
    expect(drift.map((d) => d.actual.split(" ")[0])).toEqual(["team:55"]);
  });

  it("flags classic PR bypass allowances beyond the policy, and only for the PR settings", () => {
    const classic = goodClassic();
    classic.required_pull_request_reviews = {
      ...classic.required_pull_request_reviews,
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      bypass_pull_request_allowances: { users: [{ login: "mallory", id: 1001 }], teams: [], apps: [] },
    };
    const { drift } = compare(classic);
    expect(drift).toEqual([
      {
        setting: "bypass",
        expected: "bypass only by nobody (and pullgate)",
        actual:
          "@mallory may bypass pull request, required approvals, code owner review, stale review dismissal, last-push approval (classic branch protection)",
        fix: 'Remove @mallory from "Allow specified actors to bypass required pull requests" (bypass_pull_request_allowances) in the classic branch protection rule.',
      },
    ]);
  });

  it("treats a ruleset whose bypass list GitHub hides as bypassable by anyone", () => {
    const hidden = ruleset(17, "prod", { source_type: "Organization" });
    delete hidden.bypass_actors;
    const { drift, result } = compare(null, rulesOf(hidden, goodRules()), [hidden]);
    expect(drift).toHaveLength(1);
    expect(drift[0]?.actual).toMatch(/^anyone on an unreadable bypass list may bypass pull request/);
    expect(drift[0]?.fix).toContain("Let pullgate read the bypass list of ruleset 'prod' (org)");
    expect(result.summary).toContain("bypass list not readable");
  });

  it("does not count a ruleset in evaluate mode", () => {
    const trial = ruleset(11, "prod", { enforcement: "evaluate" });
    const { result } = compare(null, rulesOf(trial, goodRules()), [trial]);
    expect(result.status).toBe("fail");
    expect(result.summary).toContain('enforcement is "evaluate"');
    expect(result.missing.map((m) => (m.kind === "protection" ? m.setting : m.kind))).toContain(
      "signed_commits",
    );
  });

  describe("pullgate's required check must be pinned to the app", () => {
    it("attack: a check required by context only can be satisfied by anyone posting a 'pullgate' status", () => {
      const classic = goodClassic();
      classic.required_status_checks = {
        strict: true,
        contexts: ["pullgate"],
        checks: [{ context: "pullgate", app_id: null }],
      };
      const { drift, result } = compare(classic);
      expect(drift).toEqual([
        {
          setting: "pullgate_check",
          expected: `required, pinned to app pullgate (${APP_ID})`,
          actual: "required from any source (classic branch protection)",
          fix: expect.stringContaining(`checks: [{context: "pullgate", app_id: ${APP_ID}}]`),
        },
      ]);
      expect(result.status).toBe("fail");
    });

    it("flags a check pinned to another app, or a ruleset check without integration_id", () => {
      const classic = goodClassic();
      classic.required_status_checks = {
        strict: true,
        contexts: ["pullgate"],
        checks: [{ context: "pullgate", app_id: 999 }],
      };
      expect(compare(classic).drift[0]?.actual).toBe(
        "required pinned to app 999 (classic branch protection)",
      );

      const r = ruleset(12, "prod");
      const rules = goodRules().map((rule) =>
        rule.type === "required_status_checks"
          ? {
              ...rule,
              parameters: {
                strict_required_status_checks_policy: true,
                required_status_checks: [{ context: "pullgate" }],
              },
            }
          : rule,
      );
      expect(compare(null, rulesOf(r, rules), [r]).drift).toEqual([
        expect.objectContaining({
          setting: "pullgate_check",
          actual: "required from any source (ruleset 'prod' (repo))",
        }),
      ]);
    });

    it("passes when one source pins it, even if another also requires it unpinned", () => {
      const classic = goodClassic();
      classic.required_status_checks = { strict: true, contexts: ["pullgate"], checks: [] };
      const r = ruleset(13, "prod");
      const rules = rulesOf(
        r,
        goodRules().filter((rule) => rule.type === "required_status_checks"),
      );
      expect(compare(classic, rules, [r]).drift).toEqual([]);
    });
  });

  it("flags force pushes allowed", () => {
    const classic = { ...goodClassic(), allow_force_pushes: { enabled: true } };
    const { drift } = compare(classic);
    expect(drift).toEqual([
      expect.objectContaining({ setting: "force_pushes", expected: "blocked", actual: "allowed" }),
    ]);
    expect(drift[0]?.fix).toContain('"Allow force pushes"');
    expect(compare(classic, [], [], strictPolicy({ allowForcePushes: true })).drift).toEqual([]);
  });

  it("flags enforce_admins off, unless the policy lets admins bypass", () => {
    const classic = { ...goodClassic(), enforce_admins: { enabled: false } };
    const { drift } = compare(classic);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ setting: "enforce_admins", expected: "administrators included" });
    expect(drift[0]?.actual).toMatch(
      /^repository admins and organization owners \(enforce_admins off\) may bypass pull request/,
    );
    expect(drift[0]?.fix).toBe(
      'Enable "Do not allow bypassing the above settings" (enforce_admins: true) in the classic branch protection rule.',
    );
    expect(compare(classic, [], [], strictPolicy({ enforceAdmins: false })).drift).toEqual([]);
  });

  it("flags organization-admin and repository-admin ruleset bypass when admins must be included", () => {
    const r = ruleset(14, "prod", {
      bypass_actors: [
        { actor_id: 1, actor_type: "OrganizationAdmin", bypass_mode: "always" },
        { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
      ],
    });
    const { drift } = compare(null, rulesOf(r, goodRules()), [r]);
    expect(drift.map((d) => [d.setting, d.actual.split(" ")[0]])).toEqual([
      ["enforce_admins", "role:organization-admin"],
      ["enforce_admins", "role:admin"],
    ]);
    // Even listing admins in allowedBypass does not override enforceAdmins.
    const listed = compare(
      null,
      rulesOf(r, goodRules()),
      [r],
      strictPolicy({ allowedBypass: ["role:admin"] }),
    );
    expect(listed.drift).toHaveLength(2);
  });

  it("a binding source neutralises another source's bypass list (an escaper must escape both)", () => {
    // Classic lets admins bypass; the org ruleset binds everyone: admins cannot skip the rules.
    const classic = { ...goodClassic(), enforce_admins: { enabled: false } };
    const org = ruleset(15, "baseline", { source_type: "Organization" });
    expect(compare(classic, rulesOf(org, goodRules()), [org]).drift).toEqual([]);
  });

  it("pull-request-only bypass does not escape force-push or deletion blocks", () => {
    const r = ruleset(16, "prod", {
      bypass_actors: [{ actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "pull_request" }],
    });
    const { drift } = compare(null, rulesOf(r, goodRules()), [r]);
    expect(drift).toHaveLength(1);
    expect(drift[0]?.actual).not.toContain("force pushes");
    expect(drift[0]?.actual).toContain("role:write (on pull requests) may bypass pull request");
  });

  it("mode off passes without checking", () => {
    const { drift, result } = compare(null, [], [], strictPolicy({ mode: "off" }));
    expect(drift).toEqual([]);
    expect(result.status).toBe("pass");
    expect(result.summary).toContain("not checked");
  });

  it("audit and enforce judge alike; enforce adds the fix payload", () => {
    const weak = { ...goodClassic(), allow_deletions: { enabled: true } };
    const audit = compare(weak);
    const enforce = compare(weak, [], [], strictPolicy({ mode: "enforce" }));
    expect(enforce.result.status).toBe(audit.result.status);
    expect(enforce.drift).toEqual(audit.drift);
    expect(audit.fixPayload).toBeUndefined();
    expect(enforce.fixPayload?.put.allow_deletions).toBe(false);
    expect(enforce.result.fix.at(-1)).toContain("PUT /repos/{owner}/{repo}/branches/{branch}/protection");
    expect(compare(goodClassic(), [], [], strictPolicy({ mode: "enforce" })).fixPayload).toBeUndefined();
  });

  it("enforce mode says so when the existing protection cannot be carried over", () => {
    const classic = {
      ...goodClassic(),
      allow_deletions: { enabled: true },
      restrictions: { users: [{ id: 5 }], teams: [], apps: [] },
    };
    const { fixPayload, result } = compare(classic, [], [], strictPolicy({ mode: "enforce" }));
    expect(fixPayload).toBeUndefined();
    expect(result.fix.at(-1)).toContain("cannot apply the fix automatically");
  });

  it("property: a verdict is fail exactly when there is drift, one missing item per drift", () => {
    fc.assert(
      fc.property(fc.option(classicArb, { nil: null }), rulesetsArb, policyArb, (classic, rs, policy) => {
        const eff = effectiveProtection(
          classic,
          rs.flatMap((r) => r.rules),
          rs.map((r) => r.detail),
        );
        const { drift, result } = compareProtection(eff, policy, ctx);
        expect(result.status).toBe(drift.length === 0 ? "pass" : "fail");
        expect(result.missing).toHaveLength(drift.length);
        expect(result.fix.length).toBeGreaterThanOrEqual(drift.length);
      }),
      { numRuns: 300 },
    );
  });

  it("property: adding a protection source never turns a passing branch into a failing one", () => {
    fc.assert(
      fc.property(
        fc.option(classicArb, { nil: null }),
        rulesetsArb,
        rulesetArb(999),
        policyArb,
        (classic, rs, extra, policy) => {
          const before = compareProtection(
            effectiveProtection(
              classic,
              rs.flatMap((r) => r.rules),
              rs.map((r) => r.detail),
            ),
            policy,
            ctx,
          );
          const all = [...rs, extra];
          const after = compareProtection(
            effectiveProtection(
              classic,
              all.flatMap((r) => r.rules),
              all.map((r) => r.detail),
            ),
            policy,
            ctx,
          );
          if (before.result.status === "pass") expect(after.result.status).toBe("pass");
        },
      ),
      { numRuns: 300 },
    );
  });
});
