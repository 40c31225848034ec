import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodeownersCompileError, compileCodeowners, compileCodeownersNaive } from "./match.js";
import { parseCodeowners } from "./parse.js";
import type { CodeownersRule, OwnersMatch } from "./types.js";

/**
 * An independent reference for one pattern: GitHub's documented semantics translated straight
 * into a regular expression over the whole path (the production matcher works on segments with
 * its own wildcard matcher). Test-only: regexes are fine for short generated inputs.
 */
function referenceRegex(pattern: string): RegExp {
  let body = pattern;
  const anchored = body.startsWith("/");
  if (anchored) body = body.slice(1);
  let beneath = body.endsWith("/");
  if (beneath) body = body.slice(0, -1);
  let segments = body.split("/");
  if (!anchored && segments.length === 1) segments = ["**", ...segments];
  segments = segments.filter((s, i) => !(s === "**" && segments[i - 1] === "**"));
  if (segments.length > 1 && segments[segments.length - 1] === "**") {
    segments = segments.slice(0, -1);
    beneath = true;
  }
  const loneStarLast = segments[segments.length - 1] === "*";
  if (segments.length === 1 && segments[0] === "**") return beneath ? /^[^/]+\/.+$/u : /^.+$/u;

  const segmentRegex = (segment: string): string => {
    let out = "";
    for (let i = 0; i < segment.length; i++) {
      const ch = segment[i] ?? "";
      if (ch === "\\") out += (segment[++i] ?? "").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      else if (ch === "*") out += "[^/]*";
      else if (ch === "?") out += "[^/]";
      else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
    return out;
  };
  let re = "";
  segments.forEach((segment, i) => {
    // Only the first segment, or the one right after a leading "**", needs no slash before it.
    const slash = i === 0 || (i === 1 && segments[0] === "**") ? "" : "/";
    if (segment === "**") re += i === 0 ? "(?:[^/]+/)*" : "(?:/[^/]+)*";
    else if (segment === "*") re += `${slash}[^/]+`;
    else re += slash + segmentRegex(segment);
  });
  if (beneath) re += "/.+";
  else if (!loneStarLast) re += "(?:/.+)?";
  return new RegExp(`^${re}$`, "u");
}

function referenceOwnersOf(rules: CodeownersRule[], path: string): OwnersMatch {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    if (rule !== undefined && referenceRegex(rule.pattern).test(path))
      return { owners: rule.owners, line: rule.line };
  }
  return { owners: [], line: null };
}

const PATTERN_SEGMENTS = [
  "a",
  "b",
  "apps",
  "docs",
  "logs",
  "*",
  "?",
  "**",
  "*.js",
  "a*",
  "*.yaml",
  "?b",
  "x\\*",
  "é",
];
const PATH_SEGMENTS = ["a", "b", "ab", "bb", "apps", "docs", "logs", "x.js", "c.yaml", "x*", "é", "a.js"];

const patternArb = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.constantFrom(...PATTERN_SEGMENTS), { minLength: 1, maxLength: 4 }),
    fc.constantFrom("", "", "/"),
  )
  .map(([lead, segments, trail]) => `${lead ? "/" : ""}${segments.join("/")}${trail}`);

const ruleLineArb = fc
  .tuple(patternArb, fc.subarray(["@a", "@org/b", "c@example.com"]))
  .map(([pattern, owners]) => [pattern, ...owners].join(" "));

const pathArb = fc
  .array(fc.constantFrom(...PATH_SEGMENTS), { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join("/"));

describe("indexed matcher = naive matcher = regex reference (differential property)", () => {
  it("agree on random rule sets and paths", () => {
    fc.assert(
      fc.property(
        fc.array(ruleLineArb, { maxLength: 30 }),
        fc.array(pathArb, { minLength: 1, maxLength: 20 }),
        (lines, paths) => {
          const parsed = parseCodeowners(lines.join("\n"));
          expect(parsed.errors).toEqual([]);
          const indexed = compileCodeowners(parsed);
          const naive = compileCodeownersNaive(parsed);
          for (const path of paths) {
            const expected = referenceOwnersOf(parsed.rules, path);
            expect(naive.ownersOf(path)).toEqual(expected);
            expect(indexed.ownersOf(path)).toEqual(expected);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("agree on a rule set shaped like a monorepo (deep anchored trees, extensions, globstars)", () => {
    const envs = ["prod", "staging"];
    const teams = ["t1", "t2", "t3"];
    const lines = ["* @org/platform", "*.yaml @org/yaml"];
    for (const env of envs) {
      lines.push(`/clusters/${env}/ @org/${env}`);
      for (const team of teams) {
        lines.push(
          `/clusters/${env}/${team}/ @org/${team}`,
          `clusters/${env}/${team}/*.yaml @org/${team}-yaml`,
        );
      }
    }
    lines.push(
      "**/secrets/ @org/security",
      "apps/ @org/apps",
      "/apps/legacy",
      "docs/* @org/docs",
      "/*.md @org/docs",
    );
    const parsed = parseCodeowners(lines.join("\n"));
    const indexed = compileCodeowners(parsed);
    const segment = fc.constantFrom(
      "clusters",
      "apps",
      "docs",
      "secrets",
      "legacy",
      ...envs,
      ...teams,
      "a.yaml",
      "README.md",
      "x",
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const path = segments.join("/");
        expect(indexed.ownersOf(path)).toEqual(referenceOwnersOf(parsed.rules, path));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("last match wins (property)", () => {
  it("a rule naming the path itself, appended at the end, decides its owners whatever came before", () => {
    fc.assert(
      fc.property(fc.array(ruleLineArb, { maxLength: 30 }), pathArb, fc.boolean(), (lines, path, unown) => {
        const escaped = path.replace(/[*?\\]/g, "\\$&");
        const last = unown ? `/${escaped}` : `/${escaped} @final`;
        const parsed = parseCodeowners([...lines, last].join("\n"));
        expect(compileCodeowners(parsed).ownersOf(path)).toEqual({
          owners: unown ? [] : ["@final"],
          line: lines.length + 1,
        });
      }),
      { numRuns: 500 },
    );
  });

  it("parses generated rule lines back to exactly their patterns and owners", () => {
    fc.assert(
      fc.property(fc.array(ruleLineArb, { maxLength: 30 }), (lines) => {
        const parsed = parseCodeowners(lines.join("\r\n"));
        expect(parsed.errors).toEqual([]);
        expect(parsed.rules.map((r) => [r.pattern, ...r.owners].join(" "))).toEqual(lines);
        expect(parsed.rules.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      }),
    );
  });
});

describe("compileCodeowners", () => {
  it("the last matching rule wins, whatever its specificity", () => {
    const m = compileCodeowners(parseCodeowners("/apps/web/ @web\n*.js @js\n* @everyone\n"));
    expect(m.ownersOf("apps/web/index.js")).toEqual({ owners: ["@everyone"], line: 3 });
    const m2 = compileCodeowners(parseCodeowners("* @everyone\n*.js @js\n/apps/web/ @web\n"));
    expect(m2.ownersOf("apps/web/index.js")).toEqual({ owners: ["@web"], line: 3 });
    expect(m2.ownersOf("lib/index.js")).toEqual({ owners: ["@js"], line: 2 });
  });

  it("returns no owners and line null when nothing matches", () => {
    const m = compileCodeowners(parseCodeowners("/docs/ @docs\n"));
    expect(m.ownersOf("src/index.ts")).toEqual({ owners: [], line: null });
  });

  it("rules after an erroneous line still apply; the erroneous one does not", () => {
    const parsed = parseCodeowners("* @all\n!secret/ @nobody\n/secret/ @sec\n");
    expect(parsed.errors).toHaveLength(1);
    expect(compileCodeowners(parsed).ownersOf("secret/key")).toEqual({ owners: ["@sec"], line: 3 });
  });

  it("hands out copies: a caller cannot change the owners of a rule", () => {
    const m = compileCodeowners(parseCodeowners("* @a\n"));
    m.ownersOf("x").owners.push("@mallory");
    expect(m.ownersOf("x").owners).toEqual(["@a"]);
  });

  it("refuses rules whose patterns do not compile (fails closed, never guesses)", () => {
    const bad = { rules: [{ pattern: "!x", owners: ["@a"], line: 1 }], errors: [] };
    expect(() => compileCodeowners(bad)).toThrow(CodeownersCompileError);
    expect(() => compileCodeownersNaive(bad)).toThrow(CodeownersCompileError);
  });

  it("treats path-like keys such as __proto__ and constructor as plain names", () => {
    const m = compileCodeowners(parseCodeowners("/__proto__/ @a\nconstructor @b\n"));
    expect(m.ownersOf("__proto__/x")).toEqual({ owners: ["@a"], line: 1 });
    expect(m.ownersOf("x/constructor")).toEqual({ owners: ["@b"], line: 2 });
    expect(m.ownersOf("toString")).toEqual({ owners: [], line: null });
  });

  it("examines few candidates per lookup on a large file (the index works)", () => {
    const lines: string[] = ["* @org/platform"];
    for (let i = 0; i < 2000; i++) lines.push(`/clusters/prod/team-${i}/ @org/team-${i}`);
    for (let i = 0; i < 500; i++) lines.push(`*.ext${i} @org/ext-${i}`);
    const m = compileCodeowners(parseCodeowners(lines.join("\n")));
    const result = m.lookup("clusters/prod/team-1234/app/deploy.ext7");
    expect(result.match).toEqual({ owners: ["@org/ext-7"], line: 2009 });
    // "*", the team's rule and the extension's rule: three candidates out of 2,501 rules.
    expect(result.candidates).toBe(3);
    expect(result.examined).toBe(1);
    expect(m.lookup("clusters/prod/team-1234/app/x.txt")).toMatchObject({ candidates: 2, examined: 1 });
  });
});
