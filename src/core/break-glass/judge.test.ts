import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuleResult } from "../verdict/types.js";
import { combinedStatus } from "../verdict/combine.js";
import { applyBreakGlass, judgeBreakGlass, type BreakGlassInput } from "./judge.js";

const HEAD = "h".repeat(40);
const OLD = "o".repeat(40);
const LABEL = "pullgate/break-glass";

function input(overrides: Partial<BreakGlassInput> = {}): BreakGlassInput {
  return {
    enabled: true,
    label: LABEL,
    labels: [LABEL],
    approvals: [
      { login: "carol", commitId: HEAD },
      { login: "dave", commitId: HEAD },
    ],
    headSha: HEAD,
    author: "alice",
    pushers: ["alice"],
    admins: ["@carol", "@acme/platform-admins"],
    teamMembers: { "acme/platform-admins": ["dave", "erin", "alice"] },
    required: 2,
    ...overrides,
  };
}

function rule(id: string, status: RuleResult["status"]): RuleResult {
  return { id, title: id, status, summary: `${id} ${status}`, satisfied: [], missing: [], fix: [] };
}

describe("judgeBreakGlass", () => {
  it("two distinct admins (one directly, one through a team), neither author nor pusher, on the head: granted", () => {
    const judgement = judgeBreakGlass(input());
    expect(judgement).toMatchObject({ ok: true, approvers: ["carol", "dave"], required: 2 });
    expect(judgement.text).toMatch(/^BREAK-GLASS: @carol, @dave/);
  });

  const refusals: [string, Partial<BreakGlassInput>, RegExp][] = [
    ["one admin alone", { approvals: [{ login: "carol", commitId: HEAD }] }, /1 of the 2/],
    [
      "one admin alone, however many times they approve (or in another letter case)",
      {
        approvals: [
          { login: "carol", commitId: HEAD },
          { login: "Carol", commitId: HEAD },
          { login: "carol", commitId: HEAD },
        ],
      },
      /@Carol: already counted/,
    ],
    [
      "the author is an admin: their approval does not count",
      { author: "dave", pushers: ["dave"] },
      /@dave: the author cannot open break-glass/,
    ],
    ["an admin who pushed to the PR", { pushers: ["alice", "dave"] }, /@dave: pushed to the pull request/],
    [
      "non-admin approvals",
      {
        approvals: [
          { login: "carol", commitId: HEAD },
          { login: "mallory", commitId: HEAD },
          { login: "trent", commitId: HEAD },
        ],
      },
      /@mallory: not a break-glass admin; @trent: not a break-glass admin/,
    ],
    [
      "a stale approval (given on an older head)",
      {
        approvals: [
          { login: "carol", commitId: HEAD },
          { login: "dave", commitId: OLD },
        ],
      },
      /@dave: approved an older head/,
    ],
    [
      "an admin team whose members are unknown counts nobody",
      { teamMembers: {} },
      /@dave: not a break-glass admin/,
    ],
    [
      "an email principal never matches a login",
      { admins: ["@carol", "dave@example.com"], teamMembers: {} },
      /@dave: not a break-glass admin/,
    ],
    ["the label alone gives nothing", { approvals: [] }, /0 of the 2 distinct policy admins/],
    [
      "a policy asking for 3 admins",
      { required: 3 },
      /2 of the 3 distinct policy admins it needs approved this head \(@carol, @dave\)/,
    ],
  ];
  for (const [name, overrides, text] of refusals) {
    it(`refused: ${name}`, () => {
      const judgement = judgeBreakGlass(input(overrides));
      expect(judgement.ok).toBe(false);
      if (judgement.ok) return;
      expect(judgement.requested).toBe(true);
      expect(judgement.refusals[0]?.kind).toBe("not-enough-admins");
      expect(judgement.text).toMatch(text);
    });
  }

  it("refused: the label absent (not requested), and break-glass disabled by policy", () => {
    expect(judgeBreakGlass(input({ labels: ["urgent"] }))).toMatchObject({
      ok: false,
      requested: false,
      refusals: [{ kind: "label-absent", label: LABEL }],
    });
    // A label that only looks like it.
    expect(judgeBreakGlass(input({ labels: ["Pullgate/Break-Glass"] })).ok).toBe(false);
    expect(judgeBreakGlass(input({ enabled: false }))).toMatchObject({
      ok: false,
      requested: true,
      refusals: [{ kind: "disabled" }],
    });
  });

  it("a policy asking for fewer than 2 admins still needs 2: no admin alone", () => {
    const judgement = judgeBreakGlass(
      input({ required: 1, approvals: [{ login: "carol", commitId: HEAD }] }),
    );
    expect(judgement).toMatchObject({
      ok: false,
      refusals: [{ kind: "not-enough-admins", have: 1, required: 2 }],
    });
  });

  it("property: granted only with at least two distinct admins, none the author or a pusher, all on the head", () => {
    const people = ["alice", "bob", "carol", "dave", "erin", "Carol"];
    fc.assert(
      fc.property(
        fc.array(fc.record({ login: fc.constantFrom(...people), onHead: fc.boolean() }), { maxLength: 8 }),
        fc.constantFrom(...people),
        fc.subarray(people),
        fc.subarray(["@carol", "@dave", "@erin", "@bob"]),
        fc.integer({ min: -1, max: 4 }),
        (approvals, author, pushers, admins, required) => {
          const judgement = judgeBreakGlass(
            input({
              approvals: approvals.map((a) => ({ login: a.login, commitId: a.onHead ? HEAD : OLD })),
              author,
              pushers,
              admins,
              teamMembers: {},
              required,
            }),
          );
          if (!judgement.ok) return;
          const lower = judgement.approvers.map((a) => a.toLowerCase());
          expect(new Set(lower).size).toBe(lower.length);
          expect(lower.length).toBeGreaterThanOrEqual(Math.max(2, required));
          for (const login of lower) {
            expect(login).not.toBe(author.toLowerCase());
            expect(pushers.map((p) => p.toLowerCase())).not.toContain(login);
            expect(admins).toContain(`@${login}`);
            // Its first (and only counted) approval was given on the head.
            expect(approvals.find((a) => a.login.toLowerCase() === login)?.onHead).toBe(true);
          }
        },
      ),
    );
  });
});

describe("applyBreakGlass", () => {
  const rules = [rule("signatures", "pass"), rule("codeowners", "fail"), rule("approvals", "pending")];

  it("granted: failing rules pass as skipped, the break-glass rule says so, and the outcome is used", () => {
    const outcome = applyBreakGlass(rules, judgeBreakGlass(input()));
    expect(outcome).toMatchObject({
      used: true,
      skipped: ["codeowners", "approvals"],
      approvers: ["carol", "dave"],
    });
    expect(combinedStatus(outcome.rules)).toBe("pass");
    expect(outcome.rules.find((r) => r.id === "codeowners")?.summary).toMatch(/^SKIPPED BY BREAK-GLASS: /);
    expect(outcome.rules.at(-1)).toMatchObject({ id: "break-glass", status: "pass" });
  });

  it("granted never hides an error: a rule whose facts could not be read still fails the check", () => {
    const outcome = applyBreakGlass([...rules, rule("facts", "error")], judgeBreakGlass(input()));
    expect(combinedStatus(outcome.rules)).toBe("error");
  });

  it("granted but not needed: no mark", () => {
    const outcome = applyBreakGlass([rule("signatures", "pass")], judgeBreakGlass(input()));
    expect(outcome).toMatchObject({ used: false, skipped: [] });
    expect(combinedStatus(outcome.rules)).toBe("pass");
  });

  it("refused: the rules decide, and the check says why break-glass stayed shut", () => {
    const refused = applyBreakGlass(rules, judgeBreakGlass(input({ approvals: [] })));
    expect(refused.used).toBe(false);
    expect(combinedStatus(refused.rules)).toBe("fail");
    expect(refused.rules.at(-1)).toMatchObject({ id: "break-glass", status: "fail" });
    // Not requested: nothing is added.
    const quiet = applyBreakGlass(rules, judgeBreakGlass(input({ labels: [] })));
    expect(quiet.rules).toEqual(rules);
  });
});
