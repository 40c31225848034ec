import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CODEOWNERS_MAX_BYTES, parseCodeowners, utf8Length } from "./parse.js";

describe("parseCodeowners", () => {
  it("reads patterns and owners of every form, skipping comments and blank lines", () => {
    const parsed = parseCodeowners(
      [
        "# a comment",
        "",
        "   ",
        "*       @global-owner1 @global-owner2",
        "*.go docs@example.com",
        "*.txt @octo-org/octocats",
        "\t# an indented comment",
      ].join("\n"),
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toEqual([
      { pattern: "*", owners: ["@global-owner1", "@global-owner2"], line: 4 },
      { pattern: "*.go", owners: ["docs@example.com"], line: 5 },
      { pattern: "*.txt", owners: ["@octo-org/octocats"], line: 6 },
    ]);
  });

  it("ends a rule at an inline comment", () => {
    const parsed = parseCodeowners("*.js    @js-owner #This is an inline comment.\n*.md @a #@b\n");
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toEqual([
      { pattern: "*.js", owners: ["@js-owner"], line: 1 },
      { pattern: "*.md", owners: ["@a"], line: 2 },
    ]);
  });

  it("treats a pattern with no owners as a rule that un-owns", () => {
    const parsed = parseCodeowners("/apps/ @octocat\n/apps/github\n/apps/legacy   # no owners here\n");
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules.map((r) => [r.pattern, r.owners])).toEqual([
      ["/apps/", ["@octocat"]],
      ["/apps/github", []],
      ["/apps/legacy", []],
    ]);
  });

  it("handles CRLF line ends, a byte-order mark and tabs", () => {
    const parsed = parseCodeowners("\uFEFF*\t@a\r\n/docs/ \t @b\t\r\n\r\n");
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toEqual([
      { pattern: "*", owners: ["@a"], line: 1 },
      { pattern: "/docs/", owners: ["@b"], line: 2 },
    ]);
  });

  it("does not let a lone CR glue characters onto a token", () => {
    const parsed = parseCodeowners("a\r@x\n");
    expect(parsed.rules).toEqual([{ pattern: "a", owners: ["@x"], line: 1 }]);
  });

  it("lists each owner once, comparing case-insensitively as GitHub does", () => {
    const parsed = parseCodeowners("* @Alice @alice @org/Team @org/team\n");
    expect(parsed.rules[0]?.owners).toEqual(["@Alice", "@org/Team"]);
  });

  it("keeps a backslash-escaped space inside the pattern", () => {
    const parsed = parseCodeowners("my\\ file.txt @a\n");
    expect(parsed.rules).toEqual([{ pattern: "my\\ file.txt", owners: ["@a"], line: 1 }]);
  });

  describe("errors: the line is skipped, the rest of the file still applies", () => {
    const cases: { line: string; kind: string; column: number }[] = [
      { line: "!docs/ @a", kind: "Unsupported syntax", column: 1 },
      { line: "src/*.[ch] @a", kind: "Unsupported syntax", column: 7 },
      { line: "\\#notes @a", kind: "Unsupported syntax", column: 1 },
      { line: "  ***/x.rb @a", kind: "Invalid pattern", column: 3 },
      { line: "a//b @a", kind: "Invalid pattern", column: 2 },
      { line: "*.js owner", kind: "Invalid owner", column: 6 },
      { line: "*.js @a @", kind: "Invalid owner", column: 9 },
      { line: "*.js @-bad", kind: "Invalid owner", column: 6 },
      { line: "*.js @org/", kind: "Invalid owner", column: 6 },
      { line: "*.js @org/team/sub", kind: "Invalid owner", column: 6 },
      { line: "*.js @a@b", kind: "Invalid owner", column: 6 },
      { line: "*.js user@localhost", kind: "Invalid owner", column: 6 },
      { line: "*.js @ok @a#b", kind: "Invalid owner", column: 10 },
    ];
    for (const { line, kind, column } of cases) {
      it(`${JSON.stringify(line)} → ${kind} at column ${column}`, () => {
        const parsed = parseCodeowners(`* @default\n${line}\n*.md @docs\n`);
        expect(parsed.errors).toHaveLength(1);
        const [error] = parsed.errors;
        expect(error).toMatchObject({ kind, line: 2, column, source: line });
        expect(error?.message).toContain(`${kind} on line 2, column ${column}`);
        expect(parsed.rules.map((r) => r.line)).toEqual([1, 3]);
      });
    }
  });

  it("rejects owners carrying invisible characters (zero-width space, no-break space)", () => {
    for (const owner of ["@sec\u200b", "@sec\u00a0@other", "@o\u200d/t", "s\u200bec@example.com"]) {
      const parsed = parseCodeowners(`/secrets/ ${owner}\n`);
      expect(parsed.rules).toEqual([]);
      expect(parsed.errors[0]).toMatchObject({ kind: "Invalid owner", line: 1, column: 11 });
    }
  });

  it('suggests "*" for a pattern "/" that can never match, like GitHub does', () => {
    const parsed = parseCodeowners("/ @a\n");
    expect(parsed.rules).toEqual([]);
    expect(parsed.errors[0]).toMatchObject({ kind: "Invalid pattern", line: 1, column: 1 });
    expect(parsed.errors[0]?.message).toContain('did you mean "*"?');
  });

  it("ignores a file of 3 MB or more entirely, with one error", () => {
    const line = "*.yaml @org/platform\n";
    const text = line.repeat(Math.ceil(CODEOWNERS_MAX_BYTES / line.length));
    const parsed = parseCodeowners(text);
    expect(parsed.rules).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({ kind: "File too large", line: 1, column: 1 });
  });

  it("counts bytes, not characters, against the size limit", () => {
    // 1 MiB + 1 characters of 3 bytes each: under the limit in characters, over it in bytes.
    const text = "# " + "€".repeat(1024 * 1024 + 1);
    expect(text.length).toBeLessThan(CODEOWNERS_MAX_BYTES);
    expect(parseCodeowners(text).errors[0]?.kind).toBe("File too large");
    expect(parseCodeowners("* @a", { sizeBytes: CODEOWNERS_MAX_BYTES }).rules).toEqual([]);
    expect(parseCodeowners("* @a", { sizeBytes: CODEOWNERS_MAX_BYTES - 1 }).rules).toHaveLength(1);
  });

  it("computes UTF-8 lengths like TextEncoder", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
    );
    // Lone surrogates encode as U+FFFD (3 bytes).
    expect(utf8Length("\ud800x\udc00")).toBe(new TextEncoder().encode("\ud800x\udc00").length);
  });
});

/** Text that looks like CODEOWNERS: tokens with the characters the parser cares about. */
const codeownersLike = fc
  .tuple(
    fc.array(
      fc.array(
        fc.constantFrom(
          "*",
          "**",
          "/",
          "docs/",
          "*.js",
          "!",
          "[",
          "]",
          "\\",
          "#",
          "@a",
          "@org/t",
          "x@y.io",
          " ",
          "\t",
          "\r",
          "é",
          "😀",
          "?",
          "apps",
          "",
        ),
        { maxLength: 8 },
      ),
      { maxLength: 20 },
    ),
    fc.boolean(),
  )
  .map(([lines, crlf]) => lines.map((tokens) => tokens.join("")).join(crlf ? "\r\n" : "\n"));

function checkInvariants(text: string): void {
  const parsed = parseCodeowners(text);
  const lines = text.split("\n");
  const errorLines = new Set(parsed.errors.map((e) => e.line));
  for (const error of parsed.errors) {
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.line).toBeLessThanOrEqual(lines.length);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeLessThanOrEqual((lines[error.line - 1]?.length ?? 0) + 1);
    expect(error.message.length).toBeGreaterThan(0);
  }
  let previous = 0;
  for (const rule of parsed.rules) {
    expect(errorLines.has(rule.line)).toBe(false);
    expect(rule.line).toBeGreaterThan(previous);
    previous = rule.line;
    expect(rule.pattern.length).toBeGreaterThan(0);
    expect(rule.pattern).not.toMatch(/^[#!]/);
    for (const owner of rule.owners) expect(owner).toMatch(/^(@|[^@\s]+@)/);
  }
}

describe("parseCodeowners robustness (property)", () => {
  it("never throws on arbitrary strings, and its output is well-formed", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), checkInvariants), { numRuns: 500 });
  });

  it("never throws on CODEOWNERS-like text, and error lines never produce rules", () => {
    fc.assert(fc.property(codeownersLike, checkInvariants), { numRuns: 1000 });
  });

  it("is deterministic and line-local: a line parses the same whatever surrounds it", () => {
    fc.assert(
      fc.property(codeownersLike, codeownersLike, (before, after) => {
        const probe = "/apps/ @org/apps # owners";
        const parsed = parseCodeowners(`${before}\n${probe}\n${after}`);
        const line = before.split("\n").length + 1;
        expect(parsed.rules.find((r) => r.line === line)).toEqual({
          pattern: "/apps/",
          owners: ["@org/apps"],
          line,
        });
      }),
      { numRuns: 300 },
    );
  });
});
