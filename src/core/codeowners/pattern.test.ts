import { describe, expect, it } from "vitest";
import {
  codeownersPatternMatches,
  compilePattern,
  compilePatternOrThrow,
  globMatches,
  InvalidPatternError,
  pathSegments,
  patternMatches,
} from "./pattern.js";

function matches(pattern: string, path: string): boolean {
  const compiled = compilePattern(pattern);
  if (!compiled.ok) throw new Error(`pattern ${pattern} did not compile: ${compiled.problem.message}`);
  return patternMatches(compiled.pattern, pathSegments(path));
}

/**
 * Pattern × path → match, one row per semantic rule of GitHub's CODEOWNERS. Each pattern lists
 * paths that must match and paths that must not; between them they pin down anchoring, depth,
 * directory-only patterns, wildcards and case.
 */
const TABLE: { pattern: string; why: string; yes: string[]; no: string[] }[] = [
  {
    pattern: "*",
    why: "a lone star owns every path at any depth",
    yes: ["README.md", "a/b", "a/b/c.txt", ".github/workflows/ci.yml"],
    no: [],
  },
  {
    pattern: "**",
    why: "a lone globstar owns every path",
    yes: ["a", "a/b/c"],
    no: [],
  },
  {
    pattern: "/**",
    why: "an anchored lone globstar owns every path",
    yes: ["a", "a/b/c"],
    no: [],
  },
  {
    pattern: "foo",
    why: "no slash: a file or directory named foo at any depth, and everything beneath it",
    yes: ["foo", "foo/bar", "x/foo", "x/foo/bar/baz"],
    no: ["foo.txt", "x/foo.txt", "xfoo", "Foo", "bar"],
  },
  {
    pattern: "/foo",
    why: "leading slash anchors at the root",
    yes: ["foo", "foo/bar", "foo/bar/baz"],
    no: ["x/foo", "x/foo/bar", "fool", "foo.txt"],
  },
  {
    pattern: "foo/",
    why: "trailing slash: only what is beneath a directory foo, at any depth",
    yes: ["foo/bar", "foo/bar/baz", "x/foo/bar", "x/y/foo/bar"],
    no: ["foo", "x/foo", "foobar/x"],
  },
  {
    pattern: "/foo/",
    why: "leading and trailing slash: beneath the root directory foo only",
    yes: ["foo/bar", "foo/bar/baz"],
    no: ["foo", "x/foo/bar"],
  },
  {
    pattern: "foo/bar",
    why: "a middle slash anchors at the root",
    yes: ["foo/bar", "foo/bar/baz"],
    no: ["x/foo/bar", "foo/bart", "foo/baz/bar"],
  },
  {
    pattern: "/foo/bar/",
    why: "anchored directory",
    yes: ["foo/bar/baz", "foo/bar/baz/qux"],
    no: ["foo/bar", "x/foo/bar/baz"],
  },
  {
    pattern: "docs/*",
    why: "a trailing lone star matches direct children only (GitHub's documented example)",
    yes: ["docs/getting-started.md", "docs/build-app"],
    no: ["docs", "docs/build-app/troubleshooting.md", "x/docs/a.md"],
  },
  {
    pattern: "/*",
    why: "anchored lone star: files at the root only",
    yes: ["README.md", "Makefile"],
    no: ["a/b", "src/index.js"],
  },
  {
    pattern: "/*/",
    why: "beneath any top-level directory",
    yes: ["a/b", "a/b/c"],
    no: ["a"],
  },
  {
    pattern: "*.js",
    why: "a glob without slash matches names at any depth",
    yes: ["index.js", "src/index.js", "a/b/c/x.js", "weird.js/inner"],
    no: ["index.jsx", "index.JS", "js", "src/index.ts"],
  },
  {
    pattern: "f*",
    why: "a star within a segment; the named directory owns its contents",
    yes: ["foo", "f", "foo/bar", "x/foo", "x/foo/bar"],
    no: ["bar", "xfoo", "x/bar"],
  },
  {
    pattern: "/f*",
    why: "anchored glob",
    yes: ["foo", "foo/bar"],
    no: ["x/foo", "bar"],
  },
  {
    pattern: "f*/",
    why: "glob naming directories only",
    yes: ["foo/bar", "x/foo/bar"],
    no: ["foo", "x/foo"],
  },
  {
    pattern: "f?o",
    why: "? matches exactly one character",
    yes: ["foo", "fao", "x/fzo", "f-o/a"],
    no: ["fo", "fooo", "f/o"],
  },
  {
    pattern: "caf?",
    why: "? matches one character, not one UTF-16 unit",
    yes: ["café", "caf😀"],
    no: ["caf", "cafés"],
  },
  {
    pattern: "foo/*.txt",
    why: "anchored glob one level down",
    yes: ["foo/a.txt", "foo/.txt"],
    no: ["foo/a/b.txt", "x/foo/a.txt", "foo/a.txt.bak"],
  },
  {
    pattern: "foo/*/baz",
    why: "a middle lone star is exactly one segment",
    yes: ["foo/bar/baz", "foo/bar/baz/qux"],
    no: ["foo/baz", "foo/a/b/baz"],
  },
  {
    pattern: "**/logs",
    why: "leading globstar: at any depth, including the root",
    yes: ["logs", "logs/x", "build/logs/x", "deeply/nested/logs/x"],
    no: ["logsx", "build/log/x"],
  },
  {
    pattern: "**/foo/bar",
    why: "leading globstar before a two-segment tail",
    yes: ["foo/bar", "x/foo/bar", "x/y/foo/bar/baz"],
    no: ["foo/x/bar", "x/foo/baz/bar"],
  },
  {
    pattern: "foo/**/bar",
    why: "middle globstar: zero or more segments",
    yes: ["foo/bar", "foo/x/bar", "foo/x/y/bar", "foo/x/bar/baz"],
    no: ["x/foo/bar", "foo/barx", "foo"],
  },
  {
    pattern: "foo/**",
    why: "trailing globstar: everything beneath, not the directory itself",
    yes: ["foo/bar", "foo/bar/baz"],
    no: ["foo", "x/foo/bar"],
  },
  {
    pattern: "foo/**/",
    why: "trailing globstar and slash",
    yes: ["foo/bar", "foo/bar/baz"],
    no: ["foo"],
  },
  {
    pattern: "foo/**/*.yaml",
    why: "globstar then extension glob",
    yes: ["foo/a.yaml", "foo/x/y/a.yaml"],
    no: ["a.yaml", "x/foo/a.yaml", "foo/a.yml"],
  },
  {
    pattern: "**/*.yaml",
    why: "globstar with extension: any depth",
    yes: ["a.yaml", "x/y/a.yaml"],
    no: ["a.yml"],
  },
  {
    pattern: "**/**/x",
    why: "consecutive globstars act as one",
    yes: ["x", "a/x", "a/b/x"],
    no: ["a/y"],
  },
  {
    pattern: "a**b",
    why: "stars inside a segment are ordinary stars, not a globstar",
    yes: ["ab", "axxb", "q/ab"],
    no: ["a/b", "a/x/b"],
  },
  {
    pattern: "f\\*o",
    why: "an escaped star is a literal star",
    yes: ["f*o"],
    no: ["foo", "fo"],
  },
  {
    pattern: "f\\?o",
    why: "an escaped question mark is literal",
    yes: ["f?o"],
    no: ["foo"],
  },
  {
    pattern: "my\\ file.txt",
    why: "an escaped space is part of the name",
    yes: ["my file.txt", "a/my file.txt"],
    no: ["my", "file.txt"],
  },
  {
    pattern: "foo#bar",
    why: "a hash inside a pattern is literal (only a hash starting a token begins a comment)",
    yes: ["foo#bar"],
    no: ["foo"],
  },
  {
    pattern: "Apps/",
    why: "matching is case-sensitive",
    yes: ["Apps/x"],
    no: ["apps/x", "APPS/x"],
  },
  {
    pattern: "*a*a*a*a*a*a*a*b",
    why: "many stars stay linear-time (no catastrophic backtracking)",
    yes: ["aaaaaaaab", "xaayaaaaab"],
    no: ["a".repeat(5000)],
  },
];

describe("CODEOWNERS pattern semantics (table)", () => {
  for (const row of TABLE) {
    describe(`${row.pattern}: ${row.why}`, () => {
      for (const path of row.yes) {
        it(`matches ${path}`, () => expect(matches(row.pattern, path)).toBe(true));
      }
      for (const path of row.no) {
        it(`does not match ${path}`, () => expect(matches(row.pattern, path)).toBe(false));
      }
    });
  }
});

describe("compilePattern errors", () => {
  const cases: [string, string, number][] = [
    ["!foo", "Unsupported syntax", 0],
    ["foo[ab]", "Unsupported syntax", 3],
    ["\\#foo", "Unsupported syntax", 0],
    ["a/\\#b", "Unsupported syntax", 2],
    ["***/x.rb", "Invalid pattern", 0],
    ["a/****", "Invalid pattern", 2],
    ["/", "Invalid pattern", 0],
    ["//", "Invalid pattern", 0],
    ["a//b", "Invalid pattern", 1],
    ["foo\\", "Invalid pattern", 3],
    ["a\\/b", "Invalid pattern", 1],
  ];
  for (const [pattern, kind, offset] of cases) {
    it(`${pattern} → ${kind} at offset ${offset}`, () => {
      const result = compilePattern(pattern);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.problem.kind).toBe(kind);
        expect(result.problem.offset).toBe(offset);
      }
    });
  }

  it("accepts ! and ] where they are not negation or a range", () => {
    expect(compilePattern("a!b").ok).toBe(true);
    expect(compilePattern("a]b").ok).toBe(true);
    expect(compilePattern("a\\[b").ok).toBe(true);
  });
});

describe("globMatches", () => {
  it("agrees with the slow path on the single-star fast path", () => {
    const compiled = compilePattern("ab*ba");
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    const segment = compiled.pattern.segments[1];
    expect(segment?.kind).toBe("glob");
    if (segment?.kind !== "glob") return;
    // "aba" would satisfy startsWith("ab") and endsWith("ba") but is too short for both.
    expect(globMatches(segment.glob, "aba")).toBe(false);
    expect(globMatches(segment.glob, "abba")).toBe(true);
    expect(globMatches(segment.glob, "abxyzba")).toBe(true);
  });
});

describe("single-pattern helpers (for policy path rules)", () => {
  it("compilePatternOrThrow throws a typed error naming the problem", () => {
    expect(() => compilePatternOrThrow("!secrets/")).toThrow(InvalidPatternError);
    let caught: unknown = null;
    try {
      compilePatternOrThrow("docs/[ab]");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidPatternError);
    expect((caught as InvalidPatternError).problem).toMatchObject({ kind: "Unsupported syntax", offset: 5 });
  });

  it("codeownersPatternMatches applies CODEOWNERS semantics to a path string", () => {
    const pattern = compilePatternOrThrow(".github/");
    expect(codeownersPatternMatches(pattern, ".github/workflows/ci.yml")).toBe(true);
    expect(codeownersPatternMatches(pattern, "src/.github/x")).toBe(true);
    expect(codeownersPatternMatches(pattern, ".github")).toBe(false);
  });
});
