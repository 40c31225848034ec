import { describe, expect, it } from "vitest";
import { FIELD_RULES, mergePolicies } from "./merge.js";
import { parsePolicy, type ParsedPolicy } from "./parse.js";
import type { BranchPolicy, Policy, PolicyError } from "./types.js";

const ORG_FILE = "acme/.github:.github/pullgate.yml";
const REPO_FILE = "acme/deploy:.github/pullgate.yml";

function parsed(text: string, file: string): ParsedPolicy {
  const result = parsePolicy(text, file);
  expect(result.errors).toEqual([]);
  if (result.parsed === null) throw new Error("expected a parsed policy");
  return result.parsed;
}

function merge(org: string, repo: string): { policy: Policy | null; errors: PolicyError[] } {
  return mergePolicies(parsed(org, ORG_FILE), parsed(repo, REPO_FILE));
}

function mergedMain(org: string, repo: string): BranchPolicy {
  const result = merge(org, repo);
  expect(result.errors).toEqual([]);
  const main = result.policy?.branches.find((b) => b.branch === "main");
  if (main === undefined) throw new Error("main missing");
  return main;
}

/** An org file governing main with `orgSection.orgKey: orgValue`, and a repo file setting the same key. */
function pair(section: string, key: string, orgValue: string, repoValue: string): [string, string] {
  const org = `version: 1\nbranches:\n  - branch: main\n    ${section}:\n      ${key}: ${orgValue}\n`;
  const repo = `version: 1\nbranches:\n  - branch: main\n    ${section}:\n      ${key}: ${repoValue}\n`;
  return [org, repo];
}

interface FieldCase {
  section: "signatures" | "reviews" | "protection" | "secrets";
  key: string;
  org: string;
  tighter: string;
  looser: string;
  /** The org value the looser repo value is compared with (default: org). */
  looseOrg?: string;
  /** The effective value after merging the tighter repo value. */
  read: (b: BranchPolicy) => unknown;
  tightened: unknown;
}

const FIELDS: FieldCase[] = [
  {
    section: "signatures",
    key: "required",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.signatures.required,
    tightened: true,
  },
  {
    section: "signatures",
    key: "openpgp_keyrings",
    org: "[keys/a, keys/b]",
    tighter: "[keys/a]",
    looser: "[keys/a, keys/c]",
    read: (b) => b.signatures.openpgpKeyrings,
    tightened: ["keys/a"],
  },
  {
    section: "signatures",
    key: "ssh_allowed_signers",
    org: "keys/allowed",
    tighter: "null",
    looser: "keys/other",
    read: (b) => b.signatures.sshAllowedSigners,
    tightened: null,
  },
  {
    section: "signatures",
    key: "trust_web_flow",
    org: "true",
    tighter: "false",
    looseOrg: "false",
    looser: "true",
    read: (b) => b.signatures.trustWebFlow,
    tightened: false,
  },
  {
    section: "signatures",
    key: "require_signer_matches_author",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.signatures.signerIdentity,
    tightened: "author",
  },
  {
    section: "signatures",
    key: "signer_identity",
    org: "author_or_committer",
    tighter: "author",
    looser: "any",
    read: (b) => b.signatures.signerIdentity,
    tightened: "author",
  },
  {
    section: "signatures",
    key: "signer_logins",
    org: "keys/signers",
    tighter: "null",
    looser: "keys/other",
    read: (b) => b.signatures.signerLogins,
    tightened: null,
  },
  {
    section: "reviews",
    key: "required_approvals",
    org: "2",
    tighter: "3",
    looser: "1",
    read: (b) => b.reviews.requiredApprovals,
    tightened: 3,
  },
  {
    section: "reviews",
    key: "require_code_owner_review",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.reviews.requireCodeOwnerReview,
    tightened: true,
  },
  {
    section: "reviews",
    key: "dismiss_stale_approvals",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.reviews.dismissStaleApprovals,
    tightened: true,
  },
  {
    section: "reviews",
    key: "require_last_push_approval",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.reviews.requireLastPushApproval,
    tightened: true,
  },
  {
    section: "protection",
    key: "mode",
    org: "audit",
    tighter: "enforce",
    looser: "off",
    read: (b) => b.protection.mode,
    tightened: "enforce",
  },
  {
    section: "protection",
    key: "require_pull_request",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.protection.requirePullRequest,
    tightened: true,
  },
  {
    section: "protection",
    key: "required_approvals",
    org: "2",
    tighter: "4",
    looser: "1",
    read: (b) => b.protection.requiredApprovals,
    tightened: 4,
  },
  ...(
    [
      ["require_code_owner_review", (b: BranchPolicy) => b.protection.requireCodeOwnerReview],
      ["dismiss_stale_reviews", (b: BranchPolicy) => b.protection.dismissStaleReviews],
      ["require_last_push_approval", (b: BranchPolicy) => b.protection.requireLastPushApproval],
      ["require_signed_commits", (b: BranchPolicy) => b.protection.requireSignedCommits],
      ["require_pullgate_check", (b: BranchPolicy) => b.protection.requirePullgateCheck],
      ["require_up_to_date", (b: BranchPolicy) => b.protection.requireUpToDate],
      ["enforce_admins", (b: BranchPolicy) => b.protection.enforceAdmins],
    ] as const
  ).map(([key, read]): FieldCase => ({
    section: "protection",
    key,
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read,
    tightened: true,
  })),
  ...(
    [
      ["allow_force_pushes", (b: BranchPolicy) => b.protection.allowForcePushes],
      ["allow_deletions", (b: BranchPolicy) => b.protection.allowDeletions],
    ] as const
  ).map(([key, read]): FieldCase => ({
    section: "protection",
    key,
    org: "true",
    tighter: "false",
    looseOrg: "false",
    looser: "true",
    read,
    tightened: false,
  })),
  {
    section: "protection",
    key: "allowed_bypass",
    org: '["@acme/break-glass", "@acme/sre"]',
    tighter: '["@acme/break-glass"]',
    looser: '["@acme/break-glass", "@mallory"]',
    read: (b) => b.protection.allowedBypass,
    tightened: ["@acme/break-glass"],
  },
];

FIELDS.push(
  {
    section: "secrets",
    key: "enabled",
    org: "false",
    tighter: "true",
    looseOrg: "true",
    looser: "false",
    read: (b) => b.secrets.enabled,
    tightened: true,
  },
  {
    section: "secrets",
    key: "allow",
    org: "[test/fixtures/, vault/]",
    tighter: "[vault/]",
    looser: "[vault/, apps/]",
    read: (b) => b.secrets.allow,
    tightened: ["vault/"],
  },
);

const NAMED = FIELDS.map((field) => ({ ...field, name: `${field.section}.${field.key}` }));

describe("mergePolicies: each field may only tighten", () => {
  it("covers every field of signatures, reviews, protection and secrets (except scopes, tested apart)", () => {
    const covered = new Set(FIELDS.map((f) => `${f.section}.${f.key}`));
    expect(covered.size).toBe(26);
    const ruled = new Set(FIELD_RULES.flatMap((rule) => [rule.field, ...(rule.alsoFrom ?? [])]));
    expect(covered).toEqual(ruled);
  });

  it.each(NAMED)("$name: a tighter repo value wins", (field) => {
    const [org, repo] = pair(field.section, field.key, field.org, field.tighter);
    expect(field.read(mergedMain(org, repo))).toEqual(field.tightened);
  });

  it.each(NAMED)("$name: a looser repo value is an error naming both files", (field) => {
    const [org, repo] = pair(field.section, field.key, field.looseOrg ?? field.org, field.looser);
    const result = merge(org, repo);
    expect(result.policy).toBeNull();
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors;
    expect(error?.file).toBe(REPO_FILE);
    expect(error?.line).toBe(5);
    expect(error?.column).toBe(9 + field.key.length);
    expect(error?.message).toContain(`branch \`main\`: ${field.section}.${field.key}`);
    expect(error?.message).toContain(`is looser than the org's`);
    expect(error?.message).toContain(`(${ORG_FILE}:5:${9 + field.key.length})`);
  });

  it.each(NAMED)("$name: a repo that does not mention it inherits the org's value", (field) => {
    const [org] = pair(field.section, field.key, field.org, field.org);
    const orgMain = parsePolicy(org, ORG_FILE).policy?.branches[0];
    expect(orgMain).toBeDefined();
    const main = mergedMain(org, "version: 1\nbranches:\n  - branch: main\n");
    if (orgMain !== undefined) expect(field.read(main)).toEqual(field.read(orgMain));
  });

  it("compares with the org's built-in defaults when the org file does not say", () => {
    const result = merge(
      "version: 1\nbranches:\n  - branch: main\n",
      "version: 1\nbranches:\n  - branch: main\n    signatures: {required: false}\n",
    );
    expect(result.errors.map((e) => e.message)).toEqual([
      "branch `main`: signatures.required false is looser than the org's true (built-in default): unsigned commits would pass",
    ]);
  });

  it("reports a loosening through the repo's defaults at the defaults' position", () => {
    const result = merge(
      "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 2}\n",
      "version: 1\ndefaults:\n  reviews: {required_approvals: 1}\n",
    );
    expect(result.errors).toEqual([
      {
        file: REPO_FILE,
        line: 3,
        column: 33,
        message: `branch \`main\`: reviews.required_approvals 1 is looser than the org's 2 (${ORG_FILE}:4:35): fewer approvals would be required`,
      },
    ]);
  });

  it("does not report a derived protection value twice", () => {
    const result = merge(
      "version: 1\ndefaults:\n  reviews: {required_approvals: 2}\nbranches:\n  - branch: main\n",
      "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 1}\n",
    );
    expect(result.errors.map((e) => e.message)).toEqual([
      `branch \`main\`: reviews.required_approvals 1 is looser than the org's 2 (${ORG_FILE}:3:33): fewer approvals would be required`,
    ]);
  });

  it("a repo raising reviews also raises the derived GitHub protection, unless the org pinned it", () => {
    const org = "version: 1\nbranches:\n  - branch: main\n";
    expect(
      mergedMain(org, "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 3}\n")
        .protection.requiredApprovals,
    ).toBe(3);
    const pinned = "version: 1\nbranches:\n  - branch: main\n    protection: {required_approvals: 5}\n";
    expect(
      mergedMain(pinned, "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 3}\n")
        .protection.requiredApprovals,
    ).toBe(5);
  });
});

describe("mergePolicies: branches", () => {
  it("keeps every org branch, even one the repo does not name, in the org's order, then adds repo branches", () => {
    const result = merge(
      "version: 1\nbranches:\n  - branch: main\n    environment: production\n  - branch: release/*\n    environment: production\n",
      "version: 1\nbranches:\n  - branch: staging\n  - branch: main\n",
    );
    expect(result.errors).toEqual([]);
    expect(result.policy?.branches.map((b) => [b.branch, b.environment])).toEqual([
      ["main", "production"],
      ["release/*", "production"],
      ["staging", "staging"],
    ]);
  });

  it("a repo-only branch gets the org's defaults and may not loosen them", () => {
    const org = "version: 1\ndefaults:\n  reviews: {required_approvals: 2}\n";
    const result = merge(org, "version: 1\nbranches:\n  - branch: staging\n");
    expect(result.policy?.branches[0]?.reviews.requiredApprovals).toBe(2);
    const loose = merge(
      org,
      "version: 1\nbranches:\n  - branch: staging\n    reviews: {required_approvals: 0}\n",
    );
    expect(loose.errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      `4:35: branch \`staging\`: reviews.required_approvals 0 is looser than the org's 2 (${ORG_FILE}:3:33): fewer approvals would be required`,
    ]);
  });

  it("refuses a repo entry that an org glob shadows (it could never apply)", () => {
    const result = merge(
      "version: 1\nbranches:\n  - branch: release/*\n    environment: prod\n",
      "version: 1\nbranches:\n  - branch: release/1\n    reviews: {required_approvals: 3}\n",
    );
    expect(result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      `3:13: branch \`release/1\` is already governed by the org's \`release/*\` (${ORG_FILE}:3:13), which matches first; to tighten it, use the same pattern \`release/*\``,
    ]);
  });

  it("refuses a repo-only branch that would publish records to an environment an org branch feeds", () => {
    const org =
      "version: 1\nbranches:\n  - branch: main\n    environment: production\n    reviews: {required_approvals: 2}\n";
    expect(
      merge(org, "version: 1\nbranches:\n  - branch: hotfix\n    environment: production\n").errors.map(
        (e) => `${e.line}:${e.column}: ${e.message}`,
      ),
    ).toEqual([
      `4:18: branch \`hotfix\`: environment \`production\` is fed by the org's branch \`main\` (${ORG_FILE}:3:13); a repository cannot add another branch that publishes records to it`,
    ]);
    // Also when the environment is the default one (the literal branch name).
    expect(
      merge(org, "version: 1\nbranches:\n  - branch: production\n").errors.map(
        (e) => `${e.line}:${e.column}`,
      ),
    ).toEqual(["3:13"]);
  });

  it("refuses a repo that redirects an org branch's records to another environment", () => {
    const result = merge(
      "version: 1\nbranches:\n  - branch: main\n    environment: production\n",
      "version: 1\nbranches:\n  - branch: main\n    environment: sandbox\n",
    );
    expect(result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      `4:18: branch \`main\`: environment \`sandbox\` differs from the org's \`production\` (${ORG_FILE}:3:13); a repository cannot redirect records`,
    ]);
    expect(
      merge(
        "version: 1\nbranches:\n  - branch: main\n    environment: production\n",
        "version: 1\nbranches:\n  - branch: main\n    environment: production\n",
      ).errors,
    ).toEqual([]);
  });
});

describe("mergePolicies: path rules and key scopes are unioned", () => {
  const org = `version: 1
branches:
  - branch: main
    paths:
      - name: prod
        paths: ["/clusters/prod/**"]
        from: ["@acme/sre"]
    signatures:
      scopes:
        - signers: ["ci-bot"]
          paths: ["/tags/**"]
`;

  it("keeps the org's path rules and adds the repo's", () => {
    const main = mergedMain(
      org,
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - name: db\n        paths: ["/db/**"]\n        from: ["@acme/dba"]\n',
    );
    expect(main.pathRules.map((r) => r.name)).toEqual(["prod", "db"]);
  });

  it("accepts a restated identical org rule once, refuses a changed one", () => {
    const same =
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - name: prod\n        paths: ["/clusters/prod/**"]\n        from: ["@ACME/sre"]\n';
    expect(mergedMain(org, same).pathRules).toHaveLength(1);
    const changed =
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - name: prod\n        paths: ["/clusters/prod/**"]\n        from: ["@mallory"]\n';
    expect(merge(org, changed).errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      "5:9: branch `main`: path rule `prod` is defined differently by the org; org path rules cannot be changed, add a rule with another name",
    ]);
  });

  it("keeps the org's scopes and adds scopes for signers the org leaves unscoped", () => {
    const repo =
      'version: 1\nbranches:\n  - branch: main\n    signatures:\n      scopes:\n        - signers: ["renovate"]\n          paths: ["/deps/**"]\n';
    expect(mergedMain(org, repo).signatures.scopes).toEqual([
      { signers: ["ci-bot"], paths: ["/tags/**"] },
      { signers: ["renovate"], paths: ["/deps/**"] },
    ]);
  });

  it("refuses a repo scope that would widen what an org-scoped signer may sign", () => {
    const repo =
      'version: 1\nbranches:\n  - branch: main\n    signatures:\n      scopes:\n        - signers: ["ci-bot"]\n          paths: ["/**"]\n';
    expect(merge(org, repo).errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      "6:11: branch `main`: signer `ci-bot` is already scoped by the org; a repository may scope only signers the org leaves unscoped",
    ]);
  });
});

describe("mergePolicies: top-level settings", () => {
  const org = 'version: 1\nadmins: ["@acme/admins", "@acme/security"]\nsensitive_paths: ["/flux/**"]\n';

  it("admins: inherited when the repo is silent, narrowed by a subset", () => {
    expect(merge(org, "version: 1\n").policy?.admins).toEqual(["@acme/admins", "@acme/security"]);
    expect(merge(org, 'version: 1\nadmins: ["@ACME/Security"]\n').policy?.admins).toEqual(["@acme/security"]);
  });

  it("admins: adding someone is an error (admins approve changes to the gate itself)", () => {
    const result = merge(org, 'version: 1\nadmins: ["@acme/admins", "@mallory"]\n');
    expect(result.policy).toBeNull();
    expect(result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      `2:26: admins: \`@mallory\` is not an org admin (${ORG_FILE}: [@acme/admins, @acme/security]); a repository may only narrow the admins, since admins approve changes to the gate itself`,
    ]);
  });

  it("sensitive paths are unioned", () => {
    const policy = merge(org, 'version: 1\nsensitive_paths: ["/argo/**"]\n').policy;
    expect(policy?.sensitivePaths).toContain("/flux/**");
    expect(policy?.sensitivePaths).toContain("/argo/**");
    expect(policy?.sensitivePaths).toContain("/.github/pullgate.yml");
  });

  it("a repo-only branch cannot trust a keyring the org's defaults do not (its keys would be unguarded)", () => {
    const result = merge(
      "version: 1\ndefaults:\n  signatures: {openpgp_keyrings: [keys/a, keys/b]}\n",
      "version: 1\nbranches:\n  - branch: staging\n    signatures: {openpgp_keyrings: [keys/b, keys/mine]}\n",
    );
    expect(result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toEqual([
      `4:36: branch \`staging\`: signatures.openpgp_keyrings [keys/b, keys/mine] is looser than the org's [keys/a, keys/b] (${ORG_FILE}:3:34): more keys would be trusted`,
    ]);
    const narrowed = merge(
      "version: 1\ndefaults:\n  signatures: {openpgp_keyrings: [keys/a, keys/b]}\n",
      "version: 1\nbranches:\n  - branch: staging\n    signatures: {openpgp_keyrings: [keys/b]}\n",
    );
    expect(narrowed.policy?.branches[0]?.signatures.openpgpKeyrings).toEqual(["keys/b"]);
    expect(narrowed.policy?.sensitivePaths).toEqual(expect.arrayContaining(["/keys/a/**", "/keys/b/**"]));
  });

  it("records.ref_prefix: restating the org's is fine, changing it is an error", () => {
    const withPrefix = 'version: 1\nrecords: {ref_prefix: "approved/"}\n';
    expect(merge(org, withPrefix).errors).toEqual([]);
    expect(
      merge(org, 'version: 1\nrecords: {ref_prefix: "mine/"}\n').errors.map(
        (e) => `${e.line}:${e.column}: ${e.message}`,
      ),
    ).toEqual([
      "2:23: records.ref_prefix: `mine/` differs from the org's `approved/` (built-in default); a repository cannot move records",
    ]);
  });

  it("records.refresh_interval: a repository may shorten the org's, never lengthen it or turn it off", () => {
    const errorsOf = (orgText: string, repoText: string) =>
      merge(orgText, repoText).errors.map((e) => `${e.line}:${e.column}: ${e.message}`);
    const at = (value: string) => `version: 1\nrecords: {refresh_interval: "${value}"}\n`;
    expect(merge(org, at("6h")).policy?.recordRefreshIntervalMs).toBe(6 * 3_600_000);
    expect(merge(org, "version: 1\n").policy?.recordRefreshIntervalMs).toBe(24 * 3_600_000);
    expect(merge(at("12h"), "version: 1\n").policy?.recordRefreshIntervalMs).toBe(12 * 3_600_000);
    expect(errorsOf(org, at("48h"))).toEqual([
      "2:29: records.refresh_interval: `48h` is looser than the org's `24h` (built-in default); a repository may only shorten the refresh interval",
    ]);
    expect(errorsOf(at("12h"), at("0"))).toEqual([
      `2:29: records.refresh_interval: \`0\` is looser than the org's \`12h\` (${ORG_FILE}:2:29); a repository may only shorten the refresh interval`,
    ]);
    // An org that turned refreshing off leaves the repository free to turn it on.
    expect(merge(at("0"), at("48h")).policy?.recordRefreshIntervalMs).toBe(48 * 3_600_000);
  });

  it("an empty repo file yields exactly the org policy", () => {
    const orgText =
      'version: 1\nadmins: ["@a"]\nbranches:\n  - branch: main\n    environment: prod\n    reviews: {required_approvals: 2}\n';
    expect(merge(orgText, "version: 1\n").policy).toEqual(parsePolicy(orgText, ORG_FILE).policy);
  });
});
