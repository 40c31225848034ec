import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { newToken } from "../auth/tokens.js";
import { HttpError, notFound } from "../http/errors.js";
import { created, ok, noContent, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";
import { paginate } from "../http/pagination.js";
import type { InstallationRecord } from "../state/types.js";
import { isoNow } from "../state/store.js";

/** What the pre-registered app may do (its installations get these on every org). */
export const APP_PERMISSIONS = {
  administration: "write",
  checks: "write",
  contents: "write",
  issues: "write",
  members: "read",
  metadata: "read",
  pull_requests: "write",
  statuses: "write",
} as const;

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
    repository_selection: "all",
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
    updated_at: installation.created_at,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: installation.suspended_at,
  };
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

/** Installs the app on an org (GHES: done automatically for every new org) and tells the app. */
export function installApp(core: SandboxCore, orgLogin: string, sender: string): InstallationRecord {
  const installation: InstallationRecord = {
    id: core.nextId(),
    app_id: core.state.app.id,
    account: orgLogin,
    created_at: core.now(),
    suspended_at: null,
  };
  core.state.installations[String(installation.id)] = installation;
  const senderUser = core.user(sender) ?? core.appBot();
  core.emit(
    "installation",
    {
      action: "created",
      installation: installationJson(core, installation),
      repositories: Object.values(core.state.repos)
        .filter((r) => r.owner === orgLogin)
        .map((r) => ({
          id: r.id,
          node_id: nodeId("Repository", r.id),
          name: r.name,
          full_name: `${r.owner}/${r.name}`,
          private: r.private,
        })),
      requester: null,
    },
    { org: orgLogin, sender: senderUser },
  );
  return installation;
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
    if (installation.suspended_at !== null) throw new HttpError(403, "This installation has been suspended");
    const token = newToken("ghs");
    const expiresAt = Date.now() + INSTALLATION_TOKEN_TTL_MS;
    core.state.tokens[token] = { kind: "installation", token, installationId: installation.id, expiresAt };
    return created({
      token,
      expires_at: isoNow(new Date(expiresAt)),
      permissions: APP_PERMISSIONS,
      repository_selection: "all",
    });
  });

  router.on("GET", "/repos/{owner}/{repo}/installation", (req) => {
    requireAppJwt(req);
    const repo = core.repo(req.params.owner ?? "", req.params.repo ?? "");
    const installation = Object.values(core.state.installations).find((i) => i.account === repo?.owner);
    if (repo === undefined || installation === undefined) throw notFound();
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
    const repos = Object.values(core.state.repos).filter((r) => r.owner === actor.installation.account);
    const page = paginate(req, repos);
    return {
      ...page,
      body: {
        total_count: repos.length,
        repository_selection: "all",
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
