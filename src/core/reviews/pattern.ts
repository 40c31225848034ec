/**
 * Path-pattern matcher for policy patterns (sensitive paths, path rules, key scopes). It is the
 * CODEOWNERS pattern engine itself (src/core/codeowners/pattern.ts), so "a pattern" means one
 * thing across pullgate: anchored when it has a leading or middle `/`, any depth otherwise; a
 * trailing `/` is a directory and everything beneath it; `dir/*` is direct children only; a name
 * also owns everything beneath it; `*` and `?` within a segment, `**` across; case-sensitive.
 * Unsupported syntax (`!`, `[ ]`, `\#`) is refused with a PatternError rather than silently
 * meaning something else.
 */
import { codeownersPatternMatches, compilePattern, type CompiledPattern } from "../codeowners/pattern.js";

export type PatternMatcher = (pattern: string, path: string) => boolean;

export class PatternError extends Error {
  readonly code = "PATTERN_UNSUPPORTED";
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`unsupported path pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "PatternError";
  }
}

// Compiled patterns by source text: policies are small and evaluated for every changed file.
const cache = new Map<string, CompiledPattern>();
const CACHE_LIMIT = 10_000;

/** Compiles one pattern, or throws PatternError (exported for tests). */
export function compile(pattern: string): CompiledPattern {
  if (pattern.trim() === "" || pattern.trim() !== pattern) {
    throw new PatternError(pattern, "empty or surrounded by whitespace");
  }
  const cached = cache.get(pattern);
  if (cached) return cached;
  const result = compilePattern(pattern);
  if (!result.ok) throw new PatternError(pattern, result.problem.message);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, result.pattern);
  return result.pattern;
}

export const matchesPattern: PatternMatcher = (pattern, path) =>
  codeownersPatternMatches(compile(pattern), path);
