import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classicArb, rulesetArb, rulesetsArb } from "../../../test/protection/arbitraries.js";
import { describeSource, effectiveProtection } from "./effective.js";
import { APP_ID, goodClassic, goodRules, ruleset, rulesOf } from "../../../test/protection/fixtures.js";
import type { EffectiveProtection, EffectiveSetting } from "./types.js";

describe("effectiveProtection", () => {
  it("reads an unprotected branch (404, no rules) as nothing enforced", () => {
    const eff = effectiveProtection(null, [], []);
    expect(eff.pullRequest.value).toBe(false);
    expect(eff.requiredApprovals.value).toBe(0);
    expect(eff.signedCommits.value).toBe(false);
    expect(eff.forcePushesBlocked.value).toBe(false);
    expect(eff.deletionsBlocked.value).toBe(false);
    expect(eff.statusChecks.value).toEqual([]);
    expect(eff.counted).toEqual([]);
    expect(eff.classic).toBeNull();
  });

  it("reads classic protection with its values, sources and no bypass when admins are enforced", () => {
    const eff = effectiveProtection(goodClassic(), [], []);
    expect(eff.pullRequest.value).toBe(true);
    expect(eff.requiredApprovals.value).toBe(2);
    expect(eff.dismissStaleReviews.value).toBe(true);
    expect(eff.codeOwnerReview.value).toBe(true);
    expect(eff.lastPushApproval.value).toBe(true);
    expect(eff.signedCommits.value).toBe(true);
    expect(eff.upToDate.value).toBe(true);
    expect(eff.forcePushesBlocked.value).toBe(true);
    expect(eff.deletionsBlocked.value).toBe(true);
    expect(eff.statusChecks.value).toEqual([
      { context: "ci/build", appId: 15368 },
      { context: "pullgate", appId: APP_ID },
    ]);
    expect(eff.pullRequest.sources).toEqual([{ source: { kind: "classic" }, value: true, bypass: [] }]);
    expect(eff.counted).toEqual([{ kind: "classic" }]);
  });

  it("lets admins bypass every classic setting when enforce_admins is off", () => {
    const classic = { ...goodClassic(), enforce_admins: { enabled: false } };
    const eff = effectiveProtection(classic, [], []);
    for (const setting of [eff.pullRequest, eff.signedCommits, eff.forcePushesBlocked, eff.statusChecks]) {
      expect(setting.sources[0]?.bypass).toEqual([{ kind: "admins", mode: "always" }]);
    }
  });

  it("scopes bypass_pull_request_allowances to the pull request settings", () => {
    const classic = goodClassic();
    classic.required_pull_request_reviews = {
      ...classic.required_pull_request_reviews,
      bypass_pull_request_allowances: {
        users: [{ login: "mallory", id: 1001 }],
        teams: [{ slug: "release", id: 77 }],
        apps: [{ slug: "renovate", id: 2740 }],
      },
    };
    const eff = effectiveProtection(classic, [], []);
    expect(eff.requiredApprovals.sources[0]?.bypass).toEqual([
      { kind: "user", id: 1001, login: "mallory", mode: "always" },
      { kind: "team", id: 77, slug: "release", mode: "always" },
      { kind: "app", id: 2740, slug: "renovate", mode: "always" },
    ]);
    expect(eff.statusChecks.sources[0]?.bypass).toEqual([]);
    expect(eff.signedCommits.sources[0]?.bypass).toEqual([]);
  });

  it("treats a context required without a pinned check as satisfiable by any source", () => {
    const classic = goodClassic();
    classic.required_status_checks = { strict: true, contexts: ["pullgate"], checks: [] };
    const eff = effectiveProtection(classic, [], []);
    expect(eff.statusChecks.value).toEqual([{ context: "pullgate", appId: null }]);
  });

  it("does not credit strictness when no check is required (GitHub ignores it)", () => {
    const classic = goodClassic();
    classic.required_status_checks = { strict: true, contexts: [], checks: [] };
    expect(effectiveProtection(classic, [], []).upToDate.value).toBe(false);
  });

  it("credits only an explicit allow_force_pushes/allow_deletions false", () => {
    const classic = goodClassic();
    delete classic.allow_force_pushes;
    classic.allow_deletions = { enabled: true };
    const eff = effectiveProtection(classic, [], []);
    expect(eff.forcePushesBlocked.value).toBe(false);
    expect(eff.deletionsBlocked.value).toBe(false);
  });

  it("reads an org ruleset's rules with their source and bypass list", () => {
    const prod = ruleset(7, "prod", {
      source_type: "Organization",
      source: "acme",
      bypass_actors: [{ actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "always" }],
    });
    const eff = effectiveProtection(null, rulesOf(prod, goodRules()), [prod]);
    expect(eff.requiredApprovals.value).toBe(2);
    expect(eff.statusChecks.value).toEqual([{ context: "pullgate", appId: APP_ID }]);
    expect(eff.upToDate.value).toBe(true);
    const source = eff.pullRequest.sources[0]?.source;
    expect(source && describeSource(source)).toBe("ruleset 'prod' (org)");
    expect(eff.pullRequest.sources[0]?.bypass).toEqual([
      { kind: "repository-role", roleId: 4, mode: "always" },
    ]);
  });

  it("does not count a ruleset in evaluate mode, and says so", () => {
    const trial = ruleset(8, "trial", { enforcement: "evaluate" });
    const eff = effectiveProtection(null, rulesOf(trial, goodRules()), [trial]);
    expect(eff.pullRequest.value).toBe(false);
    expect(eff.signedCommits.value).toBe(false);
    expect(eff.counted).toEqual([]);
    expect(eff.notes.join("\n")).toContain('enforcement is "evaluate"');
  });

  it("does not credit a rule whose ruleset details are missing (bypass list unknown)", () => {
    const hidden = ruleset(9, "hidden");
    const eff = effectiveProtection(null, rulesOf(hidden, goodRules()), []);
    expect(eff.pullRequest.value).toBe(false);
    expect(eff.notes.join("\n")).toContain("ruleset details missing");
    const noId = effectiveProtection(null, [{ type: "required_signatures" }], []);
    expect(noId.signedCommits.value).toBe(false);
  });

  it("does not credit malformed rule parameters", () => {
    const r = ruleset(10, "odd");
    const eff = effectiveProtection(
      null,
      rulesOf(r, [
        {
          type: "pull_request",
          parameters: { required_approving_review_count: "5", dismiss_stale_reviews_on_push: "yes" },
        },
        {
          type: "required_status_checks",
          parameters: { required_status_checks: [{ name: "pullgate" }, 3, null] },
        },
      ]),
      [r],
    );
    expect(eff.pullRequest.value).toBe(true);
    expect(eff.requiredApprovals.value).toBe(0);
    expect(eff.dismissStaleReviews.value).toBe(false);
    expect(eff.statusChecks.value).toEqual([]);
  });

  it("does not let pull-request-only bypassers escape push rules; deploy keys always push", () => {
    const r = ruleset(11, "main", {
      bypass_actors: [
        { actor_id: 77, actor_type: "Team", bypass_mode: "pull_request" },
        { actor_id: null, actor_type: "DeployKey", bypass_mode: "pull_request" },
      ],
    });
    const eff = effectiveProtection(null, rulesOf(r, goodRules()), [r]);
    expect(eff.forcePushesBlocked.sources[0]?.bypass).toEqual([{ kind: "deploy-key", mode: "always" }]);
    expect(eff.pullRequest.sources[0]?.bypass).toHaveLength(2);
  });

  it("combines sources most restrictive wins, remembering who provides what", () => {
    const classic = goodClassic();
    classic.required_pull_request_reviews = {
      dismiss_stale_reviews: false,
      require_code_owner_reviews: false,
      required_approving_review_count: 1,
    };
    const r = ruleset(12, "prod", { source_type: "Organization" });
    const eff = effectiveProtection(
      classic,
      rulesOf(r, [
        {
          type: "pull_request",
          parameters: { required_approving_review_count: 3, dismiss_stale_reviews_on_push: true },
        },
      ]),
      [r],
    );
    expect(eff.requiredApprovals.value).toBe(3);
    expect(eff.requiredApprovals.sources.map((s) => s.value)).toEqual([1, 3]);
    expect(eff.dismissStaleReviews.value).toBe(true);
    expect(eff.dismissStaleReviews.sources.map((s) => describeSource(s.source))).toEqual([
      "ruleset 'prod' (org)",
    ]);
    expect(eff.codeOwnerReview.value).toBe(false);
  });

  it("property: adding a source never lowers any effective setting nor unbinds a binding one", () => {
    fc.assert(
      fc.property(
        fc.option(classicArb, { nil: null }),
        rulesetsArb,
        rulesetArb(999),
        (classic, base, extra) => {
          const before = effectiveProtection(
            classic,
            base.flatMap((r) => r.rules),
            base.map((r) => r.detail),
          );
          const withRuleset = effectiveProtection(
            classic,
            [...base, extra].flatMap((r) => r.rules),
            [...base, extra].map((r) => r.detail),
          );
          expectAtLeast(withRuleset, before);
          if (classic === null) return;
          // Adding classic protection to rulesets alone.
          const rulesetsOnly = effectiveProtection(
            null,
            base.flatMap((r) => r.rules),
            base.map((r) => r.detail),
          );
          expectAtLeast(before, rulesetsOnly);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const BOOLS = [
  "pullRequest",
  "codeOwnerReview",
  "dismissStaleReviews",
  "lastPushApproval",
  "reviewThreadResolution",
  "signedCommits",
  "linearHistory",
  "upToDate",
  "forcePushesBlocked",
  "deletionsBlocked",
  "updateRestricted",
  "creationRestricted",
] as const;

function binding(setting: EffectiveSetting<unknown>): boolean {
  return setting.sources.some((s) => s.bypass.length === 0);
}

function expectAtLeast(after: EffectiveProtection, before: EffectiveProtection): void {
  for (const key of BOOLS) {
    if (before[key].value) expect(after[key].value, key).toBe(true);
    if (binding(before[key])) expect(binding(after[key]), key).toBe(true);
  }
  expect(after.requiredApprovals.value).toBeGreaterThanOrEqual(before.requiredApprovals.value);
  for (const check of before.statusChecks.value) expect(after.statusChecks.value).toContainEqual(check);
}
