import { describe, expect, it } from "vitest";
import { parsePolicy } from "./parse.js";
import type { BranchPolicy, Policy } from "./types.js";

function ok(text: string): Policy {
  const result = parsePolicy(text, "p.yml");
  expect(result.errors).toEqual([]);
  if (result.policy === null) throw new Error("expected a policy");
  return result.policy;
}

function branch(text: string, index = 0): BranchPolicy {
  const found = ok(text).branches[index];
  if (found === undefined) throw new Error("no such branch");
  return found;
}

/** The single error of a text, as "line:column: message". */
function errorsOf(text: string): string[] {
  const result = parsePolicy(text, "p.yml");
  expect(result.policy).toBeNull();
  expect(result.parsed).toBeNull();
  return result.errors.map((e) => `${e.line}:${e.column}: ${e.message}`);
}

const MAIN_ONLY = "version: 1\nbranches:\n  - branch: main\n";

describe("parsePolicy: strict defaults", () => {
  it("a file that names only its branch gets every strict default", () => {
    const policy = ok(MAIN_ONLY);
    expect(policy).toEqual({
      version: 1,
      admins: [],
      recordRefPrefix: "approved/",
      recordRefreshIntervalMs: 24 * 3_600_000,
      sensitivePaths: [
        "/.github/CODEOWNERS",
        "/CODEOWNERS",
        "/docs/CODEOWNERS",
        "/.github/pullgate.yml",
        "/.github/workflows/**",
        "/.github/pullgate/keys",
        "/.github/pullgate/keys/**",
        "/.github/pullgate/allowed_signers",
        "/.github/pullgate/allowed_signers/**",
      ],
      branches: [
        {
          branch: "main",
          environment: "main",
          signatures: {
            required: true,
            openpgpKeyrings: [".github/pullgate/keys"],
            sshAllowedSigners: ".github/pullgate/allowed_signers",
            trustWebFlow: false,
            signerIdentity: "author_or_committer",
            signerLogins: null,
            scopes: [],
          },
          reviews: {
            requiredApprovals: 1,
            requireCodeOwnerReview: true,
            dismissStaleApprovals: true,
            requireLastPushApproval: false,
          },
          pathRules: [],
          protection: {
            mode: "audit",
            requirePullRequest: true,
            requiredApprovals: 1,
            requireCodeOwnerReview: true,
            dismissStaleReviews: true,
            requireLastPushApproval: false,
            requireSignedCommits: true,
            requirePullgateCheck: true,
            requireUpToDate: true,
            allowForcePushes: false,
            allowDeletions: false,
            enforceAdmins: true,
            allowedBypass: [],
          },
          secrets: { enabled: true, allow: [] },
        },
      ],
    });
  });

  it("a file with no branches governs nothing", () => {
    expect(ok("version: 1\n").branches).toEqual([]);
  });

  it.each([
    [
      "reviews: {required_approvals: 3}",
      (b: BranchPolicy) => [b.reviews.requiredApprovals, b.protection.requiredApprovals],
      [3, 3],
    ],
    [
      "reviews: {required_approvals: 9}",
      (b: BranchPolicy) => [b.reviews.requiredApprovals, b.protection.requiredApprovals],
      [9, 6],
    ],
    [
      "reviews: {required_approvals: 3}\n    protection: {required_approvals: 2}",
      (b: BranchPolicy) => [b.reviews.requiredApprovals, b.protection.requiredApprovals],
      [3, 2],
    ],
    [
      "reviews: {require_code_owner_review: false}",
      (b: BranchPolicy) => [b.reviews.requireCodeOwnerReview, b.protection.requireCodeOwnerReview],
      [false, false],
    ],
    [
      "reviews: {dismiss_stale_approvals: false}",
      (b: BranchPolicy) => [b.reviews.dismissStaleApprovals, b.protection.dismissStaleReviews],
      [false, false],
    ],
    [
      "reviews: {require_last_push_approval: true}",
      (b: BranchPolicy) => [b.reviews.requireLastPushApproval, b.protection.requireLastPushApproval],
      [true, true],
    ],
    [
      "signatures: {required: false}",
      (b: BranchPolicy) => [b.signatures.required, b.protection.requireSignedCommits],
      [false, false],
    ],
    [
      "signatures: {required: false}\n    protection: {require_signed_commits: true}",
      (b: BranchPolicy) => [b.signatures.required, b.protection.requireSignedCommits],
      [false, true],
    ],
    [
      "signatures: {ssh_allowed_signers: null}",
      (b: BranchPolicy) => [b.signatures.sshAllowedSigners],
      [null],
    ],
    ["environment: prod", (b: BranchPolicy) => [b.environment], ["prod"]],
  ])("branch override %j", (yaml, pick, expected) => {
    expect(pick(branch(`version: 1\nbranches:\n  - branch: main\n    ${yaml}\n`))).toEqual(expected);
  });

  it("`defaults` applies to every branch and a branch entry overrides it field by field", () => {
    const policy = ok(`version: 1
defaults:
  reviews: {required_approvals: 2, require_last_push_approval: true}
  protection: {mode: enforce}
branches:
  - branch: main
    reviews: {required_approvals: 3}
  - branch: dev
`);
    expect(
      policy.branches.map((b) => [
        b.branch,
        b.reviews.requiredApprovals,
        b.reviews.requireLastPushApproval,
        b.protection.mode,
      ]),
    ).toEqual([
      ["main", 3, true, "enforce"],
      ["dev", 2, true, "enforce"],
    ]);
  });

  it("a literal branch name is its environment; a glob must name one", () => {
    expect(branch("version: 1\nbranches:\n  - branch: release/1.2\n").environment).toBe("release/1.2");
    expect(branch("version: 1\nbranches:\n  - branch: release/*\n    environment: prod\n").environment).toBe(
      "prod",
    );
  });

  it("path rules default their name to the first pattern and their approvals to 1; principals are lower-cased", () => {
    const b = branch(`version: 1
branches:
  - branch: main
    paths:
      - paths: ["/clusters/prod/**", "/x"]
        from: ["@Acme/SRE", "Ops@Example.com"]
      - name: two
        paths: ["/a"]
        approvals: 2
        from: ["@acme/sre"]
`);
    expect(b.pathRules).toEqual([
      {
        name: "/clusters/prod/**",
        paths: ["/clusters/prod/**", "/x"],
        approvals: 1,
        from: ["@acme/sre", "Ops@Example.com"],
      },
      { name: "two", paths: ["/a"], approvals: 2, from: ["@acme/sre"] },
    ]);
  });

  it("keyring paths of branches and of defaults become sensitive paths; user extras are kept", () => {
    const policy = ok(`version: 1
sensitive_paths: ["/flux-system/**"]
branches:
  - branch: main
    signatures: {openpgp_keyrings: [keys/a.asc], ssh_allowed_signers: null}
`);
    expect(policy.sensitivePaths).toContain("/keys/a.asc");
    expect(policy.sensitivePaths).toContain("/keys/a.asc/**");
    expect(policy.sensitivePaths).toContain("/flux-system/**");
    expect(policy.sensitivePaths).toContain("/.github/pullgate.yml");
    // The defaults' (here built-in) keyring stays guarded even though no branch uses it.
    expect(policy.sensitivePaths).toContain("/.github/pullgate/keys/**");
  });

  it("OpenPGP fingerprints in scopes are upper-cased", () => {
    const b = branch(`version: 1
branches:
  - branch: main
    signatures:
      scopes:
        - signers: ["8f3a1c2e4b5d6f708192a3b4c5d6e7f809102132", "ci@example.com"]
          paths: ["/a/**"]
`);
    expect(b.signatures.scopes).toEqual([
      { signers: ["8F3A1C2E4B5D6F708192A3B4C5D6E7F809102132", "ci@example.com"], paths: ["/a/**"] },
    ]);
  });

  it("ignores a UTF-8 BOM and CRLF line ends", () => {
    expect(parsePolicy("\uFEFFversion: 1\r\nbranches:\r\n  - branch: main\r\n", "p.yml").errors).toEqual([]);
    expect(errorsOf("\uFEFFversion: 1\r\nbogus: 1\r\n")).toEqual([
      "2:1: unknown key `bogus`; allowed: version, admins, records, sensitive_paths, defaults, branches",
    ]);
  });
});

describe("parsePolicy: errors with line and column", () => {
  it.each([
    // YAML syntax
    [
      "version: 1\nbranches: [\n",
      "3:1: YAML syntax error: unexpected end of the stream within a flow collection",
    ],
    ["version: 1\nversion: 1\n", "2:1: YAML syntax error: duplicated mapping key"],
    ["a: &x [1]\nb: *x\n", "2:4: YAML aliases (*name) are not allowed in a policy: write the value out"],
    ["", "1:1: policy file is empty: expected a mapping starting with `version: 1`"],
    ["# only a comment\n", "1:1: policy file is empty: expected a mapping starting with `version: 1`"],
    // top level
    ["- 1\n", "1:1: the policy: must be a mapping, got a list"],
    ["version: 2\n", "1:10: version: must be 1, got number 2"],
    ["admins: []\n", "1:1: the policy: missing required key `version`"],
    [
      "version: 1\nbranchs: []\n",
      "2:1: unknown key `branchs` (did you mean `branches`?); allowed: version, admins, records, sensitive_paths, defaults, branches",
    ],
    [
      'version: 1\nadmins: ["acme"]\n',
      '2:10: admins[0]: must be "@login", "@org/team-slug" or an email address, got string "acme"',
    ],
    ['version: 1\nadmins: ["@a", "@a"]\n', "2:16: admins: item 1 repeats item 0; list each value once"],
    ['version: 1\nadmins: "@a"\n', '2:9: admins: must be a list, got string "@a"'],
    [
      "version: 1\nrecords: {ref_prefix: refs/heads/x/}\n",
      '2:23: records.ref_prefix: must be a branch-name prefix such as "approved/" (without "refs/heads/"), got string "refs/heads/x/"',
    ],
    [
      "version: 1\nrecords: {refresh_interval: 1 day}\n",
      '2:29: records.refresh_interval: must be "0" or a duration such as "24h" (a whole number and one of s, m, h, d), got string "1 day"',
    ],
    [
      "version: 1\nrecords: {refresh_interval: 10m}\n",
      "2:29: records.refresh_interval: `10m` must be at least 1h (or 0 to turn refreshing off)",
    ],
    [
      "version: 1\nrecords: {refresh_interval: 400d}\n",
      "2:29: records.refresh_interval: `400d` must be at most 365d",
    ],
    [
      "version: 1\nrecords: {prefix: x}\n",
      "2:11: unknown key `prefix` in records; allowed: ref_prefix, refresh_interval",
    ],
    [
      'version: 1\nsensitive_paths: ["a b"]\n',
      '2:19: sensitive_paths[0]: must be a CODEOWNERS-style pattern without whitespace, got string "a b"',
    ],
    // branches
    ["version: 1\nbranches:\n  - environment: x\n", "3:5: branches[0]: missing required key `branch`"],
    [
      "version: 1\nbranches:\n  - branch: main\n    reveiws: {}\n",
      "4:5: unknown key `reveiws` in branches[0] (did you mean `reviews`?); allowed: branch, environment, signatures, reviews, paths, protection, promotion, break_glass, secrets",
    ],
    [
      "version: 1\nbranches:\n  - branch: refs/heads/..\n",
      '3:13: branches[0].branch: must be a branch name (without "refs/heads/") or a glob where `*` matches within one path segment and `**` across segments, got string "refs/heads/.."',
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    environment: a..b\n",
      "4:18: branches[0].environment: must be letters, digits, '.', '_' and '-' (segments separated by '/'), usable in a git ref, got string \"a..b\"",
    ],
    [
      "version: 1\nbranches:\n  - branch: release/*\n",
      "3:13: branches[0]: the glob `release/*` needs an explicit `environment` (only a literal branch name defaults to itself)",
    ],
    [
      "version: 1\nbranches:\n  - branch: fix+1\n",
      "3:13: branches[0]: the branch name `fix+1` is not a valid environment name; set `environment` explicitly",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n  - branch: main\n",
      "4:13: branches[1]: `main` is already matched by `main` (line 3); the first match wins, so this entry would never apply",
    ],
    [
      "version: 1\nbranches:\n  - branch: release/*\n    environment: r\n  - branch: release/1\n",
      "5:13: branches[1]: `release/1` is already matched by `release/*` (line 3); the first match wins, so this entry would never apply",
    ],
    // signatures
    [
      "version: 1\nbranches:\n  - branch: main\n    signatures: {required: yes}\n",
      '4:28: branches[0].signatures.required: must be true or false, got string "yes"',
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    signatures: {openpgp_keyrings: [../keys]}\n",
      '4:37: branches[0].signatures.openpgp_keyrings[0]: must be a path relative to the repository root, without "..", "." or a leading or trailing "/", got string "../keys"',
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    signatures: {ssh_allowed_signers: /etc/x}\n",
      '4:39: branches[0].signatures.ssh_allowed_signers: must be a path relative to the repository root, without "..", "." or a leading or trailing "/", got string "/etc/x"',
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    signatures: {ssh_allowed_signers: 3}\n",
      "4:39: branches[0].signatures.ssh_allowed_signers: must be a string or null, got number 3",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    signatures: {scopes: [{signers: []}]}\n",
      "4:27: branches[0].signatures.scopes[0]: missing required key `paths`\n4:37: branches[0].signatures.scopes[0].signers: must list at least 1 item",
    ],
    // reviews
    [
      "version: 1\nbranches:\n  - branch: main\n    reviews:\n      required_approvals: 1.5\n",
      "5:27: branches[0].reviews.required_approvals: must be a whole number, got number 1.5",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    reviews:\n      required_approvals: -1\n",
      "5:27: branches[0].reviews.required_approvals: must be at least 0, got number -1",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    reviews:\n      allow_self_approval: true\n",
      "5:7: unknown key `allow_self_approval` in branches[0].reviews; allowed: required_approvals, require_code_owner_review, dismiss_stale_approvals, require_last_push_approval",
    ],
    // protection
    [
      "version: 1\nbranches:\n  - branch: main\n    protection: {mode: enforced}\n",
      '4:24: branches[0].protection.mode: must be one of "off", "audit", "enforce", got string "enforced"',
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    protection: {required_approvals: 7}\n",
      "4:38: branches[0].protection.required_approvals: must be at most 6, got number 7",
    ],
    // path rules
    [
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - paths: []\n        from: ["@a"]\n',
      "5:16: branches[0].paths[0].paths: must list at least 1 item",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    paths:\n      - paths: [/a]\n",
      "5:9: branches[0].paths[0]: missing required key `from`",
    ],
    [
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - paths: [/a]\n        approvals: 2\n        from: ["@alice"]\n',
      "6:20: branches[0].paths[0]: needs 2 approvals from 1 person; it could never be satisfied",
    ],
    [
      'version: 1\nbranches:\n  - branch: main\n    paths:\n      - paths: [/a]\n        from: ["@a"]\n      - paths: [/a]\n        from: ["@b"]\n',
      "7:9: branches[0].paths[1]: path rule name `/a` is already used by paths[0]; give each rule its own `name`",
    ],
    [
      "version: 1\nbranches:\n  - branch: main\n    reviews:\n",
      "4:5: branches[0].reviews: must be a mapping, got nothing (null)",
    ],
    [
      "version: 1\nbranches:\n  -\n  - branch: x\n",
      "3:3: branches[0]: must be a mapping, got nothing (null)",
    ],
    ["hello\n", '1:1: the policy: must be a mapping, got string "hello"'],
    [
      "version: 1\n\tbranches: []\n",
      "2:1: YAML syntax error: tab characters must not be used in indentation",
    ],
    ["[".repeat(1000), "1:100: YAML syntax error: nesting exceeded maxDepth (100)"],
    [
      "{version: 1, bogus: 2}\n",
      "1:14: unknown key `bogus`; allowed: version, admins, records, sensitive_paths, defaults, branches",
    ],
    [
      '{"version": 1, "branches": [{"branch": "main", "reviews": {"required_approvals": "2"}}]}',
      '1:82: branches[0].reviews.required_approvals: must be a whole number, got string "2"',
    ],
    // defaults
    [
      "version: 1\ndefaults:\n  paths: []\n",
      "3:3: unknown key `paths` in defaults; allowed: signatures, reviews, protection, secrets",
    ],
  ])("%j", (text, expected) => {
    expect(errorsOf(text).join("\n")).toBe(expected);
  });

  it("reports every error of a file, in line order, each with the file name", () => {
    const result = parsePolicy(
      "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: x}\n    protection: {mode: on}\n",
      "repo/.github/pullgate.yml",
    );
    expect(result.errors).toEqual([
      {
        file: "repo/.github/pullgate.yml",
        line: 4,
        column: 35,
        message: 'branches[0].reviews.required_approvals: must be a whole number, got string "x"',
      },
      {
        file: "repo/.github/pullgate.yml",
        line: 5,
        column: 24,
        message: 'branches[0].protection.mode: must be one of "off", "audit", "enforce", got string "on"',
      },
    ]);
  });

  it("treats __proto__ and constructor as the unknown keys they are (no prototype tricks)", () => {
    expect(errorsOf("version: 1\n__proto__: {admins: ['@x']}\n")).toEqual([
      "2:1: unknown key `__proto__`; allowed: version, admins, records, sensitive_paths, defaults, branches",
    ]);
    expect(
      errorsOf(
        "version: 1\nbranches:\n  - branch: main\n    __proto__: {reviews: {required_approvals: 0}}\n",
      ),
    ).toEqual([
      "4:5: unknown key `__proto__` in branches[0]; allowed: branch, environment, signatures, reviews, paths, protection, promotion, break_glass, secrets",
    ]);
    expect(({} as Record<string, unknown>).admins).toBeUndefined();
    expect(errorsOf("version: 1\nconstructor: 1\n")).toHaveLength(1);
  });

  it("refuses an oversized file without parsing it", () => {
    expect(errorsOf("#" + "x".repeat(300 * 1024))).toEqual(["1:1: policy file is larger than 262144 bytes"]);
  });

  it("refuses YAML tags that would build non-JSON values", () => {
    const [error] = errorsOf("version: !!binary aGk=\n");
    expect(error).toMatch(/^1:\d+: YAML syntax error: unknown tag/);
    expect(errorsOf("version: 1\nadmins: 2001-01-01\n")).toEqual([
      '2:9: admins: must be a list, got string "2001-01-01"',
    ]);
  });
});

describe("records.refresh_interval", () => {
  const interval = (text: string) => parsePolicy(text, "p.yml").policy?.recordRefreshIntervalMs;
  it("defaults to 24h, reads durations, and 0 turns refreshing off", () => {
    expect(interval("version: 1\n")).toBe(24 * 3_600_000);
    expect(interval('version: 1\nrecords: {refresh_interval: "12h"}\n')).toBe(12 * 3_600_000);
    expect(interval('version: 1\nrecords: {refresh_interval: "2d"}\n')).toBe(2 * 86_400_000);
    expect(interval('version: 1\nrecords: {refresh_interval: "0"}\n')).toBe(0);
  });
  it("a YAML number is refused (the unit must be written)", () => {
    expect(parsePolicy("version: 1\nrecords: {refresh_interval: 24}\n", "p.yml").policy).toBeNull();
    expect(parsePolicy("version: 1\nrecords: {refresh_interval: 0}\n", "p.yml").policy).toBeNull();
  });
});
