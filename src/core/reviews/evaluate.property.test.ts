/**
 * Properties of the whole review evaluation, over random PRs drawn from a small universe of users,
 * teams, files and policies (small so that collisions, case variants and edge cases are common).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { evaluateReviews } from "./evaluate.js";
import type { EvaluateReviewsInput } from "./evaluate.js";
import { combineVerdict } from "../verdict/combine.js";
import type { Verdict } from "../verdict/types.js";
import type { Permission, Review, ReviewFacts, ReviewState } from "./types.js";
import { HEAD, OLD, literalMatcher } from "./__fixtures__/facts.js";

const USERS = ["author", "Author", "alice", "ALICE", "bob", "carol", "olivia", "sam", "ada", "eve"];
const LOGINS = ["author", "alice", "bob", "carol", "olivia", "sam", "ada", "eve"];
const PERMISSIONS: Permission[] = ["admin", "maintain", "write", "triage", "read", "none"];
const STATES: ReviewState[] = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"];
const FILES = [
  "app/main.ts",
  "deploy/x.yaml",
  "deploy/secrets/db.yaml",
  ".github/CODEOWNERS",
  ".github/pullgate.yml",
  "clusters/prod/app.yaml",
  "legacy/old.txt",
  "README.md",
];
const codeowners = literalMatcher({
  "app/": ["@bob", "@Alice"],
  "deploy/": ["@acme/ops"],
  "deploy/secrets/": ["@acme/ops", "@acme/sec"],
  ".github/": ["@carol"],
  "legacy/": ["legacy@example.com"],
});

// Weighted towards approvals on the head by writers, so that passing verdicts are common enough
// for "never turns into a pass" properties to be tested on both sides.
const stateArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant<ReviewState>("APPROVED") },
  {
    weight: 1,
    arbitrary: fc.constantFrom<ReviewState>("CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"),
  },
);
const commitArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(HEAD) },
  { weight: 1, arbitrary: fc.constant(OLD) },
);
const permissionArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Permission>("write", "maintain", "admin") },
  { weight: 1, arbitrary: fc.constantFrom(...PERMISSIONS) },
);
const reviewArb = fc.record({ user: fc.constantFrom(...USERS), state: stateArb, commitId: commitArb });
const toReviews = (drafts: { user: string; state: ReviewState; commitId: string }[], firstId = 1): Review[] =>
  drafts.map((d, i) => ({ ...d, id: firstId + i, submittedAt: "2026-01-01T00:00:00Z" }));

const teamArb = fc.subarray(["alice", "bob", "carol", "olivia", "sam", "ada", "eve", "AUTHOR"]);

const inputArb: fc.Arbitrary<EvaluateReviewsInput> = fc
  .record({
    reviews: fc.array(reviewArb, { maxLength: 10 }),
    changedFiles: fc.subarray(FILES, { minLength: 1, maxLength: 3 }),
    permissions: fc
      .tuple(
        fc.record(
          Object.fromEntries(LOGINS.map((login) => [login, permissionArb])) as Record<
            string,
            typeof permissionArb
          >,
        ),
        // Occasionally the same login again in another case, with a conflicting permission.
        fc.dictionary(fc.constantFrom(...USERS), fc.constantFrom(...PERMISSIONS), { maxKeys: 2 }),
      )
      .map(([base, conflicts]) => ({ ...base, ...conflicts })),
    teams: fc.record({ ops: teamArb, sec: teamArb, admins: teamArb, sre: teamArb }),
    lastPusher: fc.option(fc.constantFrom(...USERS), { nil: null, freq: 10 }),
    // People who signed commits of the PR (any letter case): their approvals never count.
    signers: fc.subarray([...USERS], { maxLength: 2 }),
    requiredApprovals: fc.integer({ min: 0, max: 3 }),
    requireCodeOwnerReview: fc.boolean(),
    dismissStaleApprovals: fc.boolean(),
    requireLastPushApproval: fc.boolean(),
    pathRuleApprovals: fc.integer({ min: 0, max: 2 }),
  })
  .map((g) => ({
    facts: {
      author: "author",
      headSha: HEAD,
      lastPusher: g.lastPusher,
      changedFiles: g.changedFiles,
      reviews: toReviews(g.reviews),
      permissions: g.permissions,
      teamMembers: {
        "acme/ops": g.teams.ops,
        "acme/sec": g.teams.sec,
        "acme/admins": g.teams.admins,
        "acme/sre": g.teams.sre,
      },
      signers: g.signers.map((login) => ({ commit: HEAD, login })),
    },
    reviews: {
      requiredApprovals: g.requiredApprovals,
      requireCodeOwnerReview: g.requireCodeOwnerReview,
      dismissStaleApprovals: g.dismissStaleApprovals,
      requireLastPushApproval: g.requireLastPushApproval,
    },
    pathRules: [
      {
        name: "prod",
        paths: ["clusters/prod/"],
        approvals: g.pathRuleApprovals,
        from: ["@acme/sre", "@eve"],
      },
    ],
    admins: ["@acme/admins", "@ada"],
    sensitivePaths: ["CODEOWNERS", ".github/pullgate.yml"],
    codeowners,
  }));

function verdictOf(input: EvaluateReviewsInput): Verdict {
  return combineVerdict(input.facts.headSha, "sha256:" + "2".repeat(64), evaluateReviews(input));
}

function withFacts(input: EvaluateReviewsInput, facts: Partial<ReviewFacts>): EvaluateReviewsInput {
  return { ...input, facts: { ...input.facts, ...facts } };
}

function insertAt<T>(list: readonly T[], index: number, items: readonly T[]): T[] {
  const at = Math.min(index, list.length);
  return [...list.slice(0, at), ...items, ...list.slice(at)];
}

/** Everything but the explanatory notes (which legitimately mention ignored reviews). */
function withoutNotes(verdict: Verdict): Verdict {
  return { ...verdict, rules: verdict.rules.map(({ notes: _notes, ...rule }) => rule) };
}

describe("review evaluation properties", () => {
  it("adding a COMMENTED or PENDING review never changes the verdict", () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.nat(),
        fc.constantFrom(...USERS),
        fc.constantFrom<ReviewState>("COMMENTED", "PENDING"),
        fc.constantFrom(HEAD, OLD),
        (input, index, user, state, commitId) => {
          const extra = toReviews([{ user, state, commitId }], 10_000);
          const more = withFacts(input, { reviews: insertAt(input.facts.reviews, index, extra) });
          expect(verdictOf(more)).toEqual(verdictOf(input));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the author's reviews (in any letter case) never change the verdict", () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.array(
          fc.record({
            index: fc.nat(),
            user: fc.constantFrom("author", "Author", "AUTHOR"),
            state: fc.constantFrom(...STATES),
            commitId: fc.constantFrom(HEAD, OLD),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (input, extras) => {
          let reviews = input.facts.reviews;
          extras.forEach((e, i) => {
            reviews = insertAt(reviews, e.index, toReviews([e], 10_000 + i));
          });
          const more = withFacts(input, { reviews });
          expect(withoutNotes(verdictOf(more))).toEqual(withoutNotes(verdictOf(input)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a signer's approval never counts: making anyone a signer never makes a failing verdict pass", () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...USERS), (input, login) => {
        const signers = [...input.facts.signers, { commit: HEAD, login }];
        const more = verdictOf(withFacts(input, { signers }));
        if (verdictOf(input).status !== "pass") expect(more.status).not.toBe("pass");
        const approvals = more.rules.find((r) => r.id === "approvals");
        for (const line of approvals?.satisfied ?? [])
          expect(line.toLowerCase().startsWith(`@${login.toLowerCase()} `)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("removing all reviews never makes a failing verdict pass", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const before = verdictOf(input).status;
        const after = verdictOf(withFacts(input, { reviews: [] })).status;
        if (before !== "pass") expect(after).not.toBe("pass");
      }),
      { numRuns: 300 },
    );
  });

  it("invariant 3: the approvals counted are exactly those of an independent reading of the rules", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { facts, reviews: policy } = input;
        // Oracle: per lower-cased login, the last APPROVED/CHANGES_REQUESTED/DISMISSED review decides.
        const last = new Map<string, Review>();
        for (const r of facts.reviews) {
          if (r.state === "APPROVED" || r.state === "CHANGES_REQUESTED" || r.state === "DISMISSED") {
            last.set(r.user.toLowerCase(), r);
          }
        }
        const permission = (login: string): Permission => {
          const entries = Object.entries(facts.permissions).filter(([u]) => u.toLowerCase() === login);
          const order = ["none", "read", "triage", "write", "maintain", "admin"];
          return entries.length === 0
            ? "none"
            : entries.map(([, p]) => p).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0]!;
        };
        const expected = [...last.entries()].filter(
          ([login, r]) =>
            r.state === "APPROVED" &&
            login !== facts.author.toLowerCase() &&
            !facts.signers.some((s) => s.login.toLowerCase() === login) &&
            ["write", "maintain", "admin"].includes(permission(login)) &&
            (!policy.dismissStaleApprovals || r.commitId === facts.headSha) &&
            !(
              policy.requireLastPushApproval &&
              facts.lastPusher !== null &&
              login === facts.lastPusher.toLowerCase()
            ),
        ).length;
        const approvals = verdictOf(input).rules.find((r) => r.id === "approvals");
        expect(approvals?.satisfied).toHaveLength(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("a passing verdict always has every rule passing, on the evaluated head", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const verdict = verdictOf(input);
        if (verdict.status === "pass") {
          expect(verdict.rules.every((r) => r.status === "pass")).toBe(true);
          expect(verdict.headSha).toBe(input.facts.headSha);
        }
      }),
      { numRuns: 300 },
    );
  });
});
