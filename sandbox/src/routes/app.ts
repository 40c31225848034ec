import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { installationSuspended, newToken } from "../auth/tokens.js";
import { APP_PERMISSIONS, narrowPermissions } from "../auth/permissions.js";
import { HttpError, notFound } from "../http/errors.js";
import { created, ok, noContent, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";
import { paginate } from "../http/pagination.js";
import type { InstallationRecord, RepoRecord, UserRecord } from "../state/types.js";
import { isoNow } from "../state/store.js";

export { APP_PERMISSIONS };

export const APP_EVENTS = [
  "branch_protection_rule",
  "check_run",
  "check_suite",
  "issue_comment",
  "issues",
  "member",
  "membership",
  "merge_group",
  "organization",
  "pull_request",
  "pull_request_review",
  "push",
  "repository",
  "repository_ruleset",
  "status",
  "team",
];

const INSTALLATION_TOKEN_TTL_MS = 60 * 60 * 1000;

const TOKEN_DOCS = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";

function requireAppJwt(req: ApiRequest): void {
  if (req.actor?.kind !== "app") {
    throw new HttpError(401, "A JSON web token could not be decoded", {
      documentationUrl: "https://docs.github.com/rest/apps/apps#get-the-authenticated-app",
    });
  }
}

export function installationJson(
  core: SandboxCore,
  installation: InstallationRecord,
): Record<string, unknown> {
  const org = core.org(installation.account);
  return {
    id: installation.id,
    node_id: nodeId("Installation", installation.id),
    account: core.userJson(installation.account),
    repository_selection: installation.repository_selection ?? "all",
    access_tokens_url: `${core.apiUrl}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${core.apiUrl}/installation/repositories`,
    html_url: `${core.origin}/organizations/${installation.account}/settings/installations/${installation.id}`,
    app_id: installation.app_id,
    app_slug: core.state.app.slug,
    client_id: `Iv1.sandbox${installation.app_id}`,
    target_id: org?.id ?? 0,
    target_type: "Organization",
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    created_at: installation.created_at,
    updated_at: installation.updated_at ?? installation.created_at,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by:
      installation.suspended_by === undefined || installation.suspended_by === null
        ? null
        : core.userJson(installation.suspended_by),
    suspended_at: installation.suspended_at,
  };
}

/** The repositories an installation covers, oldest first (GitHub lists them by id). */
export function installationRepos(core: SandboxCore, installation: InstallationRecord): RepoRecord[] {
  return Object.values(core.state.repos)
    .filter((r) => core.installationCovers(installation, r))
    .sort((a, b) => a.id - b.id);
}

/** A repository as installation webhooks name it: `{id, node_id, name, full_name, private}`. */
export function installationRepoRef(repo: RepoRecord): Record<string, unknown> {
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    private: repo.private,
  };
}

/** Sends an `installation` event (created, deleted, suspend, unsuspend) about an installation. */
export function emitInstallation(
  core: SandboxCore,
  installation: InstallationRecord,
  action: "created" | "deleted" | "suspend" | "unsuspend",
  sender: UserRecord,
): void {
  const payload: Record<string, unknown> = { action, installation: installationJson(core, installation) };
  // created and deleted name the repositories the installation covers; `requester` is who asked
  // for the install (null: nobody had to approve it).
  if (action === "created" || action === "deleted")
    payload.repositories = installationRepos(core, installation).map(installationRepoRef);
  payload.requester = null;
  core.emit("installation", payload, { org: installation.account, sender });
}

/**
 * Sends `installation_repositories` (added or removed) for a change of an installation's
 * repositories: the new selection, the repositories on each side, who asked for it.
 */
export function emitInstallationRepositories(
  core: SandboxCore,
  installation: InstallationRecord,
  change: { added: RepoRecord[]; removed: RepoRecord[] },
  sender: UserRecord,
): void {
  const action = change.added.length > 0 ? "added" : "removed";
  core.emit(
    "installation_repositories",
    {
      action,
      installation: installationJson(core, installation),
      repository_selection: installation.repository_selection ?? "all",
      repositories_added: change.added.map(installationRepoRef),
      repositories_removed: change.removed.map(installationRepoRef),
      requester: null,
    },
    { org: installation.account, sender },
  );
}

export function appJson(core: SandboxCore): Record<string, unknown> {
  const app = core.state.app;
  return {
    id: app.id,
    slug: app.slug,
    client_id: `Iv1.sandbox${app.id}`,
    node_id: nodeId("App", app.id),
    owner: core.userJson(app.owner),
    name: app.name,
    description: "pullgate (sandbox registration)",
    external_url: core.origin,
    html_url: `${core.origin}/apps/${app.slug}`,
    created_at: app.created_at,
    updated_at: app.created_at,
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    installations_count: Object.keys(core.state.installations).length,
  };
}

/**
 * Installs the app on an org (GHES: done automatically for every new org, on all repositories)
 * and tells the app (`installation` created; a selected install names its repositories).
 */
export function installApp(
  core: SandboxCore,
  orgLogin: string,
  sender: string,
  selection: { repository_selection: "all" | "selected"; repository_ids: number[] } = {
    repository_selection: "all",
    repository_ids: [],
  },
): InstallationRecord {
  const now = core.now();
  const installation: InstallationRecord = {
    id: core.nextId(),
    app_id: core.state.app.id,
    account: orgLogin,
    created_at: now,
    updated_at: now,
    suspended_at: null,
    suspended_by: null,
    repository_selection: selection.repository_selection,
    repository_ids: selection.repository_selection === "selected" ? [...selection.repository_ids] : [],
  };
  core.state.installations[String(installation.id)] = installation;
  emitInstallation(core, installation, "created", core.user(sender) ?? core.appBot());
  return installation;
}

/** Revokes every token of an installation (on deletion). */
function revokeTokens(core: SandboxCore, installation: InstallationRecord): void {
  for (const [token, record] of Object.entries(core.state.tokens)) {
    if (record.kind === "installation" && record.installationId === installation.id)
      delete core.state.tokens[token];
  }
}

/**
 * The repositories a token request names (`repositories` by name, `repository_ids` by id), all
 * of which must be the installation's: GitHub's 422 otherwise. Null = not narrowed.
 */
function requestedRepos(
  core: SandboxCore,
  req: ApiRequest,
  installation: InstallationRecord,
): RepoRecord[] | null {
  const names = req.body.optStringArray("repositories");
  const idsRaw = req.body.optArray("repository_ids");
  if (idsRaw !== undefined && idsRaw.some((id) => typeof id !== "number" || !Number.isInteger(id)))
    throw new HttpError(
      422,
      "Invalid request.\n\nFor 'properties/repository_ids', the items are not all integers.",
    );
  const ids = (idsRaw ?? []) as number[];
  if (names === undefined && idsRaw === undefined) return null;
  if ((names ?? []).length === 0 && ids.length === 0) return null;
  const covered = installationRepos(core, installation);
  const chosen = new Map<number, RepoRecord>();
  const missing = (): HttpError =>
    new HttpError(
      422,
      "There is at least one repository that does not exist or is not accessible to the parent installation.",
      { documentationUrl: TOKEN_DOCS },
    );
  for (const name of names ?? []) {
    const repo = covered.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (repo === undefined) throw missing();
    chosen.set(repo.id, repo);
  }
  for (const id of ids) {
    const repo = covered.find((r) => r.id === id);
    if (repo === undefined) throw missing();
    chosen.set(repo.id, repo);
  }
  return [...chosen.values()].sort((a, b) => a.id - b.id);
}

function findInstallation(core: SandboxCore, id: string | undefined): InstallationRecord {
  const installation = id === undefined ? undefined : core.state.installations[id];
  if (installation === undefined) throw notFound();
  return installation;
}

export function registerAppRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/app", (req) => {
    requireAppJwt(req);
    return ok(appJson(core));
  });

  router.on("GET", "/app/installations", (req) => {
    requireAppJwt(req);
    return paginate(
      req,
      Object.values(core.state.installations).map((i) => installationJson(core, i)),
    );
  });

  router.on("GET", "/app/installations/{installation_id}", (req) => {
    requireAppJwt(req);
    return ok(installationJson(core, findInstallation(core, req.params.installation_id)));
  });

  router.on("POST", "/app/installations/{installation_id}/access_tokens", (req) => {
    requireAppJwt(req);
    const installation = findInstallation(core, req.params.installation_id);
    if (installation.suspended_at !== null) throw installationSuspended();
    const repos = requestedRepos(core, req, installation);
    const requestedPermissions = req.body.optObject("permissions");
    let permissions: Record<string, "read" | "write"> | null = null;
    if (requestedPermissions !== undefined && Object.keys(requestedPermissions.raw).length > 0) {
      permissions = narrowPermissions(requestedPermissions.raw, APP_PERMISSIONS);
      if (permissions === null)
        throw new HttpError(422, "The permissions requested are not granted to this installation.", {
          documentationUrl: TOKEN_DOCS,
        });
    }
    const token = newToken("ghs");
    const expiresAt = Date.now() + INSTALLATION_TOKEN_TTL_MS;
    core.state.tokens[token] = {
      kind: "installation",
      token,
      installationId: installation.id,
      expiresAt,
      ...(repos !== null ? { repositoryIds: repos.map((r) => r.id) } : {}),
      ...(permissions !== null ? { permissions } : {}),
    };
    const selection = repos !== null ? "selected" : (installation.repository_selection ?? "all");
    return created({
      token,
      expires_at: isoNow(new Date(expiresAt)),
      permissions: permissions ?? APP_PERMISSIONS,
      repository_selection: selection,
      // GitHub lists the repositories when the token (or its installation) is limited to some.
      ...(selection === "selected"
        ? { repositories: (repos ?? installationRepos(core, installation)).map((r) => core.repoJson(r)) }
        : {}),
    });
  });

  router.on("PUT", "/app/installations/{installation_id}/suspended", (req) => {
    requireAppJwt(req);
    const installation = findInstallation(core, req.params.installation_id);
    if (installation.suspended_at === null) {
      const bot = core.appBot();
      installation.suspended_at = core.now();
      installation.suspended_by = bot.login;
      installation.updated_at = installation.suspended_at;
      emitInstallation(core, installation, "suspend", bot);
    }
    return noContent();
  });

  router.on("DELETE", "/app/installations/{installation_id}/suspended", (req) => {
    requireAppJwt(req);
    const installation = findInstallation(core, req.params.installation_id);
    if (installation.suspended_at !== null) {
      installation.suspended_at = null;
      installation.suspended_by = null;
      installation.updated_at = core.now();
      emitInstallation(core, installation, "unsuspend", core.appBot());
    }
    return noContent();
  });

  router.on("DELETE", "/app/installations/{installation_id}", (req) => {
    requireAppJwt(req);
    const installation = findInstallation(core, req.params.installation_id);
    emitInstallation(core, installation, "deleted", core.appBot());
    delete core.state.installations[String(installation.id)];
    revokeTokens(core, installation);
    return noContent();
  });

  router.on("GET", "/repos/{owner}/{repo}/installation", (req) => {
    requireAppJwt(req);
    const repo = core.repo(req.params.owner ?? "", req.params.repo ?? "");
    const installation = repo === undefined ? undefined : core.installationFor(repo.owner);
    if (repo === undefined || installation === undefined || !core.installationCovers(installation, repo))
      throw notFound();
    return ok(installationJson(core, installation));
  });

  router.on("GET", "/orgs/{org}/installation", (req) => {
    requireAppJwt(req);
    const org = core.org(req.params.org ?? "");
    const installation = Object.values(core.state.installations).find((i) => i.account === org?.login);
    if (installation === undefined) throw notFound();
    return ok(installationJson(core, installation));
  });

  router.on("GET", "/installation/repositories", (req) => {
    const actor = req.actor;
    if (actor?.kind !== "installation")
      throw new HttpError(403, "This endpoint requires an installation token.");
    const scope = actor.repositoryIds;
    const repos = installationRepos(core, actor.installation).filter(
      (r) => scope === undefined || scope.includes(r.id),
    );
    const page = paginate(req, repos);
    return {
      ...page,
      body: {
        total_count: repos.length,
        repository_selection:
          scope !== undefined ? "selected" : (actor.installation.repository_selection ?? "all"),
        repositories: (page.body as typeof repos).map((r) => core.repoJson(r)),
      },
    };
  });

  router.on("DELETE", "/installation/token", (req) => {
    if (req.actor?.kind !== "installation")
      throw new HttpError(403, "This endpoint requires an installation token.");
    for (const [token, record] of Object.entries(core.state.tokens)) {
      if (record.kind === "installation" && req.headers.authorization?.includes(token))
        delete core.state.tokens[token];
    }
    return noContent();
  });
}
