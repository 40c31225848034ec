/**
 * Default path-pattern matcher for policy patterns (sensitive paths, path rules), with GitHub's
 * CODEOWNERS semantics as documented:
 * - a pattern with a `/` at the start or in the middle is anchored at the repository root;
 *   otherwise it matches at any depth (`*.js`, `docs`);
 * - a trailing `/` means a directory: everything beneath it, never a file of that name;
 * - a pattern naming a file or directory also matches everything beneath it (`apps` covers
 *   `apps/web/x.yaml`), except that `dir/*` matches direct children only;
 * - `*` does not cross `/`, `**` does; matching is case-sensitive and dot-files are ordinary.
 * Negation (`!`), character ranges (`[ ]`) and escapes (`\`) are not supported by CODEOWNERS;
 * they are refused with a PatternError rather than silently meaning something else.
 *
 * Callers inject the matcher (`PatternMatcher`), so the lead can swap this for the CODEOWNERS
 * matcher's own pattern engine and keep one definition of what a pattern means.
 */
import { Minimatch } from "minimatch";

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

const OPTIONS = { dot: true, nobrace: true, noext: true, nonegate: true, nocomment: true } as const;

/** A pattern compiled to one glob plus which of a path's prefixes the glob is tried on. */
export interface CompiledPattern {
  /** minimatch glob for one path or directory (no leading slash). */
  glob: string;
  /** Trailing `/`: only directories match, so only a path's proper ancestors are tried. */
  directoryOnly: boolean;
  /** `dir/*`: direct children only, so only the path itself is tried, never an ancestor. */
  childrenOnly: boolean;
}

// Compiled patterns, keyed by source text: policies are small and evaluated for every changed file.
const compiled = new Map<string, { pattern: CompiledPattern; glob: Minimatch }>();

export const matchesPattern: PatternMatcher = (pattern, path) => {
  let entry = compiled.get(pattern);
  if (!entry) {
    const parsed = compile(pattern);
    entry = { pattern: parsed, glob: new Minimatch(parsed.glob, OPTIONS) };
    compiled.set(pattern, entry);
  }
  const { pattern: parsed, glob } = entry;
  if (parsed.childrenOnly) return glob.match(path);
  // As in gitignore, a pattern matching a directory matches everything beneath it: try the path
  // (unless only directories may match) and each of its ancestor directories.
  const segments = path.split("/");
  const last = parsed.directoryOnly ? segments.length - 1 : segments.length;
  for (let end = 1; end <= last; end++) {
    if (glob.match(segments.slice(0, end).join("/"))) return true;
  }
  return false;
};

/** Parses one CODEOWNERS-style pattern (exported for tests). */
export function compile(pattern: string): CompiledPattern {
  if (pattern.trim() === "" || pattern.trim() !== pattern) {
    throw new PatternError(pattern, "empty or surrounded by whitespace");
  }
  if (pattern.startsWith("!")) throw new PatternError(pattern, "negation is not supported");
  if (/[[\]\\]/.test(pattern))
    throw new PatternError(pattern, "character ranges and escapes are not supported");

  const directoryOnly = pattern.endsWith("/");
  const body = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  if (body === "") throw new PatternError(pattern, "matches nothing");
  const anchored = pattern.startsWith("/") || body.includes("/");
  return {
    glob: anchored ? body : `**/${body}`,
    directoryOnly,
    // GitHub: `docs/*` matches docs/getting-started.md but not docs/build-app/troubleshooting.md.
    childrenOnly: !directoryOnly && pattern.endsWith("/*"),
  };
}
