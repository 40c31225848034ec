import type { SandboxCore } from "../core.js";
import { permissionsJson, roleAtLeast } from "../core.js";
import { GitRepo } from "../git/repo.js";
import { commitPayload, signedCommitText, type GitIdent } from "../git/objects.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { RepoRecord, RepoRole, UserRecord } from "../state/types.js";
import { PERMISSION_TO_ROLE } from "./orgs.js";
import { fullRepoJson } from "./forks.js";
import { requireFreeRepoName } from "./repo-names.js";

const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** GitHub's identity for the commits it makes itself (web-flow). */
export function githubIdent(seconds = Math.floor(Date.now() / 1000)): GitIdent {
  return { name: "GitHub", email: "noreply@github.com", seconds, tz: "+0000" };
}

export function userIdent(user: UserRecord, seconds = Math.floor(Date.now() / 1000)): GitIdent {
  return {
    name: user.name ?? user.login,
    email: user.email ?? `${user.id}+${user.login}@users.noreply.github.com`,
    seconds,
    tz: "+0000",
  };
}

/** Writes a commit signed by the web-flow key, as GitHub does for commits made in its UI/API. */
export async function writeWebFlowCommit(
  core: SandboxCore,
  git: GitRepo,
  input: Parameters<typeof commitPayload>[0],
): Promise<string> {
  const signature = await core.webflow.sign(commitPayload(input));
  return git.writeCommitText(signedCommitText(input, signature));
}

const ROLE_NAMES: Record<RepoRole, string> = {
  read: "read",
  triage: "triage",
  write: "write",
  maintain: "maintain",
  admin: "admin",
};

/** The legacy `permission` value: admin | write | read | none (maintain → write, triage → read). */
function legacyPermission(role: RepoRole | "none"): "admin" | "write" | "read" | "none" {
  if (role === "admin") return "admin";
  if (role === "maintain" || role === "write") return "write";
  if (role === "triage" || role === "read") return "read";
  return "none";
}

export function registerRepoRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/orgs/{org}/repos", async (req) => {
    const org = core.org(req.params.org ?? "");
    if (org === undefined) throw notFound();
    const actor = req.actor;
    if (actor === null) throw new HttpError(401, "Requires authentication");
    const creator = core.actingUser(actor);
    const allowed =
      (actor.kind === "user" && (actor.user.site_admin || org.members[actor.user.login] !== undefined)) ||
      (actor.kind === "installation" && actor.installation.account === org.login);
    if (!allowed)
      throw new HttpError(403, "You need admin access to the organization before adding a repository to it.");
    const name = req.body.string("name");
    if (!REPO_NAME.test(name) || name.endsWith(".git") || name === "." || name === "..")
      throw validationFailed({ resource: "Repository", field: "name", code: "invalid" });
    requireFreeRepoName(core, org.login, name);
    const now = core.now();
    const repo: RepoRecord = {
      id: core.nextId(),
      owner: org.login,
      name,
      private: req.body.optBool("private") ?? req.body.optString("visibility") === "private",
      description: req.body.optString("description") ?? null,
      default_branch: "main",
      created_at: now,
      updated_at: now,
      // GitHub sets it at creation, before any push (full-repository's `pushed_at` is not nullable).
      pushed_at: now,
      collaborators: {},
      allow_merge_commit: req.body.optBool("allow_merge_commit") ?? true,
      allow_squash_merge: req.body.optBool("allow_squash_merge") ?? true,
      allow_rebase_merge: req.body.optBool("allow_rebase_merge") ?? true,
      archived: false,
    };
    const git = await GitRepo.init(core.repoPath(org.login, name), repo.default_branch);
    if (req.body.optBool("auto_init") === true) {
      const readme = await git.writeBlob(
        Buffer.from(`# ${name}\n${repo.description === null ? "" : `\n${repo.description}\n`}`),
      );
      const tree = await git.mktree([{ mode: "100644", type: "blob", sha: readme, name: "README.md" }]);
      const sha = await writeWebFlowCommit(core, git, {
        tree,
        parents: [],
        author: userIdent(creator),
        committer: githubIdent(),
        message: "Initial commit",
      });
      await git.updateRef(`refs/heads/${repo.default_branch}`, sha, null);
      repo.pushed_at = now;
    }
    core.state.repos[`${org.login}/${name}`] = repo;
    core.emit("repository", { action: "created" }, { repo, sender: creator });
    return created(core.repoJson(repo, actor));
  });

  router.on("GET", "/orgs/{org}/repos", (req) => {
    const org = core.org(req.params.org ?? "");
    if (org === undefined) throw notFound();
    const repos = Object.values(core.state.repos).filter(
      (r) => r.owner === org.login && roleAtLeast(core.role(req.actor, r), "read"),
    );
    return paginate(
      req,
      repos.map((r) => core.repoJson(r, req.actor)),
    );
  });

  router.on("GET", "/repos/{owner}/{repo}", (req) =>
    ok(fullRepoJson(core, core.requireRepo(req), req.actor)),
  );

  router.on("PATCH", "/repos/{owner}/{repo}", async (req) => {
    const repo = core.requireRepo(req, "administer");
    const defaultBranch = req.body.optString("default_branch");
    if (defaultBranch !== undefined) {
      if ((await core.gitRepo(repo).refSha(`refs/heads/${defaultBranch}`)) === null)
        throw validationFailed({ resource: "Repository", field: "default_branch", code: "invalid" });
      repo.default_branch = defaultBranch;
    }
    const description = req.body.nullableString("description");
    if (description !== undefined) repo.description = description;
    repo.private = req.body.optBool("private") ?? repo.private;
    repo.allow_merge_commit = req.body.optBool("allow_merge_commit") ?? repo.allow_merge_commit;
    repo.allow_squash_merge = req.body.optBool("allow_squash_merge") ?? repo.allow_squash_merge;
    repo.allow_rebase_merge = req.body.optBool("allow_rebase_merge") ?? repo.allow_rebase_merge;
    repo.archived = req.body.optBool("archived") ?? repo.archived;
    repo.updated_at = core.now();
    return ok(core.repoJson(repo, req.actor));
  });

  router.on("PUT", "/repos/{owner}/{repo}/collaborators/{username}", (req) => {
    const repo = core.requireRepo(req, "administer");
    const user = core.user(req.params.username ?? "");
    if (user === undefined || user.type !== "User") throw notFound();
    const permission = req.body.optString("permission") ?? "push";
    const role = PERMISSION_TO_ROLE[permission];
    if (role === undefined)
      throw validationFailed({ resource: "Repository", field: "permission", code: "invalid" });
    // GitHub sends an invitation (201); the sandbox accepts it at once and answers 204 as for an existing member.
    const before = repo.collaborators[user.login];
    repo.collaborators[user.login] = role;
    const sender = core.actingUser(req.actor);
    if (before === undefined)
      core.emit(
        "member",
        {
          action: "added",
          member: core.userJson(user.login),
          changes: { permission: { to: legacyPermission(role) }, role_name: { to: ROLE_NAMES[role] } },
        },
        { repo, sender },
      );
    else if (before !== role)
      // GitHub's edited payload: the legacy permission names before and after, and the old one again.
      core.emit(
        "member",
        {
          action: "edited",
          member: core.userJson(user.login),
          changes: {
            old_permission: { from: legacyPermission(before) },
            permission: { from: legacyPermission(before), to: legacyPermission(role) },
          },
        },
        { repo, sender },
      );
    return noContent();
  });

  router.on("DELETE", "/repos/{owner}/{repo}/collaborators/{username}", (req) => {
    const repo = core.requireRepo(req, "administer");
    const user = core.user(req.params.username ?? "");
    if (user === undefined || repo.collaborators[user.login] === undefined) return noContent();
    delete repo.collaborators[user.login];
    core.emit(
      "member",
      { action: "removed", member: core.userJson(user.login) },
      { repo, sender: core.actingUser(req.actor) },
    );
    return noContent();
  });

  router.on("GET", "/repos/{owner}/{repo}/collaborators/{username}", (req) => {
    const repo = core.requireRepo(req);
    const user = core.user(req.params.username ?? "");
    // A collaborator is anyone with access beyond what a public repository gives everybody.
    if (user === undefined || !roleAtLeast(core.userRole(user, { ...repo, private: true }), "read"))
      throw notFound();
    return noContent();
  });

  router.on("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", (req) => {
    const repo = core.requireRepo(req);
    const user = core.user(req.params.username ?? "");
    if (user === undefined) throw notFound();
    const role = core.userRole(user, repo);
    return ok({
      permission: legacyPermission(role),
      role_name: role === "none" ? "none" : ROLE_NAMES[role],
      user: {
        ...core.userJson(user.login),
        permissions: permissionsJson(role),
        role_name: role === "none" ? "none" : ROLE_NAMES[role],
      },
    });
  });

  router.on("GET", "/repos/{owner}/{repo}/collaborators", (req) => {
    const repo = core.requireRepo(req);
    const org = core.org(repo.owner);
    const logins = new Set<string>([...Object.keys(repo.collaborators), ...Object.keys(org?.members ?? {})]);
    for (const team of Object.values(core.state.teams)) {
      if (team.org === repo.owner && team.repos[`${repo.owner}/${repo.name}`] !== undefined)
        for (const login of Object.keys(team.members)) logins.add(login);
    }
    const affiliation = req.query.get("affiliation") ?? "all";
    const users = [...logins]
      .filter((l) => affiliation !== "direct" || repo.collaborators[l] !== undefined)
      .sort()
      .flatMap((l) => {
        const user = core.user(l);
        if (user === undefined) return [];
        const role = core.userRole(user, repo);
        return [
          {
            ...core.userJson(l),
            permissions: permissionsJson(role),
            role_name: role === "none" ? "none" : ROLE_NAMES[role],
          },
        ];
      });
    return paginate(req, users);
  });
}
