import { explainInvalidOwner, classifyOwner } from "./owner.js";
import { compilePattern } from "./pattern.js";
import type { CodeownersError, CodeownersErrorKind, CodeownersRule, ParsedCodeowners } from "./types.js";

/**
 * GitHub ignores a CODEOWNERS file that is not "under 3 MB": such a file yields one "File too
 * large" error and no rules. GitHub does not say whether a MB is 10^6 or 2^20 bytes; we use 2^20,
 * and count the bytes the file has (UTF-8), not its characters.
 */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

export interface ParseOptions {
  /** The file's size in bytes, if the caller has it (defaults to the UTF-8 length of `text`). */
  sizeBytes?: number;
}

/** Whitespace between a pattern and its owners. A lone CR counts, so it cannot hide in a token. */
function isBlank(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v";
}

/** UTF-8 length of a string without allocating an encoded copy. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

interface LineResult {
  rule?: CodeownersRule;
  error?: CodeownersError;
}

function lineError(kind: CodeownersErrorKind, line: number, column: number, detail: string, source: string) {
  return {
    error: { kind, line, column, message: `${kind} on line ${line}, column ${column}: ${detail}`, source },
  };
}

/**
 * Parses one line. Columns are 1-based UTF-16 offsets. A line with any error yields no rule: it is
 * skipped, as GitHub skips it, and the error says why.
 */
function parseLine(text: string, line: number): LineResult {
  let i = 0;
  while (isBlank(text[i])) i++;
  if (i >= text.length || text[i] === "#") return {};

  // The pattern: up to the first unescaped blank. A backslash keeps the next character in it.
  const patternStart = i;
  while (i < text.length && !isBlank(text[i])) i += text[i] === "\\" && i + 1 < text.length ? 2 : 1;
  const pattern = text.slice(patternStart, i);
  const compiled = compilePattern(pattern);
  if (!compiled.ok) {
    const { kind, offset, message } = compiled.problem;
    return lineError(kind, line, patternStart + offset + 1, message, text);
  }

  // Owners: blank-separated tokens; a token starting with "#" starts an inline comment.
  const owners: string[] = [];
  const seen = new Set<string>();
  for (;;) {
    while (isBlank(text[i])) i++;
    if (i >= text.length || text[i] === "#") break;
    const tokenStart = i;
    while (i < text.length && !isBlank(text[i])) i++;
    const token = text.slice(tokenStart, i);
    if (classifyOwner(token) === null) {
      return lineError("Invalid owner", line, tokenStart + 1, explainInvalidOwner(token), text);
    }
    // GitHub logins, team slugs and emails compare case-insensitively: list each owner once.
    const key = token.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      owners.push(token);
    }
  }
  return { rule: { pattern, owners, line } };
}

/**
 * Parses a CODEOWNERS file with GitHub's semantics: `#` comments (whole-line and after a blank),
 * blank lines, LF or CRLF line ends, owners `@user`, `@org/team` or an email. A pattern with no
 * owners is a rule too: it leaves the paths it matches unowned. Never throws.
 */
export function parseCodeowners(text: string, options: ParseOptions = {}): ParsedCodeowners {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short text is under the limit without counting.
  const size = options.sizeBytes ?? (text.length * 3 < CODEOWNERS_MAX_BYTES ? text.length : utf8Length(text));
  if (size >= CODEOWNERS_MAX_BYTES) {
    return {
      rules: [],
      errors: [
        {
          kind: "File too large",
          line: 1,
          column: 1,
          message: `File too large: ${size} bytes; GitHub ignores a CODEOWNERS file of 3 MB or more`,
          source: "",
        },
      ],
    };
  }
  const rules: CodeownersRule[] = [];
  const errors: CodeownersError[] = [];
  // A byte-order mark is not part of the first pattern.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split("\n");
  for (let index = 0; index < lines.length; index++) {
    let lineText = lines[index] ?? "";
    if (lineText.endsWith("\r")) lineText = lineText.slice(0, -1);
    const result = parseLine(lineText, index + 1);
    if (result.rule !== undefined) rules.push(result.rule);
    if (result.error !== undefined) errors.push(result.error);
  }
  return { rules, errors };
}
