/**
 * Where GitHub looks for CODEOWNERS on a branch, in order: the first file present is the only one
 * used (a later one is ignored even if the first has errors).
 */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

/** The location GitHub would use, given a predicate saying which paths exist; null if none does. */
export function selectCodeownersLocation(
  exists: (path: CodeownersLocation) => boolean,
): CodeownersLocation | null {
  for (const location of CODEOWNERS_LOCATIONS) {
    if (exists(location)) return location;
  }
  return null;
}

/**
 * The file GitHub would use, from a map of path → content (e.g. blobs fetched from the base
 * branch); null if none of the locations is in the map.
 */
export function selectCodeownersFile(
  files: ReadonlyMap<string, string>,
): { path: CodeownersLocation; content: string } | null {
  const path = selectCodeownersLocation((location) => files.has(location));
  if (path === null) return null;
  return { path, content: files.get(path) ?? "" };
}
