/**
 * One CODEOWNERS pattern, compiled to a segment matcher with GitHub's documented semantics
 * (docs.github.com, "About code owners"). Written from those semantics, not from a gitignore
 * library, because CODEOWNERS deviates from gitignore where it matters for ownership:
 *
 * - `/` at the start anchors at the repository root. A pattern with a slash in the middle
 *   (`docs/*`, `apps/web`) is anchored too. A pattern without a slash, or with only a trailing one
 *   (`*.js`, `apps/`), matches at any depth.
 * - A trailing `/` (or a trailing `/**`) matches everything beneath that directory, never a file
 *   of that name.
 * - A pattern whose last segment is a lone `*` (`docs/*`) matches direct children only; any other
 *   pattern also owns everything beneath what it names (`/apps/github` owns `apps/github/x/y`).
 * - `**` as a whole segment matches zero or more segments; `*` and `?` match within one segment.
 * - Matching is case-sensitive. There is no negation (`!`), no character range (`[ ]`) and no
 *   escaped hash (`\#`): the parser reports those as unsupported syntax.
 * - A backslash escapes the next character (`\*` is a literal star, `\ ` a space in a name).
 */

/** What one pattern segment matches against one path segment. */
export type SegmentMatcher =
  { kind: "globstar" } | { kind: "literal"; text: string } | { kind: "glob"; glob: Glob };

/**
 * A glob within one segment: literal runs separated by wildcards. Stored as code points so that
 * `?` consumes one character, not one UTF-16 unit.
 */
export interface Glob {
  /** Code points; STAR and QUESTION stand for the wildcards, escaped ones are plain code points. */
  readonly codePoints: readonly number[];
  /** Literal text after the last wildcard ("" if the glob ends with one): used by the index. */
  readonly literalSuffix: string;
  /** Literal text before the first wildcard: used by fast paths. */
  readonly literalPrefix: string;
  /** True if the glob is `<prefix>*<suffix>` with a single star and no `?` (fast path). */
  readonly singleStar: boolean;
}

export const STAR = -1;
export const QUESTION = -2;

/** Which prefix lengths of a path count as a match once the segments have matched. */
export type TailMode =
  /** The pattern names the path itself (last segment a lone `*`): `docs/*`. */
  | "exact"
  /** The pattern names a directory: the path must lie beneath it (`apps/`, `logs/**`). */
  | "beneath"
  /** The pattern names the path or a directory above it: `/apps/github`, `*.js`. */
  | "self-or-beneath";

export interface CompiledPattern {
  /** The pattern as written in the file. */
  readonly source: string;
  /** Segments after anchoring; an unanchored pattern starts with a globstar. */
  readonly segments: readonly SegmentMatcher[];
  readonly tail: TailMode;
  /** True if any segment is a globstar (the slower DP path is needed). */
  readonly hasGlobstar: boolean;
}

export type PatternProblemKind = "Unsupported syntax" | "Invalid pattern";

export interface PatternProblem {
  kind: PatternProblemKind;
  /** 0-based offset into the pattern text where the problem is. */
  offset: number;
  message: string;
}

export type PatternResult = { ok: true; pattern: CompiledPattern } | { ok: false; problem: PatternProblem };

interface RawSegment {
  /** Code points with STAR / QUESTION for unescaped wildcards. */
  codePoints: number[];
  /** True if the segment is exactly an unescaped `**`. */
  globstar: boolean;
  /** True if the segment is exactly an unescaped `*`. */
  loneStar: boolean;
  /** Offset of the segment's first character in the pattern text. */
  offset: number;
  /** Set by the fast path for patterns without any special character: the segment's text. */
  literal?: string;
}

function isEmptySegment(segment: RawSegment): boolean {
  return segment.literal !== undefined ? segment.literal === "" : segment.codePoints.length === 0;
}

/** Most rules in large files are plain paths: no escapes, wildcards, ranges or negation. */
const SPECIAL = /[\\[*?]/;

const NO_CODE_POINTS: number[] = [];

function splitPlain(source: string): RawSegment[] {
  let offset = 0;
  return source.split("/").map((literal) => {
    const segment = { codePoints: NO_CODE_POINTS, globstar: false, loneStar: false, offset, literal };
    offset += literal.length + 1;
    return segment;
  });
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;

/**
 * Splits the pattern into segments, resolving escapes and rejecting unsupported syntax.
 * Works on code points so offsets into the source stay exact.
 */
function splitSegments(source: string): RawSegment[] | PatternProblem {
  if (!SPECIAL.test(source) && !source.startsWith("!")) return splitPlain(source);
  if (source.startsWith("!")) {
    return {
      kind: "Unsupported syntax",
      offset: 0,
      message: 'negation ("!") is not supported in CODEOWNERS',
    };
  }
  const segments: RawSegment[] = [];
  let current: RawSegment = { codePoints: [], globstar: false, loneStar: false, offset: 0 };
  let unescapedStars = 0;
  let escapedAny = false;
  const finish = () => {
    const cps = current.codePoints;
    current.globstar = !escapedAny && cps.length === 2 && cps[0] === STAR && cps[1] === STAR;
    current.loneStar = !escapedAny && cps.length === 1 && cps[0] === STAR;
    segments.push(current);
  };
  let offset = 0;
  while (offset < source.length) {
    const cp = source.codePointAt(offset) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    if (cp === BACKSLASH) {
      const next = source.codePointAt(offset + 1);
      if (next === undefined) {
        return { kind: "Invalid pattern", offset, message: "a backslash at the end escapes nothing" };
      }
      if (next === 0x23 /* # */) {
        return {
          kind: "Unsupported syntax",
          offset,
          message: 'an escaped hash ("\\#") is not supported in CODEOWNERS',
        };
      }
      if (next === SLASH) {
        return { kind: "Invalid pattern", offset, message: "a slash cannot be escaped" };
      }
      current.codePoints.push(next);
      escapedAny = true;
      unescapedStars = 0;
      offset += 1 + (next > 0xffff ? 2 : 1);
      continue;
    }
    if (cp === 0x5b /* [ */) {
      return {
        kind: "Unsupported syntax",
        offset,
        message: 'character ranges ("[ ]") are not supported in CODEOWNERS',
      };
    }
    if (cp === SLASH) {
      finish();
      current = { codePoints: [], globstar: false, loneStar: false, offset: offset + 1 };
      unescapedStars = 0;
      escapedAny = false;
      offset += 1;
      continue;
    }
    if (cp === 0x2a /* * */) {
      unescapedStars += 1;
      if (unescapedStars > 2) {
        return {
          kind: "Invalid pattern",
          offset: offset - 2,
          message: 'three or more consecutive asterisks; did you mean "**"?',
        };
      }
      current.codePoints.push(STAR);
    } else {
      unescapedStars = 0;
      current.codePoints.push(cp === 0x3f /* ? */ ? QUESTION : cp);
    }
    offset += width;
  }
  finish();
  return segments;
}

function toSegmentMatcher(raw: RawSegment): SegmentMatcher {
  if (raw.globstar) return { kind: "globstar" };
  if (raw.literal !== undefined) return { kind: "literal", text: raw.literal };
  if (!raw.codePoints.some((cp) => cp === STAR || cp === QUESTION)) {
    return { kind: "literal", text: String.fromCodePoint(...raw.codePoints) };
  }
  // "a**b" is not a globstar: consecutive stars inside a segment act as one star.
  const codePoints: number[] = [];
  for (const cp of raw.codePoints) {
    if (cp === STAR && codePoints[codePoints.length - 1] === STAR) continue;
    codePoints.push(cp);
  }
  const firstWild = codePoints.findIndex((cp) => cp === STAR || cp === QUESTION);
  let lastWild = codePoints.length - 1;
  while (lastWild >= 0 && codePoints[lastWild] !== STAR && codePoints[lastWild] !== QUESTION) lastWild--;
  const stars = codePoints.filter((cp) => cp === STAR).length;
  const questions = codePoints.filter((cp) => cp === QUESTION).length;
  return {
    kind: "glob",
    glob: {
      codePoints,
      literalPrefix: String.fromCodePoint(...codePoints.slice(0, firstWild)),
      literalSuffix: String.fromCodePoint(...codePoints.slice(lastWild + 1)),
      singleStar: stars === 1 && questions === 0,
    },
  };
}

/** Compiles one pattern, or says what is wrong with it (with an offset into the pattern). */
export function compilePattern(source: string): PatternResult {
  if (source === "")
    return { ok: false, problem: { kind: "Invalid pattern", offset: 0, message: "empty pattern" } };
  const split = splitSegments(source);
  if (!Array.isArray(split)) return { ok: false, problem: split };
  const raw = split;

  let anchored = false;
  if (raw.length > 1 && raw[0] !== undefined && isEmptySegment(raw[0])) {
    anchored = true;
    raw.shift();
  }
  let beneath = false;
  if (raw.length > 1 && isEmptySegment(raw[raw.length - 1] as RawSegment)) {
    beneath = true;
    raw.pop();
  }
  const empty = raw.find(isEmptySegment);
  if (empty !== undefined) {
    return {
      ok: false,
      problem: {
        kind: "Invalid pattern",
        offset: Math.max(0, empty.offset - 1),
        message:
          raw.length === 1
            ? `the pattern "${source}" never matches anything; did you mean "*"?`
            : 'empty path segment ("//")',
      },
    };
  }
  // Only a slash before the last segment anchors: "apps/" matches at any depth, "a/b" does not.
  if (!anchored && raw.length > 1) anchored = true;

  // "**/**" means what "**" means: collapse runs of globstars.
  let segments = raw
    .map(toSegmentMatcher)
    .filter((segment, i, all) => !(segment.kind === "globstar" && all[i - 1]?.kind === "globstar"));
  // "logs/**" names everything beneath logs/, like "logs/". A lone "**" matches every path.
  if (segments.length > 1 && segments[segments.length - 1]?.kind === "globstar") {
    segments = segments.slice(0, -1);
    beneath = true;
  }
  const last = raw[raw.length - 1];
  if (!anchored && segments[0]?.kind !== "globstar") segments = [{ kind: "globstar" }, ...segments];

  let tail: TailMode;
  if (beneath) tail = "beneath";
  else if (last?.loneStar === true) tail = "exact";
  else tail = "self-or-beneath";

  return {
    ok: true,
    pattern: { source, segments, tail, hasGlobstar: segments.some((s) => s.kind === "globstar") },
  };
}

/** Does one glob match one whole path segment? Linear-time two-pointer match (no regex, no ReDoS). */
export function globMatches(glob: Glob, text: string): boolean {
  if (glob.singleStar) {
    return (
      text.length >= glob.literalPrefix.length + glob.literalSuffix.length &&
      text.startsWith(glob.literalPrefix) &&
      text.endsWith(glob.literalSuffix)
    );
  }
  const pattern = glob.codePoints;
  const chars: number[] = [];
  for (const ch of text) chars.push(ch.codePointAt(0) ?? 0);
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < chars.length) {
    const pc = pattern[p];
    if (pc === STAR) {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === QUESTION || pc === chars[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === STAR) p++;
  return p === pattern.length;
}

export function segmentMatches(matcher: SegmentMatcher, text: string): boolean {
  switch (matcher.kind) {
    case "literal":
      return matcher.text === text;
    case "glob":
      return globMatches(matcher.glob, text);
    case "globstar":
      return true;
  }
}

function tailAccepts(tail: TailMode, prefixLength: number, pathLength: number): boolean {
  if (prefixLength < 1) return false;
  switch (tail) {
    case "exact":
      return prefixLength === pathLength;
    case "beneath":
      return prefixLength < pathLength;
    case "self-or-beneath":
      return prefixLength <= pathLength;
  }
}

/** Splits a repository path into segments; empty segments (leading, trailing, doubled slashes) are dropped. */
export function pathSegments(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

/** Does the compiled pattern match the path (given as segments)? */
export function patternMatches(pattern: CompiledPattern, path: readonly string[]): boolean {
  const segments = pattern.segments;
  if (!pattern.hasGlobstar) {
    if (segments.length > path.length) return false;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      const text = path[i];
      if (segment === undefined || text === undefined || !segmentMatches(segment, text)) return false;
    }
    return tailAccepts(pattern.tail, segments.length, path.length);
  }
  // reach[j]: the pattern segments so far match the first j path segments. O(segments × path).
  let reach = new Uint8Array(path.length + 1);
  reach[0] = 1;
  for (const segment of segments) {
    const next = new Uint8Array(path.length + 1);
    if (segment.kind === "globstar") {
      let seen = 0;
      for (let j = 0; j <= path.length; j++) {
        seen |= reach[j] ?? 0;
        next[j] = seen;
      }
    } else {
      for (let j = 0; j < path.length; j++) {
        if (reach[j] === 1 && segmentMatches(segment, path[j] ?? "")) next[j + 1] = 1;
      }
    }
    reach = next;
  }
  for (let j = 1; j <= path.length; j++) {
    if (reach[j] === 1 && tailAccepts(pattern.tail, j, path.length)) return true;
  }
  return false;
}

/** A pattern given outside a CODEOWNERS file (e.g. a policy's path rules) that does not compile. */
export class InvalidPatternError extends Error {
  override readonly name = "InvalidPatternError";
  constructor(
    readonly pattern: string,
    readonly problem: PatternProblem,
  ) {
    super(`${problem.kind} in pattern "${pattern}" at column ${problem.offset + 1}: ${problem.message}`);
  }
}

/** For callers with a single CODEOWNERS-style pattern (policy path rules): compile or throw. */
export function compilePatternOrThrow(source: string): CompiledPattern {
  const result = compilePattern(source);
  if (!result.ok) throw new InvalidPatternError(source, result.problem);
  return result.pattern;
}

/** Does a CODEOWNERS-style pattern match a repository path? */
export function codeownersPatternMatches(pattern: CompiledPattern, path: string): boolean {
  return patternMatches(pattern, pathSegments(path));
}
