import type { PermissionLevel } from "../state/types.js";

/** What the pre-registered app may do (each installation gets these; tokens may narrow them). */
export const APP_PERMISSIONS: Readonly<Record<string, PermissionLevel>> = {
  administration: "write",
  checks: "write",
  contents: "write",
  issues: "write",
  members: "read",
  merge_queues: "read",
  metadata: "read",
  pull_requests: "write",
  statuses: "write",
};

const RANK: Record<PermissionLevel | "none", number> = { none: 0, read: 1, write: 2 };

export function levelAtLeast(level: PermissionLevel | undefined, min: PermissionLevel): boolean {
  return RANK[level ?? "none"] >= RANK[min];
}

/**
 * The GitHub App permission a repository endpoint needs, from its route template (GitHub's
 * "Permissions required for GitHub Apps" tables, reduced to the endpoints the sandbox serves).
 * Anything not listed counts as `contents` (git data, commits, branches, compare, merges).
 */
export function permissionForRoute(method: string, route: string): string {
  if (route === "/repos/{owner}/{repo}" && method === "GET") return "metadata";
  if (route.includes("/rules/branches/")) return "metadata";
  if (/\/check-(runs|suites)(\/|$)/.test(route)) return "checks";
  if (/\/(statuses|status)(\/|$)/.test(route)) return "statuses";
  if (/\/issues(\/|$)/.test(route)) return "issues";
  if (method === "PUT" && route.endsWith("/pulls/{pull_number}/merge")) return "contents";
  if (/\/pulls(\/|$)/.test(route)) return "pull_requests";
  if (
    /\/(protection|rulesets|rules|collaborators|teams)(\/|$)/.test(route) ||
    (route === "/repos/{owner}/{repo}" && method !== "GET")
  )
    return "administration";
  return "contents";
}

/**
 * Validates a token request's `permissions` against what the installation has: every entry must
 * be a known level no higher than the installation's (GitHub answers 422 otherwise). Returns the
 * token's permissions with `metadata: read` added, as GitHub reports them.
 */
export function narrowPermissions(
  requested: Record<string, unknown>,
  granted: Readonly<Record<string, PermissionLevel>>,
): Record<string, PermissionLevel> | null {
  const result: Record<string, PermissionLevel> = {};
  for (const [name, level] of Object.entries(requested)) {
    if (level !== "read" && level !== "write") return null;
    if (!levelAtLeast(granted[name], level)) return null;
    result[name] = level;
  }
  result.metadata ??= "read";
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}
