import fc from "fast-check";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { policyDigest } from "./digest.js";
import type { BranchDoc, PolicyDoc, ProtectionDoc, ReviewsDoc, SignaturesDoc } from "./document.js";
import { SIGNER_IDENTITY_RANK, type BranchPolicy, type Policy } from "./types.js";
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
    signer_identity: opt(fc.constantFrom("any" as const, "author_or_committer" as const, "author" as const)),
    signer_logins: opt(fc.option(repoPath, { nil: null })),
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

  it("merge never yields anything looser than the org policy; any error means no policy; any tightening is accepted", async () => {
    const { mergePolicies } = await import("./merge.js");
    const pairs = fc.oneof(
      fc.tuple(policyDoc, policyDoc, fc.constant(false as boolean)),
      ...[false, true].map((sloppy) =>
        policyDoc.chain((orgDoc) => {
          const orgPolicy = parsePolicy(yaml.dump(orgDoc), "org.yml").policy;
          if (orgPolicy === null) throw new Error("generated policy must parse");
          return tightenedRepo(orgPolicy, sloppy).map((repoDoc) => [orgDoc, repoDoc, !sloppy] as const);
        }),
      ),
    );
    fc.assert(
      fc.property(pairs, ([orgDoc, repoDoc, tightened]) => {
        const org = parsePolicy(yaml.dump(orgDoc), "org.yml");
        const repo = parsePolicy(yaml.dump(repoDoc), "repo.yml");
        if (org.parsed === null || repo.parsed === null || org.policy === null) throw new Error("must parse");
        const result = mergePolicies(org.parsed, repo.parsed);
        expect(result.policy === null).toBe(result.errors.length > 0);
        if (tightened) expect(result.errors).toEqual([]);
        if (result.policy === null) return;
        const policy = result.policy;
        for (const admin of policy.admins) expect(org.policy.admins).toContain(admin);
        expect(policy.recordRefPrefix).toBe(org.policy.recordRefPrefix);
        for (const path of org.policy.sensitivePaths) expect(policy.sensitivePaths).toContain(path);
        // Org branches come first, in order, and each is at least as tight as the org's.
        org.policy.branches.forEach((orgBranch, i) => {
          const branch = policy.branches[i];
          if (branch === undefined) throw new Error("org branch lost");
          expect(branch.branch).toBe(orgBranch.branch);
          expect(branch.environment).toBe(orgBranch.environment);
          expectAtLeastAsTight(branch, orgBranch);
          expect(branch.pathRules).toEqual(expect.arrayContaining(orgBranch.pathRules));
          expect(branch.signatures.scopes).toEqual(expect.arrayContaining(orgBranch.signatures.scopes));
        });
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * "At least as tight", written out field by field independently of merge.ts's FIELD_RULES, so a
 * wrong rule there cannot make this check agree with it.
 */
function expectAtLeastAsTight(merged: BranchPolicy, org: BranchPolicy): void {
  const implies = (orgValue: boolean, mergedValue: boolean, what: string) =>
    expect(!orgValue || mergedValue, `${what} was turned off`).toBe(true);
  const never = (orgValue: boolean, mergedValue: boolean, what: string) =>
    expect(orgValue || !mergedValue, `${what} was turned on`).toBe(true);
  const subset = (mergedList: readonly unknown[], orgList: readonly unknown[], what: string) =>
    expect(
      mergedList.every((item) => orgList.includes(item)),
      `${what} grew`,
    ).toBe(true);
  const s = merged.signatures;
  implies(org.signatures.required, s.required, "signatures.required");
  subset(s.openpgpKeyrings, org.signatures.openpgpKeyrings, "openpgp keyrings");
  expect(s.sshAllowedSigners === null || s.sshAllowedSigners === org.signatures.sshAllowedSigners).toBe(true);
  never(org.signatures.trustWebFlow, s.trustWebFlow, "trust_web_flow");
  expect(
    SIGNER_IDENTITY_RANK.indexOf(s.signerIdentity),
    "signer_identity was loosened",
  ).toBeGreaterThanOrEqual(SIGNER_IDENTITY_RANK.indexOf(org.signatures.signerIdentity));
  expect(s.signerLogins === null || s.signerLogins === org.signatures.signerLogins).toBe(true);
  expect(merged.reviews.requiredApprovals).toBeGreaterThanOrEqual(org.reviews.requiredApprovals);
  implies(org.reviews.requireCodeOwnerReview, merged.reviews.requireCodeOwnerReview, "code-owner review");
  implies(org.reviews.dismissStaleApprovals, merged.reviews.dismissStaleApprovals, "stale approvals");
  implies(org.reviews.requireLastPushApproval, merged.reviews.requireLastPushApproval, "last push approval");
  const p = merged.protection;
  const o = org.protection;
  const rank = { off: 0, audit: 1, enforce: 2 };
  expect(rank[p.mode]).toBeGreaterThanOrEqual(rank[o.mode]);
  expect(p.requiredApprovals).toBeGreaterThanOrEqual(o.requiredApprovals);
  implies(o.requirePullRequest, p.requirePullRequest, "require_pull_request");
  implies(o.requireCodeOwnerReview, p.requireCodeOwnerReview, "protection code-owner review");
  implies(o.dismissStaleReviews, p.dismissStaleReviews, "dismiss_stale_reviews");
  implies(o.requireLastPushApproval, p.requireLastPushApproval, "protection last push approval");
  implies(o.requireSignedCommits, p.requireSignedCommits, "require_signed_commits");
  implies(o.requirePullgateCheck, p.requirePullgateCheck, "require_pullgate_check");
  implies(o.requireUpToDate, p.requireUpToDate, "require_up_to_date");
  implies(o.enforceAdmins, p.enforceAdmins, "enforce_admins");
  never(o.allowForcePushes, p.allowForcePushes, "allow_force_pushes");
  never(o.allowDeletions, p.allowDeletions, "allow_deletions");
  subset(p.allowedBypass, o.allowedBypass, "allowed_bypass");
  implies(org.secrets.enabled, merged.secrets.enabled, "secrets.enabled");
  subset(merged.secrets.allow, org.secrets.allow, "secrets.allow");
}

/**
 * A repository file that restates or tightens random settings of every org branch. With `sloppy`,
 * each setting is sometimes any valid value instead, so some files loosen exactly one thing or two:
 * the merge must refuse those (checked by expectAtLeastAsTight on whatever it accepts).
 */
function tightenedRepo(org: Policy, sloppy = false): fc.Arbitrary<PolicyDoc> {
  const pick = <T>(tight: fc.Arbitrary<T>, any: fc.Arbitrary<T>) =>
    opt(sloppy ? fc.oneof({ arbitrary: tight, weight: 6 }, { arbitrary: any, weight: 1 }) : tight);
  const on = pick(fc.constant(true), fc.boolean());
  const off = pick(fc.constant(false), fc.boolean());
  const modes = ["off", "audit", "enforce"] as const;
  const entries = org.branches.map((b) =>
    fc
      .record({
        signatures: opt(
          fc
            .record({
              required: on,
              openpgp_keyrings: pick(fc.subarray(b.signatures.openpgpKeyrings), uniq(repoPath, 2)),
              ssh_allowed_signers: pick(
                fc.constantFrom(null, b.signatures.sshAllowedSigners),
                fc.option(repoPath, { nil: null }),
              ),
              trust_web_flow: off,
              require_signer_matches_author: on,
              signer_identity: pick(
                fc.constantFrom(
                  ...SIGNER_IDENTITY_RANK.slice(SIGNER_IDENTITY_RANK.indexOf(b.signatures.signerIdentity)),
                ),
                fc.constantFrom(...SIGNER_IDENTITY_RANK),
              ),
              signer_logins: pick(
                fc.constantFrom(null, b.signatures.signerLogins),
                fc.option(repoPath, { nil: null }),
              ),
            })
            .map(compact),
        ),
        reviews: opt(
          fc
            .record({
              required_approvals: pick(
                fc.integer({ min: b.reviews.requiredApprovals, max: 100 }),
                fc.integer({ min: 0, max: 100 }),
              ),
              require_code_owner_review: on,
              dismiss_stale_approvals: on,
              require_last_push_approval: on,
            })
            .map(compact),
        ),
        protection: opt(
          fc
            .record({
              mode: pick(
                fc.constantFrom(...modes.slice(modes.indexOf(b.protection.mode))),
                fc.constantFrom(...modes),
              ),
              require_pull_request: on,
              required_approvals: pick(
                fc.integer({ min: b.protection.requiredApprovals, max: 6 }),
                fc.integer({ min: 0, max: 6 }),
              ),
              require_code_owner_review: on,
              dismiss_stale_reviews: on,
              require_last_push_approval: on,
              require_signed_commits: on,
              require_pullgate_check: on,
              require_up_to_date: on,
              allow_force_pushes: off,
              allow_deletions: off,
              enforce_admins: on,
              allowed_bypass: pick(fc.subarray(b.protection.allowedBypass), uniq(principal, 2)),
            })
            .map(compact),
        ),
      })
      .map((settings) => compact<BranchDoc>({ branch: b.branch, environment: b.environment, ...settings })),
  );
  return fc
    .record({
      admins: opt(fc.subarray(org.admins)),
      branches: fc.tuple(...entries),
      sensitive_paths: opt(uniq(pattern, 2)),
    })
    .map((d) =>
      compact<PolicyDoc>({
        version: 1,
        admins: d.admins,
        sensitive_paths: d.sensitive_paths,
        branches: d.branches.length === 0 ? undefined : d.branches,
      }),
    );
}
