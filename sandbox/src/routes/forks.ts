import type { SandboxCore } from "../core.js";
import type { Actor } from "../auth/actor.js";
import { cloneBareFork } from "../git/fork.js";
import { HttpError, validationFailed } from "../http/errors.js";
import type { ApiRequest, ApiResponse } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { RepoRecord } from "../state/types.js";
import { networkRoot } from "../pulls/heads.js";
import { requireFreeRepoName } from "./repo-names.js";

const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

function repoByFullName(core: SandboxCore, full: string | undefined): RepoRecord | undefined {
  if (full === undefined) return undefined;
  const [owner = "", name = ""] = full.split("/");
  return core.repo(owner, name);
}

/**
 * GitHub's full repository (GET /repos/{o}/{r}, fork creation): the repository object plus, for a
 * fork, `parent` (the repository it was forked from) and `source` (the root of its network).
 */
export function fullRepoJson(
  core: SandboxCore,
  repo: RepoRecord,
  actor: Actor | null,
): Record<string, unknown> {
  const json = core.repoJson(repo, actor);
  const parent = repoByFullName(core, repo.fork_parent);
  const source = repoByFullName(core, repo.fork_source);
  if (parent !== undefined) json.parent = core.repoJson(parent);
  if (source !== undefined) json.source = core.repoJson(source);
  return json;
}

/**
 * Forks (`POST|GET /repos/{o}/{r}/forks`). A fork is a repository record with `fork_parent` and
 * `fork_source`, owned by the caller or by one of the caller's orgs, whose bare repository is a
 * clone of the parent's (its branches and tags, real objects). Forking needs read access to the
 * parent; a fork of a private repository is private. Webhooks about a user-owned fork do not reach
 * the app (it is not installed on the user), as on GitHub.
 */
export function registerForkRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/repos/{owner}/{repo}/forks", async (req: ApiRequest): Promise<ApiResponse> => {
    const parent = core.requireRepo(req, "read");
    const actor = req.actor;
    if (actor === null) throw new HttpError(401, "Requires authentication");
    // GitHub lets apps fork only into an account they are installed on with every repository; the
    // sandbox's forks are made by users (an outsider's fork is what a PR gate must withstand).
    if (actor.kind !== "user") throw new HttpError(403, "Resource not accessible by integration");
    const user = actor.user;
    const organization = req.body.optString("organization");
    let owner = user.login;
    if (organization !== undefined) {
      const org = core.org(organization);
      if (org === undefined)
        throw validationFailed({ resource: "Fork", field: "organization", code: "invalid" });
      if (org.members[user.login] === undefined && !user.site_admin)
        throw new HttpError(
          403,
          "You need admin access to the organization before adding a repository to it.",
        );
      owner = org.login;
    }
    const name = req.body.optString("name") ?? parent.name;
    if (!REPO_NAME.test(name) || name.endsWith(".git") || name === "." || name === "..")
      throw validationFailed({ resource: "Repository", field: "name", code: "invalid" });
    const parentFull = `${parent.owner}/${parent.name}`;
    // Forking again answers the existing fork (GitHub does the same).
    const existing = Object.values(core.state.repos).find(
      (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.fork_parent === parentFull,
    );
    if (existing !== undefined) return { status: 202, body: fullRepoJson(core, existing, actor) };
    if (
      owner.toLowerCase() === parent.owner.toLowerCase() &&
      name.toLowerCase() === parent.name.toLowerCase()
    )
      throw validationFailed({
        resource: "Repository",
        code: "custom",
        message: "A repository cannot be forked into its own account under the same name.",
      });
    requireFreeRepoName(core, owner, name);
    const now = core.now();
    const fork: RepoRecord = {
      id: core.nextId(),
      owner,
      name,
      private: parent.private,
      description: parent.description,
      default_branch: parent.default_branch,
      created_at: now,
      updated_at: now,
      pushed_at: parent.pushed_at,
      collaborators: {},
      allow_merge_commit: parent.allow_merge_commit,
      allow_squash_merge: parent.allow_squash_merge,
      allow_rebase_merge: parent.allow_rebase_merge,
      archived: false,
      fork_parent: parentFull,
      fork_source: networkRoot(parent),
    };
    // The parent's refs must not move while they are copied.
    await core.mutex.run(parentFull, () =>
      cloneBareFork(core.gitRepo(parent).path, core.repoPath(owner, name), {
        defaultBranchOnly: req.body.optBool("default_branch_only") ?? false,
        defaultBranch: parent.default_branch,
      }),
    );
    core.state.repos[`${owner}/${name}`] = fork;
    // Sent for the fork's account only (GitHub's `fork` event goes to the parent's hooks, which the
    // sandbox's app does not subscribe to).
    core.emit("repository", { action: "created" }, { repo: fork, sender: user });
    return { status: 202, body: fullRepoJson(core, fork, actor) };
  });

  router.on("GET", "/repos/{owner}/{repo}/forks", (req) => {
    const parent = core.requireRepo(req);
    const full = `${parent.owner}/${parent.name}`;
    const sort = req.query.get("sort") ?? "newest";
    const forks = Object.values(core.state.repos)
      .filter((r) => r.fork_parent === full && core.role(req.actor, r) !== "none")
      .sort((a, b) =>
        sort === "oldest" ? a.id - b.id : sort === "newest" ? b.id - a.id : a.name.localeCompare(b.name),
      );
    const page = paginate(req, forks);
    return { ...page, body: (page.body as RepoRecord[]).map((r) => core.repoJson(r, req.actor)) };
  });
}
