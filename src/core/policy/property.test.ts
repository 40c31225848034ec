import fc from "fast-check";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { policyDigest } from "./digest.js";
import type { BranchDoc, PolicyDoc, ProtectionDoc, ReviewsDoc, SignaturesDoc } from "./document.js";
import { parsePolicy } from "./parse.js";

/** Every error must be placed inside the text (1-based, at most one past the last line). */
function expectWellPlaced(text: string, file: string): void {
  const result = parsePolicy(text, file);
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const error of result.errors) {
    expect(error.file).toBe(file);
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.line).toBeLessThanOrEqual(lines + 1);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.message.length).toBeGreaterThan(0);
  }
  // Fail closed: either a policy and no errors, or errors and no policy.
  expect(result.policy === null).toBe(result.errors.length > 0);
}

const vocabulary = [
  "version",
  "admins",
  "records",
  "ref_prefix",
  "sensitive_paths",
  "defaults",
  "branches",
  "branch",
  "environment",
  "signatures",
  "required",
  "openpgp_keyrings",
  "ssh_allowed_signers",
  "scopes",
  "signers",
  "reviews",
  "required_approvals",
  "paths",
  "from",
  "approvals",
  "protection",
  "mode",
  "allowed_bypass",
];
const scalars = [
  "1",
  "0",
  "-1",
  "true",
  "no",
  "null",
  "~",
  '"@a/b"',
  "'x'",
  "main",
  "release/*",
  "[]",
  "{}",
  "[a, b]",
  "enforce",
  "&a 1",
  "*a",
  "!!str 1",
  "!!binary aGk=",
  "2001-12-14",
];

/** Lines that look like a policy: keys from the schema at random depths, with random values. */
const yamlish = fc
  .array(
    fc.record({
      indent: fc.integer({ min: 0, max: 8 }),
      dash: fc.boolean(),
      key: fc.constantFrom(...vocabulary),
      value: fc.option(fc.constantFrom(...scalars), { nil: undefined }),
      comment: fc.boolean(),
    }),
    { maxLength: 25 },
  )
  .map((lines) =>
    lines
      .map(
        (l) =>
          `${" ".repeat(l.indent)}${l.dash ? "- " : ""}${l.key}:${l.value === undefined ? "" : ` ${l.value}`}${l.comment ? " # c" : ""}`,
      )
      .join("\n"),
  );

describe("parsePolicy never throws", () => {
  it("on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => expectWellPlaced(text, "f.yml")),
      { numRuns: 500 },
    );
  });

  it("on arbitrary unicode and control characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => expectWellPlaced(text, "f.yml")),
      { numRuns: 150 },
    );
  });

  it("on YAML-ish text built from the policy's own keys", () => {
    fc.assert(
      fc.property(yamlish, (text) => expectWellPlaced(`version: 1\n${text}`, "f.yml")),
      { numRuns: 1000 },
    );
  });
});

// ---- arbitrary valid policies ----

const login = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
const principal = fc.oneof(
  login.map((l) => `@${l}`),
  fc.tuple(login, login).map(([o, t]) => `@${o}/${t}`),
);
const repoPath = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/), { minLength: 1, maxLength: 3 })
  .map((p) => p.join("/"));
const pattern = fc.stringMatching(/^\/?[a-z*]{1,6}(\/[a-z*]{1,6}){0,2}(\/\*\*)?$/);
const uniq = <T>(arb: fc.Arbitrary<T>, max: number) => fc.uniqueArray(arb, { maxLength: max });
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const signatures: fc.Arbitrary<SignaturesDoc> = fc
  .record({
    required: opt(fc.boolean()),
    openpgp_keyrings: opt(uniq(repoPath, 3)),
    ssh_allowed_signers: opt(fc.option(repoPath, { nil: null })),
    trust_web_flow: opt(fc.boolean()),
    require_signer_matches_author: opt(fc.boolean()),
    scopes: opt(
      fc.array(
        fc.record({
          signers: fc.uniqueArray(fc.stringMatching(/^[A-F0-9]{40}$/), { minLength: 1, maxLength: 2 }),
          paths: fc.uniqueArray(pattern, { minLength: 1, maxLength: 2 }),
        }),
        { maxLength: 2 },
      ),
    ),
  })
  .map(compact);

const reviews: fc.Arbitrary<ReviewsDoc> = fc
  .record({
    required_approvals: opt(fc.integer({ min: 0, max: 10 })),
    require_code_owner_review: opt(fc.boolean()),
    dismiss_stale_approvals: opt(fc.boolean()),
    require_last_push_approval: opt(fc.boolean()),
  })
  .map(compact);

const protection: fc.Arbitrary<ProtectionDoc> = fc
  .record({
    mode: opt(fc.constantFrom("off" as const, "audit" as const, "enforce" as const)),
    require_pull_request: opt(fc.boolean()),
    required_approvals: opt(fc.integer({ min: 0, max: 6 })),
    require_code_owner_review: opt(fc.boolean()),
    dismiss_stale_reviews: opt(fc.boolean()),
    require_last_push_approval: opt(fc.boolean()),
    require_signed_commits: opt(fc.boolean()),
    require_pullgate_check: opt(fc.boolean()),
    require_up_to_date: opt(fc.boolean()),
    allow_force_pushes: opt(fc.boolean()),
    allow_deletions: opt(fc.boolean()),
    enforce_admins: opt(fc.boolean()),
    allowed_bypass: opt(uniq(principal, 3)),
  })
  .map(compact);

const branchEntry = (index: number): fc.Arbitrary<BranchDoc> =>
  fc
    .record({
      glob: fc.boolean(),
      environment: opt(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)),
      signatures: opt(signatures),
      reviews: opt(reviews),
      protection: opt(protection),
      paths: opt(
        fc.array(
          fc.record({
            paths: fc.uniqueArray(pattern, { minLength: 1, maxLength: 3 }),
            teams: fc.uniqueArray(
              fc.tuple(login, login).map(([o, t]) => `@${o}/${t}`),
              { minLength: 1, maxLength: 2 },
            ),
            approvals: opt(fc.integer({ min: 1, max: 5 })),
          }),
          { maxLength: 3 },
        ),
      ),
    })
    .map((b) =>
      compact({
        // Distinct prefixes per entry: no entry can shadow another.
        branch: b.glob ? `b${index}/*` : `b${index}`,
        environment: b.glob ? (b.environment ?? `env${index}`) : b.environment,
        signatures: b.signatures,
        reviews: b.reviews,
        protection: b.protection,
        paths: b.paths?.map((rule, ruleIndex) =>
          compact({
            name: `rule-${ruleIndex}`,
            paths: rule.paths,
            approvals: rule.approvals,
            from: rule.teams,
          }),
        ),
      }),
    );

const policyDoc: fc.Arbitrary<PolicyDoc> = fc
  .record({
    admins: opt(uniq(principal, 3)),
    ref_prefix: opt(fc.constantFrom("approved/", "records/", "deploy-")),
    sensitive_paths: opt(uniq(pattern, 3)),
    defaults: opt(
      fc
        .record({ signatures: opt(signatures), reviews: opt(reviews), protection: opt(protection) })
        .map(compact),
    ),
    branchCount: fc.integer({ min: 0, max: 4 }),
    seed: fc.integer(),
  })
  .chain((d) =>
    fc.tuple(...Array.from({ length: d.branchCount }, (_, i) => branchEntry(i))).map((branches) =>
      compact<PolicyDoc>({
        version: 1,
        admins: d.admins,
        records: d.ref_prefix === undefined ? undefined : { ref_prefix: d.ref_prefix },
        sensitive_paths: d.sensitive_paths,
        defaults: d.defaults,
        branches: branches.length === 0 ? undefined : branches,
      }),
    ),
  );

describe("arbitrary valid policies", () => {
  it("round-trip: dumped to YAML they parse without errors to the same document", () => {
    fc.assert(
      fc.property(policyDoc, (doc) => {
        const result = parsePolicy(yaml.dump(doc), "gen.yml");
        expect(result.errors).toEqual([]);
        expect(result.parsed?.document).toEqual(doc);
        const policy = result.policy;
        if (policy === null) return;
        expect(policy.branches.map((b) => b.branch)).toEqual((doc.branches ?? []).map((b) => b.branch));
        (doc.branches ?? []).forEach((entry, i) => {
          const effective = policy.branches[i];
          const expectedApprovals =
            entry.reviews?.required_approvals ?? doc.defaults?.reviews?.required_approvals ?? 1;
          expect(effective?.reviews.requiredApprovals).toBe(expectedApprovals);
          const expectedMode = entry.protection?.mode ?? doc.defaults?.protection?.mode ?? "audit";
          expect(effective?.protection.mode).toBe(expectedMode);
          expect(effective?.pathRules.map((r) => r.name)).toEqual((entry.paths ?? []).map((r) => r.name));
        });
      }),
      { numRuns: 100 },
    );
  });

  it("have a digest independent of key order and formatting", () => {
    fc.assert(
      fc.property(policyDoc, (doc) => {
        const a = parsePolicy(yaml.dump(doc, { sortKeys: true }), "a.yml").policy;
        const b = parsePolicy(
          yaml.dump(doc, { flowLevel: 1, sortKeys: (x: string, y: string) => y.localeCompare(x) }),
          "b.yml",
        ).policy;
        expect(a).not.toBeNull();
        expect(b).not.toBeNull();
        if (a !== null && b !== null) expect(policyDigest(a)).toBe(policyDigest(b));
      }),
      { numRuns: 60 },
    );
  });

  it("merge with themselves into themselves (a repo restating the org policy loosens nothing)", async () => {
    const { mergePolicies } = await import("./merge.js");
    fc.assert(
      fc.property(policyDoc, (doc) => {
        const text = yaml.dump(doc);
        const org = parsePolicy(text, "org.yml").parsed;
        const repo = parsePolicy(text, "repo.yml").parsed;
        if (org === null || repo === null) throw new Error("generated policy must parse");
        const merged = mergePolicies(org, repo);
        expect(merged.errors).toEqual([]);
        expect(merged.policy).toEqual(org.policy);
      }),
      { numRuns: 60 },
    );
  });
});
