/**
 * Branch-name globs: `*` matches any run of characters except "/", `**` matches any run including
 * "/", everything else is literal. Deliberately tiny: branch patterns need nothing more, and a
 * smaller language is one fewer place for a pattern to match more than its author meant.
 */

export function isGlob(pattern: string): boolean {
  return pattern.includes("*");
}

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached !== undefined) return cached;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else {
      // Only syntax characters may be escaped in a unicode-mode RegExp (\- is an error there).
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  const regexp = new RegExp(`^${source}$`, "u");
  if (cache.size < 1000) cache.set(pattern, regexp);
  return regexp;
}

export function matchesBranch(pattern: string, branch: string): boolean {
  return isGlob(pattern) ? globToRegExp(pattern).test(branch) : pattern === branch;
}
