import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { InstallationRecord, RepoRecord, UserRecord } from "../state/types.js";
import { emitInstallationRepositories, installApp, installationJson, installationRepos } from "./app.js";

const DOCS = "https://docs.github.com/rest/apps/installations";

/** These endpoints take a user's token (a PAT); apps and installations are refused as on GitHub. */
function requireUser(req: ApiRequest): UserRecord {
  const actor = req.actor;
  if (actor === null) throw new HttpError(401, "Requires authentication");
  if (actor.kind !== "user") throw new HttpError(403, "Resource not accessible by integration");
  return actor.user;
}

/** Installations a user can see: those on orgs they belong to (site admins see all). */
function visibleTo(core: SandboxCore, user: UserRecord, installation: InstallationRecord): boolean {
  if (user.site_admin) return true;
  return core.org(installation.account)?.members[user.login] !== undefined;
}

function userInstallation(core: SandboxCore, user: UserRecord, id: string | undefined): InstallationRecord {
  const installation = id === undefined ? undefined : core.state.installations[id];
  if (installation === undefined || !visibleTo(core, user, installation)) throw notFound();
  return installation;
}

/** The repository `{repository_id}` names, when the user can see it (404 otherwise, as GitHub). */
function repoById(core: SandboxCore, user: UserRecord, id: string | undefined): RepoRecord {
  const repo = Object.values(core.state.repos).find((r) => String(r.id) === id);
  if (repo === undefined || !roleAtLeast(core.userRole(user, repo), "read")) throw notFound();
  return repo;
}

/**
 * Changes an installation's repositories and tells the app with `installation_repositories`:
 * one `added` event naming what it gained, one `removed` event naming what it lost (GitHub sends
 * each kind of change as its own event), each carrying the new selection.
 */
export function changeInstallation(
  core: SandboxCore,
  installation: InstallationRecord,
  next: { repository_selection: "all" | "selected"; repository_ids: number[] },
  sender: UserRecord,
): void {
  const before = installationRepos(core, installation);
  installation.repository_selection = next.repository_selection;
  installation.repository_ids = next.repository_selection === "selected" ? [...next.repository_ids] : [];
  installation.updated_at = core.now();
  const after = installationRepos(core, installation);
  const added = after.filter((r) => !before.some((b) => b.id === r.id));
  const removed = before.filter((r) => !after.some((a) => a.id === r.id));
  if (added.length > 0) emitInstallationRepositories(core, installation, { added, removed: [] }, sender);
  if (removed.length > 0) emitInstallationRepositories(core, installation, { added: [], removed }, sender);
}

/** `repositories: [names]` of an org, every one of which must exist (422 naming the first that does not). */
function reposByName(core: SandboxCore, org: string, names: string[]): number[] {
  return names.map((name) => {
    const repo = core.repo(org, name);
    if (repo === undefined)
      throw validationFailed({
        resource: "Installation",
        field: "repositories",
        code: "invalid",
        message: `repository ${org}/${name} does not exist`,
      });
    return repo.id;
  });
}

/** The selection a sandbox install or change asks for (`repositories` needed when "selected"). */
function selectionFrom(
  core: SandboxCore,
  req: ApiRequest,
  org: string,
  current?: InstallationRecord,
): { repository_selection: "all" | "selected"; repository_ids: number[] } {
  const selection =
    req.body.oneOf("repository_selection", ["all", "selected"] as const) ??
    current?.repository_selection ??
    "all";
  const names = req.body.optStringArray("repositories");
  if (selection === "all") {
    if (names !== undefined && names.length > 0)
      throw validationFailed({
        resource: "Installation",
        field: "repositories",
        code: "invalid",
        message: 'repositories can only be given with repository_selection "selected"',
      });
    return { repository_selection: "all", repository_ids: [] };
  }
  const ids = names !== undefined ? reposByName(core, org, names) : [...(current?.repository_ids ?? [])];
  if (ids.length === 0)
    throw validationFailed({
      resource: "Installation",
      field: "repositories",
      code: "missing_field",
      message: "a selected installation needs at least one repository",
    });
  return { repository_selection: "selected", repository_ids: [...new Set(ids)] };
}

/**
 * GitHub's user-facing installation endpoints (a user token: list the installations and their
 * repositories the user can see, add or remove a repository of a "selected" installation), and
 * the sandbox's own way to install the app on chosen repositories (GitHub does that in its UI).
 */
/**
 * The installation and repository a `/user/installations/{id}/repositories/{repository_id}` call
 * names, for a user who may change which repositories it covers: the repository must be the
 * installation's account's, and the user an admin of it (org owners are).
 */
function installationRepoAsAdmin(core: SandboxCore, req: ApiRequest) {
  const user = requireUser(req);
  const installation = userInstallation(core, user, req.params.installation_id);
  const repo = repoById(core, user, req.params.repository_id);
  if (repo.owner.toLowerCase() !== installation.account.toLowerCase()) throw notFound();
  if (core.userRole(user, repo) !== "admin")
    throw new HttpError(403, "Must have admin rights to Repository.", { documentationUrl: DOCS });
  return { user, installation, repo };
}

export function registerInstallationRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/user/installations", (req) => {
    const user = requireUser(req);
    const installations = Object.values(core.state.installations)
      .filter((i) => visibleTo(core, user, i))
      .sort((a, b) => a.id - b.id);
    const page = paginate(req, installations);
    return {
      ...page,
      body: {
        total_count: installations.length,
        installations: (page.body as InstallationRecord[]).map((i) => installationJson(core, i)),
      },
    };
  });

  router.on("GET", "/user/installations/{installation_id}/repositories", (req) => {
    const user = requireUser(req);
    const installation = userInstallation(core, user, req.params.installation_id);
    const repos = installationRepos(core, installation).filter((r) =>
      roleAtLeast(core.userRole(user, r), "read"),
    );
    const page = paginate(req, repos);
    return {
      ...page,
      body: {
        total_count: repos.length,
        repository_selection: installation.repository_selection ?? "all",
        repositories: (page.body as RepoRecord[]).map((r) => core.repoJson(r, req.actor)),
      },
    };
  });

  router.on("PUT", "/user/installations/{installation_id}/repositories/{repository_id}", (req) => {
    const { user, installation, repo } = installationRepoAsAdmin(core, req);
    // Already covered (an "all" installation covers every repository): nothing changes, no event.
    if (core.installationCovers(installation, repo)) return noContent();
    changeInstallation(
      core,
      installation,
      { repository_selection: "selected", repository_ids: [...(installation.repository_ids ?? []), repo.id] },
      user,
    );
    return noContent();
  });

  router.on("DELETE", "/user/installations/{installation_id}/repositories/{repository_id}", (req) => {
    const { user, installation, repo } = installationRepoAsAdmin(core, req);
    // GitHub's documented 422s: an "all" installation has no list to remove from, and an
    // installation may not be left with no repository at all (uninstall it instead).
    if ((installation.repository_selection ?? "all") === "all")
      throw new HttpError(
        422,
        "This installation has access to all repositories; a repository cannot be removed from it.",
        { documentationUrl: DOCS },
      );
    const ids = installation.repository_ids ?? [];
    if (!ids.includes(repo.id)) return noContent();
    if (ids.length === 1)
      throw new HttpError(
        422,
        "A repository cannot be removed from an installation that has access to only that repository.",
        { documentationUrl: DOCS },
      );
    changeInstallation(
      core,
      installation,
      { repository_selection: "selected", repository_ids: ids.filter((id) => id !== repo.id) },
      user,
    );
    return noContent();
  });

  // ---- sandbox-only (admin token) ----------------------------------------------------------------

  router.on("POST", "/sandbox/installations", (req) => {
    const admin = core.requireSiteAdmin(req);
    const account = req.body.string("account");
    const org = core.org(account);
    if (org === undefined)
      throw validationFailed({
        resource: "Installation",
        field: "account",
        code: "invalid",
        message: "account is not an organization",
      });
    if (core.installationFor(org.login) !== undefined)
      throw validationFailed({
        resource: "Installation",
        field: "account",
        code: "already_exists",
        message: "the app is already installed on this account",
      });
    const installation = installApp(core, org.login, admin.login, selectionFrom(core, req, org.login));
    return created(installationJson(core, installation));
  });

  router.on("PATCH", "/sandbox/installations/{installation_id}", (req) => {
    const admin = core.requireSiteAdmin(req);
    const installation = core.state.installations[req.params.installation_id ?? ""];
    if (installation === undefined) throw notFound();
    changeInstallation(
      core,
      installation,
      selectionFrom(core, req, installation.account, installation),
      admin,
    );
    return ok(installationJson(core, installation));
  });
}
