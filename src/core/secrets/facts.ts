/**
 * Pure helpers for gathering the scanner's input (docs/policy.md, "secrets"): which changed files
 * are worth reading, whether bytes are text, and which lines of a modified file the pull request
 * brought. The adapter (src/github/secret-facts.ts) does the reading.
 */
import type { PatternMatcher } from "../reviews/pattern.js";

/**
 * Extensions of formats that are binary by construction (images, archives, fonts, compiled code):
 * not read at all. Anything else is read and judged by its bytes (looksBinary).
 */
const BINARY_EXTENSIONS = new Set([
  "png",
  "jpg",
  "jpeg",
  "gif",
  "webp",
  "ico",
  "bmp",
  "tif",
  "tiff",
  "zip",
  "gz",
  "tgz",
  "bz2",
  "xz",
  "zst",
  "7z",
  "tar",
  "jar",
  "war",
  "class",
  "so",
  "dll",
  "exe",
  "dylib",
  "wasm",
  "woff",
  "woff2",
  "ttf",
  "otf",
  "eot",
  "mp3",
  "mp4",
  "mov",
  "webm",
  "ogg",
  "wav",
]);

export function isBinaryPath(path: string): boolean {
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return false;
  return BINARY_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

/** Git's own heuristic: a NUL byte in the first 8,000 bytes makes a file binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8_000);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** True when an allow-list pattern matches; a pattern the matcher refuses allows nothing (fail closed). */
export function isAllowed(allow: readonly string[], matchesPattern: PatternMatcher, path: string): boolean {
  return allow.some((pattern) => {
    try {
      return matchesPattern(pattern, path);
    } catch {
      return false;
    }
  });
}

/**
 * The 1-based lines of `head` that `base` did not have: a line counts as old only while the base
 * still has an unused copy of the same text. Order is ignored on purpose. A line that only moved
 * was in Git before this pull request, so its secret (if any) is not this PR's to answer for; a line
 * the PR adds is always new here, wherever it lands, so nothing the PR brings is missed.
 */
export function addedLines(base: string, head: string): Set<number> {
  const split = (text: string) => text.split(/\r\n|\n|\r/);
  const remaining = new Map<string, number>();
  for (const line of split(base)) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  const added = new Set<number>();
  split(head).forEach((line, index) => {
    const left = remaining.get(line) ?? 0;
    if (left > 0) remaining.set(line, left - 1);
    else added.add(index + 1);
  });
  return added;
}
