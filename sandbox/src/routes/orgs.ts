import type { SandboxCore } from "../core.js";
import { nodeId, permissionsJson } from "../core.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { OrgRecord, RepoRecord, RepoRole, TeamRecord } from "../state/types.js";

/** GitHub's API permission names → roles. */
export const PERMISSION_TO_ROLE: Record<string, RepoRole> = {
  pull: "read",
  read: "read",
  triage: "triage",
  push: "write",
  write: "write",
  maintain: "maintain",
  admin: "admin",
};

const ROLE_TO_PERMISSION: Record<RepoRole, string> = {
  read: "pull",
  triage: "triage",
  write: "push",
  maintain: "maintain",
  admin: "admin",
};

function requireOrg(core: SandboxCore, req: ApiRequest): OrgRecord {
  const org = core.org(req.params.org ?? "");
  if (org === undefined) throw notFound();
  return org;
}

/** Org owners and site admins manage orgs; installations may read members (members: read). */
function requireOrgAdmin(core: SandboxCore, req: ApiRequest, org: OrgRecord): void {
  const actor = req.actor;
  if (actor === null) throw new HttpError(401, "Requires authentication");
  if (actor.kind === "user" && (actor.user.site_admin || org.members[actor.user.login] === "admin")) return;
  throw new HttpError(
    403,
    actor.kind === "installation"
      ? "Resource not accessible by integration"
      : "Must be an owner of the organization",
  );
}

function requireOrgReader(core: SandboxCore, req: ApiRequest, org: OrgRecord): void {
  const actor = req.actor;
  if (actor === null) throw new HttpError(401, "Requires authentication");
  if (actor.kind === "installation" && actor.installation.account === org.login) return;
  if (actor.kind === "user" && (actor.user.site_admin || org.members[actor.user.login] !== undefined)) return;
  throw notFound();
}

function requireTeam(core: SandboxCore, req: ApiRequest, org: OrgRecord): TeamRecord {
  const team = core.state.teams[`${org.login}/${req.params.team_slug ?? ""}`];
  if (team === undefined) throw notFound();
  return team;
}

export function teamJson(core: SandboxCore, team: TeamRecord): Record<string, unknown> {
  const url = `${core.apiUrl}/organizations/${core.org(team.org)?.id ?? 0}/team/${team.id}`;
  return {
    id: team.id,
    node_id: nodeId("Team", team.id),
    url,
    html_url: `${core.origin}/orgs/${team.org}/teams/${team.slug}`,
    name: team.name,
    slug: team.slug,
    description: team.description,
    privacy: team.privacy,
    notification_setting: "notifications_enabled",
    permission: "pull",
    members_url: `${url}/members{/member}`,
    repositories_url: `${url}/repos`,
    parent: null,
    type: "organization",
    organization_id: core.org(team.org)?.id ?? 0,
  };
}

/** The org's full profile (`GET /orgs/{org}`, and a full team's `organization`). */
function orgProfileJson(core: SandboxCore, org: OrgRecord): Record<string, unknown> {
  return {
    ...core.orgJson(org),
    name: org.login,
    html_url: `${core.origin}/${org.login}`,
    has_organization_projects: false,
    has_repository_projects: false,
    public_repos: Object.values(core.state.repos).filter((r) => r.owner === org.login && !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: "Organization",
    created_at: org.created_at,
    updated_at: org.created_at,
    archived_at: null,
    default_repository_permission: org.default_repository_permission,
  };
}

/** A team with its counts, dates and organization (`GET /orgs/{org}/teams/{slug}`, `POST /orgs/{org}/teams`). */
function fullTeamJson(core: SandboxCore, org: OrgRecord, team: TeamRecord): Record<string, unknown> {
  return {
    ...teamJson(core, team),
    members_count: Object.keys(team.members).length,
    repos_count: Object.keys(team.repos).length,
    created_at: team.created_at,
    updated_at: team.created_at,
    organization: orgProfileJson(core, org),
  };
}

function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function membershipJson(
  core: SandboxCore,
  org: OrgRecord,
  login: string,
  role: "admin" | "member" | undefined = org.members[login],
): Record<string, unknown> {
  return {
    url: `${core.apiUrl}/orgs/${org.login}/memberships/${login}`,
    state: "active",
    role: role === "admin" ? "admin" : "member",
    organization_url: `${core.apiUrl}/orgs/${org.login}`,
    organization: core.orgJson(org),
    user: core.userJson(login),
  };
}

/**
 * The `team` webhook (added_to_repository, removed_from_repository, edited): the team, and the
 * repository with the permissions the team now has on it (GitHub's shape; none once removed).
 */
function emitTeamRepoEvent(
  core: SandboxCore,
  req: ApiRequest,
  team: TeamRecord,
  repo: RepoRecord,
  action: "added_to_repository" | "removed_from_repository" | "edited",
  extra: Record<string, unknown> = {},
): void {
  const role = team.repos[`${repo.owner}/${repo.name}`];
  core.emit(
    "team",
    {
      action,
      ...extra,
      team: teamJson(core, team),
      repository: {
        ...core.repoJson(repo),
        ...(role === undefined ? {} : { permissions: permissionsJson(role) }),
      },
    },
    { org: team.org, sender: core.actingUser(req.actor) },
  );
}

/** `membership` (scope team): a user added to or removed from a team. */
function emitTeamMembership(
  core: SandboxCore,
  req: ApiRequest,
  team: TeamRecord,
  login: string,
  action: "added" | "removed",
): void {
  core.emit(
    "membership",
    { action, scope: "team", member: core.userJson(login), team: teamJson(core, team) },
    { org: team.org, sender: core.actingUser(req.actor) },
  );
}

/** `organization` member_added / member_removed, with the membership as it is (or was). */
function emitOrgMembership(
  core: SandboxCore,
  req: ApiRequest,
  org: OrgRecord,
  login: string,
  action: "member_added" | "member_removed",
  role: "admin" | "member" | undefined,
): void {
  core.emit(
    "organization",
    { action, membership: membershipJson(core, org, login, role) },
    { org: org.login, sender: core.actingUser(req.actor) },
  );
}

export function registerOrgRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/orgs/{org}", (req) => {
    const org = requireOrg(core, req);
    return ok(orgProfileJson(core, org));
  });

  router.on("PATCH", "/orgs/{org}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const perm = req.body.oneOf("default_repository_permission", ["read", "write", "admin", "none"] as const);
    if (perm !== undefined) org.default_repository_permission = perm;
    return ok(orgProfileJson(core, org));
  });

  router.on("GET", "/orgs/{org}/members", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    return paginate(
      req,
      Object.keys(org.members)
        .sort()
        .map((l) => core.userJson(l)),
    );
  });

  router.on("PUT", "/orgs/{org}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    const role = req.body.oneOf("role", ["admin", "member"] as const) ?? "member";
    const isNew = org.members[user.login] === undefined;
    org.members[user.login] = role;
    // GitHub invites; the sandbox accepts at once, so the member is added now.
    if (isNew) emitOrgMembership(core, req, org, user.login, "member_added", role);
    return ok(membershipJson(core, org, user.login));
  });

  router.on("GET", "/orgs/{org}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    const user = core.user(req.params.username ?? "");
    if (user === undefined || org.members[user.login] === undefined) throw notFound();
    return ok(membershipJson(core, org, user.login));
  });

  router.on("DELETE", "/orgs/{org}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    const role = org.members[user.login];
    delete org.members[user.login];
    for (const team of Object.values(core.state.teams))
      if (team.org === org.login) delete team.members[user.login];
    if (role !== undefined) emitOrgMembership(core, req, org, user.login, "member_removed", role);
    return noContent();
  });

  router.on("POST", "/orgs/{org}/teams", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const name = req.body.string("name");
    const slug = slugify(name);
    if (slug === "" || core.state.teams[`${org.login}/${slug}`] !== undefined)
      throw validationFailed({
        resource: "Team",
        field: "name",
        code: "already_exists",
        message: "Name must be unique for this org",
      });
    const team: TeamRecord = {
      id: core.nextId(),
      org: org.login,
      slug,
      name,
      description: req.body.optString("description") ?? null,
      privacy: req.body.oneOf("privacy", ["closed", "secret"] as const) ?? "secret",
      members: {},
      repos: {},
      created_at: core.now(),
    };
    for (const login of req.body.optStringArray("maintainers") ?? []) {
      if (core.user(login) === undefined)
        throw validationFailed({ resource: "Team", field: "maintainers", code: "invalid" });
      team.members[login] = "maintainer";
      org.members[login] ??= "member";
    }
    const role = PERMISSION_TO_ROLE[req.body.optString("permission") ?? "pull"] ?? "read";
    for (const full of req.body.optStringArray("repo_names") ?? []) team.repos[full] = role;
    core.state.teams[`${org.login}/${slug}`] = team;
    return created(fullTeamJson(core, org, team));
  });

  router.on("GET", "/orgs/{org}/teams", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    return paginate(
      req,
      Object.values(core.state.teams)
        .filter((t) => t.org === org.login)
        .map((t) => teamJson(core, t)),
    );
  });

  router.on("GET", "/orgs/{org}/teams/{team_slug}", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    const team = requireTeam(core, req, org);
    return ok(fullTeamJson(core, org, team));
  });

  router.on("PUT", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const team = requireTeam(core, req, org);
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    const role = req.body.oneOf("role", ["member", "maintainer"] as const) ?? "member";
    const newToTeam = team.members[user.login] === undefined;
    const newToOrg = org.members[user.login] === undefined;
    team.members[user.login] = role;
    org.members[user.login] ??= "member";
    if (newToOrg) emitOrgMembership(core, req, org, user.login, "member_added", "member");
    if (newToTeam) emitTeamMembership(core, req, team, user.login, "added");
    return ok({ url: `${core.apiUrl}/teams/${team.id}/memberships/${user.login}`, role, state: "active" });
  });

  router.on("DELETE", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const team = requireTeam(core, req, org);
    const user = core.user(req.params.username ?? "");
    if (user === undefined || team.members[user.login] === undefined) throw notFound();
    delete team.members[user.login];
    emitTeamMembership(core, req, team, user.login, "removed");
    return noContent();
  });

  router.on("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    const team = requireTeam(core, req, org);
    const user = core.user(req.params.username ?? "");
    const role = user === undefined ? undefined : team.members[user.login];
    if (user === undefined || role === undefined) throw notFound();
    return ok({ url: `${core.apiUrl}/teams/${team.id}/memberships/${user.login}`, role, state: "active" });
  });

  router.on("GET", "/orgs/{org}/teams/{team_slug}/members", (req) => {
    const org = requireOrg(core, req);
    requireOrgReader(core, req, org);
    const team = requireTeam(core, req, org);
    const role = req.query.get("role") ?? "all";
    const logins = Object.entries(team.members)
      .filter(([, r]) => role === "all" || r === role)
      .map(([l]) => l)
      .sort();
    return paginate(
      req,
      logins.map((l) => core.userJson(l)),
    );
  });

  router.on("PUT", "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const team = requireTeam(core, req, org);
    const repo = core.repo(req.params.owner ?? "", req.params.repo ?? "");
    if (repo === undefined || repo.owner !== org.login) throw notFound();
    const permission = req.body.optString("permission") ?? "push";
    const role = PERMISSION_TO_ROLE[permission];
    if (role === undefined)
      throw validationFailed({ resource: "Team", field: "permission", code: "invalid" });
    const full = `${repo.owner}/${repo.name}`;
    const before = team.repos[full];
    team.repos[full] = role;
    if (before === undefined) emitTeamRepoEvent(core, req, team, repo, "added_to_repository");
    else if (before !== role)
      // GitHub's team.edited names the team's previous permissions on the repository.
      emitTeamRepoEvent(core, req, team, repo, "edited", {
        changes: { repository: { permissions: { from: permissionsJson(before) } } },
      });
    return noContent();
  });

  router.on("DELETE", "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", (req) => {
    const org = requireOrg(core, req);
    requireOrgAdmin(core, req, org);
    const team = requireTeam(core, req, org);
    const repo = core.repo(req.params.owner ?? "", req.params.repo ?? "");
    if (repo === undefined) return noContent();
    const full = `${repo.owner}/${repo.name}`;
    const had = team.repos[full] !== undefined;
    delete team.repos[full];
    if (had) emitTeamRepoEvent(core, req, team, repo, "removed_from_repository");
    return noContent();
  });

  router.on("GET", "/repos/{owner}/{repo}/teams", (req) => {
    const repo = core.requireRepo(req);
    const full = `${repo.owner}/${repo.name}`;
    return paginate(
      req,
      Object.values(core.state.teams)
        .filter((t) => t.org === repo.owner && t.repos[full] !== undefined)
        .map((t) => {
          const role = t.repos[full] ?? "read";
          return { ...teamJson(core, t), permission: ROLE_TO_PERMISSION[role], role_name: role };
        }),
    );
  });
}
