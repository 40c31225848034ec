import { describe, expect, it } from "vitest";
import { matchesPattern } from "../reviews/pattern.js";
import { scanFiles, secretsRule } from "../secrets/index.js";
import { parsePolicy } from "./parse.js";

const FILE = ".github/pullgate.yml";

function branches(text: string) {
  const result = parsePolicy(text, FILE);
  expect(result.errors).toEqual([]);
  return result.policy?.branches ?? [];
}

function errors(text: string): string[] {
  return parsePolicy(text, FILE).errors.map((e) => `${e.line}:${e.column}: ${e.message}`);
}

describe("policy key secrets", () => {
  it("is on with no allow-list for every governed branch by default", () => {
    expect(branches("version: 1\nbranches:\n  - branch: main\n")[0]?.secrets).toEqual({
      enabled: true,
      allow: [],
    });
  });

  it("takes defaults, and a branch entry overrides them field by field", () => {
    const text = [
      "version: 1",
      "defaults:",
      "  secrets:",
      "    allow: [test/fixtures/]",
      "branches:",
      "  - branch: main",
      "  - branch: sandbox",
      "    secrets: {enabled: false}",
      "  - branch: staging",
      "    secrets: {allow: []}",
    ].join("\n");
    expect(branches(text).map((b) => [b.branch, b.secrets])).toEqual([
      ["main", { enabled: true, allow: ["test/fixtures/"] }],
      ["sandbox", { enabled: false, allow: ["test/fixtures/"] }],
      ["staging", { enabled: true, allow: [] }],
    ]);
  });

  it("refuses unknown keys, non-boolean enabled and patterns with whitespace, at their line", () => {
    expect(errors("version: 1\nbranches:\n  - branch: main\n    secrets: {enable: false}\n")[0]).toMatch(
      /^4:15: unknown key `enable` in branches\[0\]\.secrets \(did you mean `enabled`\?\)/,
    );
    expect(errors('version: 1\ndefaults:\n  secrets:\n    enabled: "no"\n')[0]).toMatch(
      /^4:14: defaults.secrets.enabled: must be true or false/,
    );
    expect(errors("version: 1\ndefaults:\n  secrets:\n    allow: ['a b']\n")[0]).toMatch(
      /^4:13: .*CODEOWNERS-style pattern without whitespace/,
    );
  });

  it("feeds the scanner: the resolved allow-list is what scanFiles skips", () => {
    const [main] = branches(
      "version: 1\ndefaults:\n  secrets: {allow: [test/fixtures/]}\nbranches:\n  - branch: main\n",
    );
    if (main === undefined) throw new Error("main missing");
    const secret = "apiVersion: v1\nkind: Secret\nstringData:\n  p: Tr0ub4dor-and-3-horses\n";
    const files = [
      { path: "test/fixtures/s.yaml", text: secret },
      { path: "apps/s.yaml", text: secret },
    ];
    const verdict = secretsRule({
      enabled: main.secrets.enabled,
      ...scanFiles({ files, allow: main.secrets.allow, matchesPattern }),
    });
    expect(verdict.result.status).toBe("fail");
    expect(verdict.annotationBatches.flat().map((a) => a.path)).toEqual(["apps/s.yaml"]);
    expect(verdict.result.notes).toContain("Not scanned (secrets.allow): test/fixtures/s.yaml.");
  });
});
