/**
 * The `promotion` and `break_glass` keys of a branch (docs/policy.md, "Promotion", "Break-glass"):
 * parsing with defaults, errors at file:line:column, the org -> repo merge, and the digest of
 * policies that do not write them staying what it was.
 */
import { describe, expect, it } from "vitest";
import { policyDigest } from "./digest.js";
import { mergePolicies } from "./merge.js";
import { parsePolicy, type ParsedPolicy } from "./parse.js";

const ORG = "acme/.github:.github/pullgate.yml";
const REPO = "acme/deploy:.github/pullgate.yml";

function errorsOf(text: string): string[] {
  return parsePolicy(text, "p.yml").errors.map((e) => `${e.line}:${e.column}: ${e.message}`);
}

function parsed(text: string, file: string): ParsedPolicy {
  const result = parsePolicy(text, file);
  expect(result.errors).toEqual([]);
  if (result.parsed === null) throw new Error("expected a parsed policy");
  return result.parsed;
}

function merge(org: string, repo: string) {
  const result = mergePolicies(parsed(org, ORG), parsed(repo, REPO));
  return {
    ...result,
    messages: result.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`),
    main: result.policy?.branches.find((b) => b.branch === "production"),
  };
}

const branch = (extra: string) =>
  `version: 1\nadmins: ["@acme/admins", "@carol"]\nbranches:\n  - branch: production\n${extra}`;

describe("parsing", () => {
  it("both layouts and break-glass, with defaults applied", () => {
    const result = parsePolicy(
      `version: 1
admins: ["@Acme/Admins", "@carol"]
branches:
  - branch: staging
  - branch: production
    promotion: { from: staging, min_age: 1h }
    break_glass: { enabled: true }
  - branch: main
    environment: gitops
    promotion: { from: gitops, min_age: 30m, path: envs/production, from_path: envs/staging }
    break_glass: { enabled: false, label: emergency, approvals: 3, admins: ["@acme/sre"] }
`,
      "p.yml",
    );
    expect(result.errors).toEqual([]);
    const [staging, production, main] = result.policy?.branches ?? [];
    expect(staging).not.toHaveProperty("promotion");
    expect(staging).not.toHaveProperty("breakGlass");
    expect(production?.promotion).toEqual({
      from: "staging",
      minAgeMs: 3_600_000,
      path: null,
      fromPath: null,
    });
    expect(production?.breakGlass).toEqual({
      enabled: true,
      label: "pullgate/break-glass",
      approvals: 2,
      admins: ["@acme/admins", "@carol"],
    });
    expect(main?.promotion).toEqual({
      from: "gitops",
      minAgeMs: 1_800_000,
      path: "envs/production",
      fromPath: "envs/staging",
    });
    // Off is the default, so it is not in the effective policy (writing it changes no digest).
    expect(main).not.toHaveProperty("breakGlass");
  });

  it("a policy that writes neither (or break-glass off) keeps the digest it had before these keys existed", () => {
    const text = `version: 1\nadmins: ["@acme/admins"]\nbranches:\n  - branch: main\n`;
    const digest = (t: string) => {
      const policy = parsePolicy(t, "p.yml").policy;
      if (policy === null) throw new Error("expected a policy");
      return policyDigest(policy);
    };
    // The digest of this policy as computed by pullgate before promotion and break-glass, with the
    // secrets rule (which changed every digest once: it is on by default): commit f3aef7c
    // (before them all, a3453b9: sha256:3e8975099fe46b31e76ef0e8f7162c556f4de6f9da6e0a68971c2b2bc315f2f2).
    expect(digest(text)).toBe("sha256:396cb68048d831dc1bf53763c25bb121fa6c8b3eb444961ca296ad1d5513e2b4");
    expect(digest(`${text}    break_glass: { enabled: false, approvals: 3 }\n`)).toBe(digest(text));
    expect(digest(`${text}    break_glass: { enabled: true }\n`)).not.toBe(digest(text));
    expect(digest(`${text}    promotion: { from: staging, min_age: 1h }\n`)).toBe(
      digest(`${text}    promotion: { from: staging, min_age: 60m }\n`),
    );
  });

  const errors: [string, string, string][] = [
    [
      "min_age without a unit",
      "    promotion: { from: staging, min_age: 60 }\n",
      "5:42: branches[0].promotion.min_age: must be a string, got number 60",
    ],
    [
      "min_age over a year",
      "    promotion: { from: staging, min_age: 400d }\n",
      '5:42: branches[0].promotion.min_age: `400d` must be "0" or a duration of at most 365d',
    ],
    [
      "from_path without path",
      "    promotion: { from: staging, min_age: 1h, from_path: envs/staging }\n",
      "5:57: branches[0].promotion: `from_path` needs `path`",
    ],
    [
      "promoting an environment from itself",
      "    promotion: { from: production, min_age: 1h }\n",
      "5:24: branches[0].promotion: promoting `production` from itself",
    ],
    [
      "a bad environment name",
      "    promotion: { from: ../x, min_age: 1h }\n",
      "5:24: branches[0].promotion.from: must be letters",
    ],
    [
      "an unknown key",
      "    promotion: { from: staging, min_age: 1h, paht: x }\n",
      "5:46: unknown key `paht` in branches[0].promotion (did you mean `path`?)",
    ],
    [
      "break_glass without enabled",
      "    break_glass: { approvals: 2 }\n",
      "5:18: branches[0].break_glass: missing required key `enabled`",
    ],
    [
      "one admin (no admin alone)",
      "    break_glass: { enabled: true, approvals: 1 }\n",
      "5:46: branches[0].break_glass.approvals: must be at least 2",
    ],
    [
      "more approvals than admins",
      "    break_glass: { enabled: true, approvals: 3, admins: ['@carol', '@dave'] }\n",
      "5:46: branches[0].break_glass: needs 3 distinct admins and names 2",
    ],
    [
      "an empty admin list",
      "    break_glass: { enabled: true, admins: [] }\n",
      "5:43: branches[0].break_glass.admins: must list at least 1 item",
    ],
  ];
  for (const [name, extra, expected] of errors) {
    it(`error with line and column: ${name}`, () => {
      const found = errorsOf(branch(extra));
      expect(
        found.some((e) => e.startsWith(expected)),
        found.join("\n"),
      ).toBe(true);
    });
  }
});

describe("org -> repo merge", () => {
  const org = branch(
    "    promotion: { from: staging, min_age: 1h }\n    break_glass: { enabled: true, approvals: 2, admins: ['@carol', '@dave', '@erin'] }\n",
  );
  const repo = (extra: string) => `version: 1\nbranches:\n  - branch: production\n${extra}`;

  it("inherits the org's, and may tighten: longer min_age, more approvals, fewer admins, break-glass off", () => {
    expect(merge(org, repo("")).main).toMatchObject({
      promotion: { from: "staging", minAgeMs: 3_600_000 },
      breakGlass: { enabled: true, approvals: 2, admins: ["@carol", "@dave", "@erin"] },
    });
    const tighter = merge(
      org,
      repo(
        "    promotion: { from: staging, min_age: 2h }\n    break_glass: { enabled: true, approvals: 2, admins: ['@carol', '@dave'] }\n",
      ),
    );
    expect(tighter.errors).toEqual([]);
    expect(tighter.main).toMatchObject({
      promotion: { minAgeMs: 7_200_000 },
      breakGlass: { enabled: true, admins: ["@carol", "@dave"], label: "pullgate/break-glass" },
    });
    expect(merge(org, repo("    break_glass: { enabled: false }\n")).main).not.toHaveProperty("breakGlass");
  });

  it("a repository adding promotion to an org branch tightens it", () => {
    const plain = branch("");
    expect(
      merge(plain, repo("    promotion: { from: staging, min_age: 1h }\n")).main?.promotion,
    ).toMatchObject({
      from: "staging",
    });
  });

  const looser: [string, string, string][] = [
    [
      "a shorter min_age",
      "    promotion: { from: staging, min_age: 10m }\n",
      "promotion.min_age `10m` is shorter than the org's",
    ],
    [
      "another source environment",
      "    promotion: { from: dev, min_age: 1h }\n",
      "promotion differs from the org's",
    ],
    [
      "an admin the org does not name",
      "    break_glass: { enabled: true, approvals: 2, admins: ['@carol', '@dave', '@mallory'] }\n",
      "`@mallory` is not one of the org's break-glass admins",
    ],
    [
      "another label",
      "    break_glass: { enabled: true, label: 'ok-to-merge' }\n",
      "break_glass.label `ok-to-merge` differs from the org's",
    ],
  ];
  for (const [name, extra, message] of looser) {
    it(`refused: ${name}`, () => {
      const result = merge(org, repo(extra));
      expect(result.policy).toBeNull();
      expect(result.messages.join("\n")).toContain(message);
      expect(result.messages[0]).toMatch(/^acme\/deploy:\.github\/pullgate\.yml:4:\d+: branch `production`/);
    });
  }

  it("refused: a repository turning break-glass on where the org has it off or unset, on org and own branches", () => {
    const off = merge(
      branch("    break_glass: { enabled: false }\n"),
      repo("    break_glass: { enabled: true }\n"),
    );
    expect(off.messages.join()).toContain("break_glass.enabled is true, the org's is off");
    const unset = merge(
      branch(""),
      repo("    break_glass: { enabled: true, admins: ['@carol', '@dave'] }\n"),
    );
    expect(unset.messages.join()).toContain("the org's is off (unset or false)");
    const own = merge(
      branch(""),
      "version: 1\nbranches:\n  - branch: hotfix\n    break_glass: { enabled: true, admins: ['@carol', '@dave'] }\n",
    );
    expect(own.policy).toBeNull();
    expect(own.messages.join()).toContain("only the org can open the emergency path");
  });

  it("refused: approvals below the org's", () => {
    const strict = branch("    break_glass: { enabled: true, approvals: 3 }\n");
    const result = merge(strict, repo("    break_glass: { enabled: true, approvals: 2 }\n"));
    expect(result.messages.join()).toContain("break_glass.approvals 2 is looser than the org's 3");
  });
});
