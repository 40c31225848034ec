/**
 * The record's trailer block is the one `git interpret-trailers --parse` finds (docs/architecture.md,
 * "Record contract"): a property test against the real git binary. Messages are built around a
 * genuine record's trailers with adversarial bodies and tails: "---" lines (format-patch's divider,
 * after which git sees no trailers), blank and whitespace-only lines, look-alike trailers (other
 * case, space before the colon, no space after it, continuation lines, Signed-off-by, comments),
 * CRLF. Whenever our parser accepts a message, git must read exactly the trailers we interpreted,
 * in order; anything else our parser must refuse.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  formatRecordMessage,
  parseRecordMessage,
  refreshSummary,
  type RecordFields,
} from "../../src/record/format.js";

const cwd = mkdtempSync(join(tmpdir(), "pullgate-trailers-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** git's reading of the message's trailers, with no user or system config (trailer.* unset). */
function gitTrailers(message: string): string {
  return execFileSync("git", ["interpret-trailers", "--parse"], {
    input: message,
    encoding: "utf8",
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_DIR: join(cwd, "none"),
    },
  });
}

const FIELDS: RecordFields = {
  repository: "acme/deploy",
  environment: "production",
  branch: "main",
  sequence: 7,
  sourceCommit: "a".repeat(40),
  sourceTree: "b".repeat(40),
  pullRequest: 42,
  approvedBy: ["alice", "bob"],
  policyDigest: "sha256:" + "c".repeat(64),
  issuedAt: "2026-11-22T02:00:00Z",
  key: "D".repeat(40),
};
const GENUINE = formatRecordMessage(FIELDS);
const SUBJECT = GENUINE.slice(0, GENUINE.indexOf("\n"));
const TRAILER_LINES = GENUINE.slice(GENUINE.lastIndexOf("\n\n") + 2, -1).split("\n");

/** Lines an attacker (or a careless body) might put anywhere. */
const TRICKY_LINE = fc.oneof(
  fc.constantFrom(
    "---",
    "--- ",
    "---\tpatch",
    "--- a/file",
    "----",
    "-- ",
    "",
    " ",
    "\t",
    "Pullgate-Sequence: 9",
    "pullgate-sequence: 9",
    "Pullgate-Sequence : 9",
    "Pullgate-Sequence:9",
    "Pullgate-Sequence:  9",
    "Pullgate-Approved-By: mallory",
    " continued value",
    "\tcontinued value",
    "Signed-off-by: Mallory <m@example.com>",
    "(cherry picked from commit " + "e".repeat(40) + ")",
    "# a comment",
    "#",
    "Not a trailer line",
    "Decision:",
    "Key: value\r",
    "Refresh of record #6: nope",
    refreshSummary(6),
    "Argocd-gpg-seal: sealed",
  ),
  fc.string({ maxLength: 30, unit: "grapheme-ascii" }),
);
const PARAGRAPH = fc.array(TRICKY_LINE, { minLength: 1, maxLength: 4 }).map((lines) => lines.join("\n"));
const SEPARATOR = fc.constantFrom("\n\n", "\n", "\n\n\n", "\n \n", "\n\t\n", "\r\n\r\n");

/** The genuine trailer block, sometimes with a tricky line inserted, dropped or reordered. */
const TRAILER_BLOCK = fc.oneof(
  { weight: 3, arbitrary: fc.constant(TRAILER_LINES) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat({ max: TRAILER_LINES.length }), TRICKY_LINE)
      .map(([at, line]) => [...TRAILER_LINES.slice(0, at), line, ...TRAILER_LINES.slice(at)]),
  },
  {
    weight: 1,
    arbitrary: fc
      .nat({ max: TRAILER_LINES.length - 1 })
      .map((at) => [...TRAILER_LINES.slice(0, at), ...TRAILER_LINES.slice(at + 1)]),
  },
);
const TAIL = fc.constantFrom(
  "\n",
  "",
  "\n\n",
  "\n\n\n",
  "\n \n",
  "\n---\n",
  "\n\n---\ndiff --git a b\n",
  "\n# c\n",
  "\r\n",
);

const MESSAGE = fc
  .record({
    body: fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as string[]) },
      { weight: 3, arbitrary: fc.array(PARAGRAPH, { minLength: 1, maxLength: 3 }) },
    ),
    separators: fc.array(SEPARATOR, { minLength: 4, maxLength: 4 }),
    clean: fc.boolean(),
    trailers: TRAILER_BLOCK,
    tail: TAIL,
    crlf: fc.boolean(),
  })
  .map(({ body, separators, clean, trailers, tail, crlf }) => {
    // Half of the cases use only "\n\n" between paragraphs, so that many messages are acceptable
    // and the comparison with git is not vacuous.
    const sep = (i: number) => (clean ? "\n\n" : (separators[i % separators.length] ?? "\n\n"));
    let text = SUBJECT;
    body.forEach((paragraph, i) => (text += sep(i) + paragraph));
    text += sep(3) + trailers.join("\n") + (clean ? "\n" : tail);
    return crlf && !clean ? text.replace(/\n/g, "\r\n") : text;
  });

describe("the trailer block is found exactly as git interpret-trailers --parse finds it", () => {
  it("git reads exactly our trailers whenever we accept; we refuse everything else git reads differently", () => {
    let accepted = 0;
    let refused = 0;
    let gitDisagreesAndWeRefuse = 0;
    fc.assert(
      fc.property(MESSAGE, (message) => {
        const parsed = parseRecordMessage(message);
        const git = gitTrailers(message);
        if (parsed.fields === null) {
          refused++;
          if (git !== TRAILER_LINES.join("\n") + "\n") gitDisagreesAndWeRefuse++;
          return;
        }
        accepted++;
        // What we interpreted, written back in canonical order, is what git read, byte for byte.
        const ours = formatRecordMessage(parsed.fields, {
          argocdSeal: parsed.argocdSeal ?? false,
        });
        expect(git).toBe(ours.slice(ours.lastIndexOf("\n\n") + 2));
        expect(git).toBe(message.slice(message.lastIndexOf("\n\n") + 2));
      }),
      { numRuns: Number(process.env.PULLGATE_TRAILER_RUNS ?? 400) },
    );
    // Not vacuous: both outcomes occurred, including messages git reads differently.
    expect(accepted).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(40);
    expect(gitDisagreesAndWeRefuse).toBeGreaterThan(10);
  });

  it("examples: a '---' line hides the trailers from git, and we refuse it", () => {
    const hidden = `${SUBJECT}\n\nBody.\n---\n\n${TRAILER_LINES.join("\n")}\n`;
    expect(gitTrailers(hidden)).toBe("");
    expect(parseRecordMessage(hidden).errors.join()).toMatch(/---/);
    // "----" is not git's divider; still refused (records never contain such a line).
    const four = `${SUBJECT}\n\nBody.\n----\n\n${TRAILER_LINES.join("\n")}\n`;
    expect(gitTrailers(four)).toBe(TRAILER_LINES.join("\n") + "\n");
    expect(parseRecordMessage(four).fields).toBeNull();
    // A whitespace-only line is a paragraph break to git: the real block is then the last one.
    const spaced = `${SUBJECT}\n\nBody.\n \n${TRAILER_LINES.join("\n")}\n`;
    expect(gitTrailers(spaced)).toBe(TRAILER_LINES.join("\n") + "\n");
    expect(parseRecordMessage(spaced).fields).toBeNull();
    // The same trailers in another order: git reads them, but it is a second spelling of the
    // record, refused.
    const [first, ...rest] = TRAILER_LINES;
    const reordered = `${SUBJECT}\n\n${[...rest, first].join("\n")}\n`;
    expect(gitTrailers(reordered)).toBe([...rest, first].join("\n") + "\n");
    expect(parseRecordMessage(reordered).errors).toContain("trailers are not in the canonical order");
  });
});
