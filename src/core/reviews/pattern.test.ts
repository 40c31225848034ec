import { describe, expect, it } from "vitest";
import { PatternError, compile, matchesPattern } from "./pattern.js";

function expectMatches(pattern: string, yes: string[], no: string[]): void {
  for (const path of yes) expect(matchesPattern(pattern, path), `${pattern} ~ ${path}`).toBe(true);
  for (const path of no) expect(matchesPattern(pattern, path), `${pattern} !~ ${path}`).toBe(false);
}

describe("matchesPattern (CODEOWNERS-like semantics)", () => {
  it("a bare name matches a file or directory of that name at any depth, and everything beneath", () => {
    expectMatches(
      "CODEOWNERS",
      ["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", "CODEOWNERS/x"],
      ["CODEOWNERS.bak", "codeowners", "MYCODEOWNERS"],
    );
  });

  it("an extension glob matches at any depth", () => {
    expectMatches("*.js", ["a.js", "src/deep/b.js"], ["a.ts", "a.jsx"]);
  });

  it("a leading slash anchors at the root", () => {
    expectMatches(
      "/build/logs/",
      ["build/logs/a.log", "build/logs/deep/b.log"],
      ["x/build/logs/a.log", "build/logs"],
    );
    expectMatches("/CODEOWNERS", ["CODEOWNERS"], [".github/CODEOWNERS"]);
  });

  it("a slash in the middle anchors at the root", () => {
    expectMatches(
      ".github/pullgate.yml",
      [".github/pullgate.yml"],
      ["x/.github/pullgate.yml", ".github/pullgate.yml.bak"],
    );
    expectMatches(
      "apps/prod",
      ["apps/prod", "apps/prod/kustomization.yaml"],
      ["x/apps/prod/a", "apps/production"],
    );
  });

  it("a trailing slash means a directory at any depth and everything beneath it", () => {
    expectMatches("apps/", ["apps/a.yaml", "x/apps/b/c.yaml"], ["apps", "myapps/a.yaml"]);
  });

  it("dir/* matches direct children only", () => {
    expectMatches("docs/*", ["docs/getting-started.md"], ["docs/build-app/troubleshooting.md", "docs"]);
    expectMatches(".github/workflows/*", [".github/workflows/ci.yml"], [".github/ci.yml"]);
    expectMatches("/*", ["README.md", ".gitignore"], ["docs/a.md"]);
    expectMatches("docs/*/", ["docs/a/b.md", "docs/a/b/c.md"], ["docs/a.md"]);
  });

  it("** crosses directories", () => {
    expectMatches("**/logs", ["logs/a", "build/logs", "deep/er/logs/x"], ["logsx"]);
    expectMatches("keys/**", ["keys/a.asc", "keys/team/b.asc"], ["x/keys/a.asc"]);
    expectMatches("*", ["a", "b/c", ".github/x"], []);
  });

  it("is case-sensitive", () => {
    expectMatches("/Policy.yml", ["Policy.yml"], ["policy.yml"]);
  });

  it("does not treat braces or extglobs specially", () => {
    expectMatches("{a,b}.yml", ["{a,b}.yml"], ["a.yml", "b.yml"]);
    expectMatches("+(a).yml", ["+(a).yml"], ["a.yml"]);
  });

  it("refuses unsupported syntax with a typed error instead of guessing", () => {
    for (const bad of ["", " ", " a", "!secret", "[ab].yml", "a\\#b", "/", "//"]) {
      expect(() => compile(bad), bad).toThrow(PatternError);
      expect(() => matchesPattern(bad, "a"), bad).toThrow(PatternError);
    }
    const thrown = (() => {
      try {
        compile("!x");
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(PatternError);
    expect((thrown as PatternError).code).toBe("PATTERN_UNSUPPORTED");
    expect((thrown as PatternError).pattern).toBe("!x");
  });
});
