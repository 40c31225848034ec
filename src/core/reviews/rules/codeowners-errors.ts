/**
 * A CODEOWNERS line with an invalid owner is skipped (as GitHub does), which silently hands its
 * files to an earlier rule: `/secrets/ @sec @bad!owner` would leave `secrets/` to `*`. So a changed
 * file that such a line's pattern matches has uncertain owners, and the gate blocks it until the
 * base branch's CODEOWNERS is fixed. Lines whose pattern itself is unsupported never match on
 * GitHub either; they are reported as notes.
 */
import { codeownersPatternMatches, compilePattern } from "../../codeowners/pattern.js";
import type { CodeownersError } from "../../codeowners/types.js";
import type { RuleResult } from "../../verdict/types.js";

export const CODEOWNERS_ERRORS_RULE_ID = "codeowners-file";

/** The pattern of a CODEOWNERS line: its first whitespace-separated token. */
function patternOf(source: string): string | null {
  const token = source.trim().split(/\s+/)[0];
  return token && !token.startsWith("#") ? token : null;
}

export function codeownersErrorsRule(input: {
  path: string;
  errors: readonly CodeownersError[];
  changedFiles: readonly string[];
}): RuleResult {
  const blocked: { line: number; files: string[]; message: string }[] = [];
  const notes: string[] = [];
  for (const error of input.errors) {
    const pattern = error.kind === "Invalid owner" ? patternOf(error.source) : null;
    const compiled = pattern === null ? null : compilePattern(pattern);
    if (compiled?.ok) {
      const files = input.changedFiles.filter((f) => codeownersPatternMatches(compiled.pattern, f));
      if (files.length > 0) blocked.push({ line: error.line, files, message: error.message });
      else notes.push(`${input.path}:${error.line}: ${error.message} (no changed file matches this line)`);
    } else {
      notes.push(
        `${input.path}:${error.line}:${error.column}: ${error.kind}: ${error.message} (line ignored, as GitHub does)`,
      );
    }
  }
  const base = { id: CODEOWNERS_ERRORS_RULE_ID, title: "CODEOWNERS file", satisfied: [], notes };
  if (blocked.length === 0) {
    return {
      ...base,
      status: "pass",
      summary:
        input.errors.length === 0
          ? "CODEOWNERS has no errors"
          : "No changed file is affected by CODEOWNERS errors",
      missing: [],
      fix: [],
    };
  }
  return {
    ...base,
    status: "fail",
    summary: `${blocked.length} invalid CODEOWNERS line(s) leave the owners of changed files uncertain`,
    missing: blocked.map((b) => ({
      kind: "facts" as const,
      reason: `${input.path} line ${b.line} is invalid (${b.message}), so the owners of ${b.files.join(", ")} are uncertain`,
    })),
    fix: blocked.map(
      (b) =>
        `Fix ${input.path} line ${b.line} on the base branch (a change that needs a policy admin's approval).`,
    ),
  };
}
