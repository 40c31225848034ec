import type { Permission } from "../core/reviews/types.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";

const PERMISSIONS: ReadonlySet<string> = new Set(["admin", "maintain", "write", "triage", "read", "none"]);

/**
 * Each user's permission on the repository. GitHub reports `permission` as admin/write/read/none
 * and the finer role in `role_name` (maintain, triage); the finer one wins when it is known.
 * A user GitHub does not know (404) has no permission. Asked once per user, in parallel.
 */
export async function fetchPermissions(
  gh: GitHub,
  repo: RepoRef,
  logins: Iterable<string>,
): Promise<Record<string, Permission>> {
  const unique = [...new Set([...logins].map((l) => l.toLowerCase()))].filter((l) => l !== "");
  const entries = await Promise.all(
    unique.map(async (login): Promise<[string, Permission]> => {
      try {
        const { data } = await gh.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
        const role = (data as { role_name?: string }).role_name;
        const permission = role && PERMISSIONS.has(role) ? role : data.permission;
        return [login, (PERMISSIONS.has(permission) ? permission : "none") as Permission];
      } catch (error) {
        if (httpStatus(error) === 404) return [login, "none"];
        throw new FactsError(
          `cannot read @${login}'s permission on ${repo.owner}/${repo.repo}: ${(error as Error).message}`,
        );
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * Members of each team ("org/slug"), lowercase logins. A team GitHub does not know has no members,
 * so an owner that names a missing team can never be satisfied (fail closed).
 */
export async function fetchTeamMembers(
  gh: GitHub,
  teams: Iterable<string>,
): Promise<Record<string, string[]>> {
  const unique = [...new Set([...teams].map((t) => t.replace(/^@/, "").toLowerCase()))];
  const entries = await Promise.all(
    unique.map(async (team): Promise<[string, string[]]> => {
      const [org, slug] = team.split("/");
      if (!org || !slug) return [team, []];
      try {
        const members = await gh.paginate(gh.rest.teams.listMembersInOrg, {
          org,
          team_slug: slug,
          per_page: 100,
        });
        return [team, members.map((m) => m.login.toLowerCase()).sort()];
      } catch (error) {
        if (httpStatus(error) === 404) return [team, []];
        throw new FactsError(`cannot list members of @${team}: ${(error as Error).message}`);
      }
    }),
  );
  return Object.fromEntries(entries);
}
