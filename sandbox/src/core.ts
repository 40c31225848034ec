import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import type { Actor } from "./auth/actor.js";
import { APP_PERMISSIONS, levelAtLeast, permissionForRoute } from "./auth/permissions.js";
import { HttpError, forbidden, notFound } from "./http/errors.js";
import type { ApiRequest } from "./http/request.js";
import { GitRepo } from "./git/repo.js";
import type { Instrumentation } from "./instrumentation.js";
import type { WebFlowKey } from "./signing/webflow.js";
import { isoNow, type StateStore } from "./state/store.js";
import type {
  InstallationRecord,
  OrgRecord,
  PermissionLevel,
  RepoRecord,
  RepoRole,
  UserRecord,
} from "./state/types.js";
import type { WebhookQueue } from "./webhooks/queue.js";
import { webhookShape } from "./webhooks/shape.js";

const ROLE_RANK: Record<RepoRole | "none", number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

export function roleAtLeast(role: RepoRole | "none", min: RepoRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[min];
}

function maxRole(a: RepoRole | "none", b: RepoRole | "none"): RepoRole | "none" {
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

/** GitHub's legacy global node id, e.g. `MDQ6VXNlcjE=` for "04:User1". */
/** GitHub's `permissions` object for a repository role (a REST caller's own, or a team's). */
export function permissionsJson(role: RepoRole | "none"): Record<string, boolean> {
  return {
    admin: role === "admin",
    maintain: roleAtLeast(role, "maintain"),
    push: roleAtLeast(role, "write"),
    triage: roleAtLeast(role, "triage"),
    pull: roleAtLeast(role, "read"),
  };
}

export function nodeId(type: string, id: number): string {
  return Buffer.from(`${String(type.length).padStart(2, "0")}:${type}${id}`).toString("base64");
}

/** Serialises one async task at a time per key (ref updates of a repository). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

export interface CoreOptions {
  dir: string;
  store: StateStore;
  origin: string;
  appPublicKey: KeyObject;
  webflow: WebFlowKey;
  webhooks: WebhookQueue;
  instrumentation: Instrumentation;
  rateLimit: number;
  adminToken: string;
  /**
   * The merge queue's wake-up (queue/engine.ts's wakeQueue). Passed in rather than imported: the
   * engine merges through pushes.ts, so ref and check writers calling it directly would make an
   * import cycle.
   */
  wakeQueue: (core: SandboxCore, repo: RepoRecord) => void;
}

/**
 * The shared services every route uses: state, repositories on disk, access rules, URLs,
 * webhook emission and the canonical JSON shapes of users, orgs and repositories.
 */
export class SandboxCore {
  readonly dir: string;
  readonly store: StateStore;
  readonly origin: string;
  readonly apiUrl: string;
  /** Replaced when an app is registered from a manifest (routes/app-manifests.ts). */
  appPublicKey: KeyObject;
  readonly webflow: WebFlowKey;
  readonly webhooks: WebhookQueue;
  readonly instrumentation: Instrumentation;
  readonly rateLimit: number;
  readonly adminToken: string;
  readonly mutex = new KeyedMutex();
  private readonly wake: CoreOptions["wakeQueue"];
  private readonly gitRepos = new Map<string, GitRepo>();

  constructor(options: CoreOptions) {
    this.dir = options.dir;
    this.store = options.store;
    this.origin = options.origin;
    this.apiUrl = `${options.origin}/api/v3`;
    this.appPublicKey = options.appPublicKey;
    this.webflow = options.webflow;
    this.webhooks = options.webhooks;
    this.instrumentation = options.instrumentation;
    this.rateLimit = options.rateLimit;
    this.adminToken = options.adminToken;
    this.wake = options.wakeQueue;
  }

  /**
   * Asks the merge queue to look at a repository again (a ref moved, a check or status was
   * written); it runs after whatever holds the repository's mutex now, never inside it.
   */
  wakeQueue(repo: RepoRecord): void {
    this.wake(this, repo);
  }

  get state() {
    return this.store.state;
  }

  now(): string {
    return isoNow();
  }

  nextId(): number {
    return this.store.nextId();
  }

  // ---- lookups ---------------------------------------------------------------------------------

  user(login: string): UserRecord | undefined {
    const exact = Object.hasOwn(this.state.users, login) ? this.state.users[login] : undefined;
    if (exact !== undefined) return exact;
    const key = Object.keys(this.state.users).find((k) => k.toLowerCase() === login.toLowerCase());
    return key === undefined ? undefined : this.state.users[key];
  }

  org(login: string): OrgRecord | undefined {
    const exact = Object.hasOwn(this.state.orgs, login) ? this.state.orgs[login] : undefined;
    if (exact !== undefined) return exact;
    const key = Object.keys(this.state.orgs).find((k) => k.toLowerCase() === login.toLowerCase());
    return key === undefined ? undefined : this.state.orgs[key];
  }

  repo(owner: string, name: string): RepoRecord | undefined {
    const exactKey = `${owner}/${name}`;
    const exact = Object.hasOwn(this.state.repos, exactKey) ? this.state.repos[exactKey] : undefined;
    if (exact !== undefined) return exact;
    const wanted = `${owner}/${name}`.toLowerCase();
    const key = Object.keys(this.state.repos).find((k) => k.toLowerCase() === wanted);
    return key === undefined ? undefined : this.state.repos[key];
  }

  appBot(): UserRecord {
    const bot = this.state.users[`${this.state.app.slug}[bot]`];
    if (bot === undefined) throw new Error("app bot user missing");
    return bot;
  }

  /** The user an actor acts as (sender of webhooks, author of objects). */
  actingUser(actor: Actor | null): UserRecord {
    if (actor === null) throw new HttpError(401, "Requires authentication");
    if (actor.kind === "user") return actor.user;
    if (actor.kind === "installation") return actor.bot;
    return this.appBot();
  }

  gitRepo(repo: RepoRecord): GitRepo {
    const key = `${repo.owner}/${repo.name}`;
    let git = this.gitRepos.get(key);
    if (git === undefined) {
      git = new GitRepo(this.repoPath(repo.owner, repo.name));
      this.gitRepos.set(key, git);
    }
    return git;
  }

  /** Stops every repository's long-lived git processes (on close). */
  closeGit(): void {
    for (const git of this.gitRepos.values()) git.close();
  }

  repoPath(owner: string, name: string): string {
    return join(this.dir, "repos", owner, `${name}.git`);
  }

  // ---- access ------------------------------------------------------------------------------------

  /** A user's role on a repository, from every source GitHub combines (highest wins). */
  userRole(user: UserRecord, repo: RepoRecord): RepoRole | "none" {
    if (user.site_admin) return "admin";
    // A user-owned repository (a fork): its owner administers it.
    if (repo.owner.toLowerCase() === user.login.toLowerCase()) return "admin";
    let role: RepoRole | "none" = repo.private ? "none" : "read";
    const org = this.org(repo.owner);
    if (org !== undefined) {
      const membership = org.members[user.login];
      if (membership === "admin") return "admin";
      if (membership === "member") role = maxRole(role, org.default_repository_permission);
      for (const team of Object.values(this.state.teams)) {
        if (team.org !== org.login || team.members[user.login] === undefined) continue;
        const granted = team.repos[`${repo.owner}/${repo.name}`];
        if (granted !== undefined) role = maxRole(role, granted);
      }
    }
    const collaborator = repo.collaborators[user.login];
    if (collaborator !== undefined) role = maxRole(role, collaborator);
    return role;
  }

  /** Is this repository one of the installation's (all of its account's, or the selected ones)? */
  installationCovers(installation: InstallationRecord, repo: RepoRecord): boolean {
    if (installation.account.toLowerCase() !== repo.owner.toLowerCase()) return false;
    if ((installation.repository_selection ?? "all") === "all") return true;
    return (installation.repository_ids ?? []).includes(repo.id);
  }

  /** The installation on an account, if the app is installed there. */
  installationFor(account: string): InstallationRecord | undefined {
    return Object.values(this.state.installations).find(
      (i) => i.account.toLowerCase() === account.toLowerCase(),
    );
  }

  /** May this installation token act on the repository (installation and token scope both)? */
  private tokenCovers(actor: Extract<Actor, { kind: "installation" }>, repo: RepoRecord): boolean {
    if (!this.installationCovers(actor.installation, repo)) return false;
    return actor.repositoryIds === undefined || actor.repositoryIds.includes(repo.id);
  }

  /** An installation token's permission level for one GitHub App permission (`metadata` always read). */
  private tokenLevel(
    actor: Extract<Actor, { kind: "installation" }>,
    permission: string,
  ): PermissionLevel | undefined {
    if (permission === "metadata") return "read";
    return (actor.permissions ?? APP_PERMISSIONS)[permission];
  }

  /**
   * An actor's role. Installation tokens act only on the installation's repositories (narrowed
   * further by the token's own repositories), where their level is that of the given GitHub App
   * permission (default `contents`, which is what git and most writes need): write → "write",
   * anything else → "read" (metadata). Elsewhere they see public repositories only, read-only.
   */
  role(actor: Actor | null, repo: RepoRecord, permission = "contents"): RepoRole | "none" {
    if (actor === null) return repo.private ? "none" : "read";
    if (actor.kind === "user") return this.userRole(actor.user, repo);
    if (actor.kind === "installation") {
      if (!this.tokenCovers(actor, repo)) return repo.private ? "none" : "read";
      return this.tokenLevel(actor, permission) === "write" ? "write" : "read";
    }
    return "none";
  }

  /** Repository administration (branch protection, rulesets, collaborators). */
  canAdminister(actor: Actor | null, repo: RepoRecord): boolean {
    if (actor === null) return false;
    if (actor.kind === "installation")
      return this.tokenCovers(actor, repo) && this.tokenLevel(actor, "administration") === "write";
    return this.role(actor, repo) === "admin";
  }

  /**
   * The repository named by `{owner}/{repo}`, readable by the actor (GitHub answers 404 when it
   * is not, so private repositories do not leak), with at least `min` if given (403). For an
   * installation token on one of its repositories, the level checked is that of the GitHub App
   * permission the endpoint needs (`permissionForRoute`): a token narrowed to `checks: write`
   * may create check runs and nothing else.
   */
  requireRepo(req: ApiRequest, min?: RepoRole | "administer"): RepoRecord {
    const repo = this.repo(req.params.owner ?? "", req.params.repo ?? "");
    if (repo === undefined) throw notFound();
    const actor = req.actor;
    if (actor?.kind === "installation" && this.tokenCovers(actor, repo)) {
      const permission = min === "administer" ? "administration" : permissionForRoute(req.method, req.route);
      const needed: PermissionLevel = min === undefined || min === "read" ? "read" : "write";
      if (!levelAtLeast(this.tokenLevel(actor, permission), needed))
        throw forbidden("Resource not accessible by integration");
      return repo;
    }
    const role = this.role(actor, repo);
    if (!roleAtLeast(role, "read")) throw notFound();
    // A public repository the installation does not cover: readable, but the app may not act on it
    // (even where any reader may, e.g. opening an issue).
    if (actor?.kind === "installation" && req.method !== "GET" && req.method !== "HEAD")
      throw forbidden("Resource not accessible by integration");
    if (min === "administer") {
      if (!this.canAdminister(actor, repo))
        throw forbidden(this.denial(actor, "admin rights to Repository."));
    } else if (min !== undefined && !roleAtLeast(role, min)) {
      throw forbidden(this.denial(actor, min === "read" ? "read access" : "push access to repository"));
    }
    return repo;
  }

  private denial(actor: Actor | null, what: string): string {
    if (actor?.kind === "installation") return "Resource not accessible by integration";
    return `Must have ${what}`;
  }

  requireSiteAdmin(req: ApiRequest): UserRecord {
    const actor = req.actor;
    if (actor === null) throw new HttpError(401, "Requires authentication");
    if (actor.kind !== "user" || !actor.user.site_admin)
      throw new HttpError(403, "Must be a site administrator.");
    return actor.user;
  }

  // ---- JSON shapes ---------------------------------------------------------------------------------

  userJson(login: string): Record<string, unknown> {
    const user = this.user(login);
    const org = user === undefined ? this.org(login) : undefined;
    const id = user?.id ?? org?.id ?? 0;
    const name = user?.login ?? org?.login ?? login;
    const type = user?.type ?? (org !== undefined ? "Organization" : "User");
    // GitHub percent-encodes bot logins in URLs (`/users/pullgate%5Bbot%5D`: `[` `]` are not valid
    // in a URI path) and links a bot's page to its app (`/apps/<slug>`).
    const api = `${this.apiUrl}/users/${encodeURIComponent(name)}`;
    const html =
      type === "Bot" ? `${this.origin}/apps/${name.replace(/\[bot\]$/, "")}` : `${this.origin}/${name}`;
    return {
      login: name,
      id,
      node_id: nodeId(type === "Bot" ? "Bot" : type, id),
      avatar_url: `${this.origin}/avatars/u/${id}`,
      gravatar_id: "",
      url: api,
      html_url: html,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type,
      user_view_type: "public",
      site_admin: user?.site_admin ?? false,
    };
  }

  /** The full user (GET /users/{u}, GET /user). */
  fullUserJson(user: UserRecord): Record<string, unknown> {
    return {
      ...this.userJson(user.login),
      name: user.name,
      company: null,
      blog: "",
      location: null,
      email: user.email,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: user.created_at,
      updated_at: user.created_at,
    };
  }

  orgJson(org: OrgRecord): Record<string, unknown> {
    const api = `${this.apiUrl}/orgs/${org.login}`;
    return {
      login: org.login,
      id: org.id,
      node_id: nodeId("Organization", org.id),
      url: api,
      repos_url: `${api}/repos`,
      events_url: `${api}/events`,
      hooks_url: `${api}/hooks`,
      issues_url: `${api}/issues`,
      members_url: `${api}/members{/member}`,
      public_members_url: `${api}/public_members{/member}`,
      avatar_url: `${this.origin}/avatars/u/${org.id}`,
      description: null,
    };
  }

  repoJson(repo: RepoRecord, actor?: Actor | null): Record<string, unknown> {
    const full = `${repo.owner}/${repo.name}`;
    const api = `${this.apiUrl}/repos/${full}`;
    const json: Record<string, unknown> = {
      id: repo.id,
      node_id: nodeId("Repository", repo.id),
      name: repo.name,
      full_name: full,
      private: repo.private,
      owner: this.userJson(repo.owner),
      html_url: `${this.origin}/${full}`,
      description: repo.description,
      fork: repo.fork_parent !== undefined,
      url: api,
      // GitHub's hypermedia URLs, all of them (REST and webhook repository objects carry every one).
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_trees_url: `${api}/git/trees{/sha}`,
      hooks_url: `${api}/hooks`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      created_at: repo.created_at,
      updated_at: repo.updated_at,
      pushed_at: repo.pushed_at,
      git_url: `git://${new URL(this.origin).host}/${full}.git`,
      ssh_url: `git@${new URL(this.origin).hostname}:${full}.git`,
      clone_url: `${this.origin}/${full}.git`,
      svn_url: `${this.origin}/${full}`,
      homepage: null,
      size: 0,
      stargazers_count: 0,
      watchers_count: 0,
      language: null,
      has_issues: true,
      has_projects: false,
      has_downloads: true,
      has_wiki: false,
      has_pages: false,
      has_discussions: false,
      forks_count: this.forkCount(full),
      network_count: 0,
      subscribers_count: 0,
      mirror_url: null,
      archived: repo.archived,
      disabled: false,
      open_issues_count: Object.values(this.state.issues).filter((i) => i.repo === full && i.state === "open")
        .length,
      license: null,
      allow_forking: false,
      is_template: false,
      web_commit_signoff_required: false,
      topics: [],
      visibility: repo.private ? "private" : "public",
      forks: this.forkCount(full),
      open_issues: 0,
      watchers: 0,
      default_branch: repo.default_branch,
      allow_merge_commit: repo.allow_merge_commit,
      allow_squash_merge: repo.allow_squash_merge,
      allow_rebase_merge: repo.allow_rebase_merge,
    };
    if (actor !== undefined && actor !== null) {
      json.permissions = permissionsJson(this.role(actor, repo));
    }
    const org = this.org(repo.owner);
    if (org !== undefined) json.organization = this.userJson(org.login);
    return json;
  }

  /** Direct forks of a repository ("owner/name"), GitHub's `forks_count`. */
  private forkCount(full: string): number {
    return Object.values(this.state.repos).filter((r) => r.fork_parent === full).length;
  }

  // ---- webhooks --------------------------------------------------------------------------------------

  /**
   * Enqueues a webhook to the app with the fields GitHub adds to every payload: repository,
   * organization, sender and installation (when the app is installed on the account).
   */
  emit(
    event: string,
    payload: Record<string, unknown>,
    context: { repo?: RepoRecord; org?: string; sender: UserRecord },
  ): void {
    const full: Record<string, unknown> = { ...payload };
    const orgLogin = context.repo?.owner ?? context.org;
    if (context.repo !== undefined) full.repository = this.repoJson(context.repo);
    const org = orgLogin === undefined ? undefined : this.org(orgLogin);
    if (org !== undefined) full.organization = this.orgJson(org);
    full.sender = this.userJson(context.sender.login);
    const installation = orgLogin === undefined ? undefined : this.installationFor(orgLogin);
    // Installation lifecycle events always reach the app; anything else only for an active
    // installation and, when about a repository, one the installation covers.
    const lifecycle = event === "installation" || event === "installation_repositories";
    if (installation !== undefined && !lifecycle) {
      if (installation.suspended_at !== null) return;
      if (context.repo !== undefined && !this.installationCovers(installation, context.repo)) return;
    }
    if (installation !== undefined && full.installation === undefined) {
      full.installation = { id: installation.id, node_id: nodeId("Installation", installation.id) };
    }
    if (installation === undefined && event !== "installation") return;
    this.webhooks.enqueue(event, webhookShape(event, full));
  }
}
