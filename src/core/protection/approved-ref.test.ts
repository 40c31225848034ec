import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APP_ID, ctx, goodRules, ruleset, rulesOf } from "../../../test/protection/fixtures.js";
import {
  approvedRefProtection,
  checkApprovedRefProtection,
  mergeRecordRuleset,
  type RulesetCreateBody,
} from "./approved-ref.js";
import { effectiveProtection } from "./effective.js";
import type { BranchRule, RulesetBypassActor, RulesetDetail } from "./github-types.js";

/** What GitHub would hold once the proposed ruleset is created (id assigned by GitHub). */
function created(body: RulesetCreateBody, id = 500): { detail: RulesetDetail; rules: BranchRule[] } {
  const detail: RulesetDetail = { id, source_type: "Repository", source: "acme/deploy", ...body };
  return { detail, rules: rulesOf(detail, body.rules) };
}

function check(rulesets: { detail: RulesetDetail; rules: BranchRule[] }[]) {
  const eff = effectiveProtection(
    null,
    rulesets.flatMap((r) => r.rules),
    rulesets.map((r) => r.detail),
  );
  return checkApprovedRefProtection(eff, ctx);
}

describe("approvedRefProtection", () => {
  it("proposes a ruleset restricting creation, update and deletion of record refs to the app", () => {
    const body = approvedRefProtection({ ...ctx, recordRefPrefix: "approved/" });
    expect(body).toMatchObject({
      target: "branch",
      enforcement: "active",
      bypass_actors: [{ actor_id: APP_ID, actor_type: "Integration", bypass_mode: "always" }],
      conditions: {
        ref_name: { include: ["refs/heads/approved/*", "refs/heads/approved/**/*"], exclude: [] },
      },
    });
    expect(body.rules.map((r) => r.type)).toEqual(["creation", "update", "deletion", "non_fast_forward"]);
  });

  it("the proposed ruleset passes its own checker", () => {
    const { drift, result } = check([created(approvedRefProtection(ctx))]);
    expect(drift).toEqual([]);
    expect(result.status).toBe("pass");
    expect(result.id).toBe("approved-ref-protection");
  });

  it("fails an unprotected record ref and offers the ruleset as fix", () => {
    const { drift, result, fixPayload } = check([]);
    expect(drift.map((d) => d.setting)).toEqual(["ref_creation", "ref_update", "ref_deletion"]);
    expect(result.status).toBe("fail");
    expect(fixPayload).toEqual(approvedRefProtection(ctx));
  });

  it("flags anyone but the app who may move the record ref", () => {
    const body = approvedRefProtection(ctx);
    const extra: RulesetBypassActor[] = [
      ...body.bypass_actors,
      { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
    ];
    const { drift } = check([created({ ...body, bypass_actors: extra })]);
    expect(drift.map((d) => [d.setting, d.actual])).toEqual([
      ["ref_bypass", "role:admin may bypass creation (ruleset 'pullgate records (approved/*)' (repo))"],
      ["ref_bypass", "role:admin may bypass updates (ruleset 'pullgate records (approved/*)' (repo))"],
      ["ref_bypass", "role:admin may bypass deletion (ruleset 'pullgate records (approved/*)' (repo))"],
    ]);
  });

  it("flags rules that would stop the app itself from publishing records", () => {
    // An org-wide baseline on every branch: PRs, signatures, linear history, no app bypass.
    const org = ruleset(600, "baseline", { source_type: "Organization", source: "acme" });
    const baseline = {
      detail: org,
      rules: rulesOf(org, [...goodRules(), { type: "required_linear_history" }]),
    };
    const { drift } = check([created(approvedRefProtection(ctx)), baseline]);
    expect(drift.filter((d) => d.setting === "app_can_publish").map((d) => d.actual)).toEqual([
      "ruleset 'baseline' (org) blocks pullgate: required pull request",
      "ruleset 'baseline' (org) blocks pullgate: required status checks",
      "ruleset 'baseline' (org) blocks pullgate: required signatures",
      "ruleset 'baseline' (org) blocks pullgate: required linear history",
    ]);
    expect(drift.find((d) => d.setting === "app_can_publish")?.fix).toContain(
      "bypass list of ruleset 'baseline' (org)",
    );
  });

  it("flags a record-ref ruleset that does not let the app through", () => {
    const body = { ...approvedRefProtection(ctx), bypass_actors: [] };
    const { drift } = check([created(body)]);
    expect(drift.map((d) => d.actual)).toEqual([
      "ruleset 'pullgate records (approved/*)' (repo) blocks pullgate: creation restriction",
      "ruleset 'pullgate records (approved/*)' (repo) blocks pullgate: update restriction",
    ]);
  });

  it("a pull-request-only app bypass does not let the app push records", () => {
    const body = approvedRefProtection(ctx);
    const prOnly = {
      ...body,
      bypass_actors: [{ actor_id: APP_ID, actor_type: "Integration", bypass_mode: "pull_request" }],
    };
    const { drift } = check([created(prOnly)]);
    expect(drift.map((d) => d.setting)).toEqual(["app_can_publish", "app_can_publish"]);
  });
});

describe("mergeRecordRuleset (resetting pullgate's own ruleset)", () => {
  const required = approvedRefProtection({ ...ctx, recordRefPrefix: "approved/" });
  const own = (extra: Partial<RulesetDetail>): RulesetDetail => ({
    id: 9,
    source_type: "Repository",
    source: "acme/deploy",
    ...required,
    ...extra,
  });

  it("imposes enforcement, the app-only bypass and the required rules", () => {
    const merged = mergeRecordRuleset(
      own({
        enforcement: "disabled",
        bypass_actors: [
          { actor_id: APP_ID, actor_type: "Integration", bypass_mode: "always" },
          { actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "always" },
        ],
        rules: [{ type: "creation" }],
      }),
      required,
    );
    expect(merged.enforcement).toBe("active");
    expect(merged.bypass_actors).toEqual(required.bypass_actors);
    expect(merged.rules.map((r) => r.type)).toEqual(["creation", "update", "deletion", "non_fast_forward"]);
    expect(check([created(merged)]).drift).toEqual([]);
  });

  it("keeps patterns and rules someone added, and drops exclusions (the attack: exclude approved/production)", () => {
    const merged = mergeRecordRuleset(
      own({
        conditions: {
          ref_name: {
            include: ["refs/heads/approved/*", "refs/heads/release/*"],
            exclude: ["refs/heads/approved/production"],
          },
        },
        rules: [...required.rules, { type: "required_linear_history" }],
      }),
      required,
    );
    expect(merged.conditions.ref_name).toEqual({
      include: ["refs/heads/approved/*", "refs/heads/approved/**/*", "refs/heads/release/*"],
      exclude: [],
    });
    expect(merged.rules.map((r) => r.type)).toContain("required_linear_history");
  });

  it("never covers fewer refs or carries fewer rule types than before, nor fewer than required", () => {
    const pattern = fc.constantFrom(
      "refs/heads/approved/*",
      "refs/heads/release/*",
      "~ALL",
      "refs/heads/main",
    );
    const type = fc.constantFrom(
      "creation",
      "update",
      "deletion",
      "non_fast_forward",
      "pull_request",
      "required_signatures",
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(pattern),
        fc.uniqueArray(pattern),
        fc.uniqueArray(type),
        (include, exclude, types) => {
          const before = own({
            conditions: { ref_name: { include, exclude } },
            rules: types.map((t) => ({ type: t })),
          });
          const merged = mergeRecordRuleset(before, required);
          for (const p of [...include, ...required.conditions.ref_name.include])
            expect(merged.conditions.ref_name.include).toContain(p);
          expect(merged.conditions.ref_name.exclude).toEqual([]);
          const after = merged.rules.map((r) => r.type);
          for (const t of [...types, ...required.rules.map((r) => r.type)]) expect(after).toContain(t);
          expect(merged.bypass_actors).toEqual(required.bypass_actors);
          expect(merged.enforcement).toBe("active");
        },
      ),
    );
  });
});
