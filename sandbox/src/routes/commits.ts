import type { SandboxCore } from "../core.js";
import { HttpError, notFound } from "../http/errors.js";
import { ok, type ApiRequest, type ApiResponse } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { ChangedFile } from "../git/repo.js";
import type { RepoRecord } from "../state/types.js";
import { gitCommitJson, githubBase64 } from "./git-json.js";

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

function userByEmail(core: SandboxCore, email: string): Record<string, unknown> | null {
  if (email === "noreply@github.com") return core.userJson("web-flow");
  const user = Object.values(core.state.users).find(
    (u) => u.email !== null && u.email.toLowerCase() === email.toLowerCase(),
  );
  return user === undefined ? null : core.userJson(user.login);
}

export async function fileJson(
  core: SandboxCore,
  repo: RepoRecord,
  base: string,
  head: string,
  file: ChangedFile,
  withPatch: boolean,
) {
  const full = `${repo.owner}/${repo.name}`;
  const json: Record<string, unknown> = {
    sha: file.sha,
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.changes,
    blob_url: `${core.origin}/${full}/blob/${head}/${file.filename}`,
    raw_url: `${core.origin}/${full}/raw/${head}/${file.filename}`,
    contents_url: `${core.apiUrl}/repos/${full}/contents/${file.filename}?ref=${head}`,
  };
  if (withPatch) {
    const patch = file.binary ? undefined : (await core.gitRepo(repo).patches(base, head)).get(file.filename);
    if (patch !== undefined) json.patch = patch;
  }
  if (file.previous_filename !== undefined) json.previous_filename = file.previous_filename;
  return json;
}

/** GitHub's "commit" object of the repos/commits endpoints (wrapping the git commit). */
export async function repoCommitJson(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
  withFiles: boolean,
): Promise<Record<string, unknown> | null> {
  const git = core.gitRepo(repo);
  const gitJson = await gitCommitJson(core, repo, sha);
  const parsed = await git.readCommit(sha);
  if (gitJson === null || parsed === null) return null;
  const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const html = `${core.origin}/${repo.owner}/${repo.name}/commit/${sha}`;
  const json: Record<string, unknown> = {
    sha,
    node_id: gitJson.node_id,
    commit: {
      author: gitJson.author,
      committer: gitJson.committer,
      message: gitJson.message,
      tree: gitJson.tree,
      url: gitJson.url,
      comment_count: 0,
      verification: gitJson.verification,
    },
    url: `${api}/commits/${sha}`,
    html_url: html,
    comments_url: `${api}/commits/${sha}/comments`,
    author: userByEmail(core, parsed.parsed.author.email),
    committer: userByEmail(core, parsed.parsed.committer.email),
    parents: parsed.parsed.parents.map((p) => ({
      sha: p,
      url: `${api}/commits/${p}`,
      html_url: `${core.origin}/${repo.owner}/${repo.name}/commit/${p}`,
    })),
  };
  if (withFiles) {
    const parent = parsed.parsed.parents[0] ?? EMPTY_TREE;
    const files = (await git.changedFiles(parent, sha)).slice(0, 300);
    const additions = files.reduce((n, f) => n + f.additions, 0);
    const deletions = files.reduce((n, f) => n + f.deletions, 0);
    json.stats = { total: additions + deletions, additions, deletions };
    json.files = await Promise.all(files.map((f) => fileJson(core, repo, parent, sha, f, true)));
  }
  return json;
}

async function resolveOr422(core: SandboxCore, repo: RepoRecord, ref: string): Promise<string> {
  const sha = await core.gitRepo(repo).resolveCommit(ref);
  if (sha === null) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  return sha;
}

export function registerCommitRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/repos/{owner}/{repo}/commits", async (req) => {
    const repo = core.requireRepo(req);
    const git = core.gitRepo(repo);
    const start = req.query.get("sha") ?? repo.default_branch;
    const sha = await git.resolveCommit(start);
    if (sha === null) throw notFound();
    const args = ["rev-list", "--max-count=1000", sha];
    const path = req.query.get("path");
    if (path !== null) args.push("--", path);
    const shas = (await git.git(args)).stdout.toString().split("\n").filter(Boolean);
    const page = paginate(req, shas);
    const body = [];
    for (const s of page.body as string[]) body.push(await repoCommitJson(core, repo, s, false));
    return { ...page, body };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{ref+}", async (req) => {
    const repo = core.requireRepo(req);
    const sha = await resolveOr422(core, repo, req.params.ref ?? "");
    return ok(await repoCommitJson(core, repo, sha, true));
  });

  const branchSummary = async (repo: RepoRecord, name: string, sha: string) => ({
    name,
    commit: { sha, url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}` },
    protected: core.state.protections[`${repo.owner}/${repo.name}:${name}`] !== undefined,
  });

  router.on("GET", "/repos/{owner}/{repo}/branches", async (req) => {
    const repo = core.requireRepo(req);
    const refs = await core.gitRepo(repo).refs("refs/heads/");
    const list = [];
    for (const [ref, sha] of [...refs].sort(([a], [b]) => a.localeCompare(b))) {
      const summary = await branchSummary(repo, ref.slice("refs/heads/".length), sha);
      if (req.query.get("protected") === "true" && !summary.protected) continue;
      list.push(summary);
    }
    return paginate(req, list);
  });

  router.on("GET", "/repos/{owner}/{repo}/branches/{branch+}", async (req) => {
    const repo = core.requireRepo(req);
    const name = req.params.branch ?? "";
    const sha = await core.gitRepo(repo).refSha(`refs/heads/${name}`);
    if (sha === null) throw new HttpError(404, "Branch not found");
    const p = core.state.protections[`${repo.owner}/${repo.name}:${name}`];
    const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const checks = p?.required_status_checks ?? null;
    return ok({
      name,
      commit: await repoCommitJson(core, repo, sha, false),
      _links: {
        self: `${api}/branches/${encodeURIComponent(name)}`,
        html: `${core.origin}/${repo.owner}/${repo.name}/tree/${name}`,
      },
      protected: p !== undefined,
      protection: {
        enabled: p !== undefined,
        required_status_checks: {
          enforcement_level: checks === null ? "off" : p?.enforce_admins ? "everyone" : "non_admins",
          contexts: checks?.checks.map((c) => c.context) ?? [],
          checks: checks?.checks ?? [],
        },
      },
      protection_url: `${api}/branches/${encodeURIComponent(name)}/protection`,
    });
  });

  /** `Accept: application/vnd.github.raw` (or `.v3.raw`): the file's bytes instead of JSON (Probot's config loader uses it). */
  const wantsRaw = (req: ApiRequest) =>
    /application\/vnd\.github(\.v3)?\.raw/.test(String(req.headers.accept ?? ""));

  const rawContents = async (
    repo: RepoRecord,
    path: string,
    refParam: string | null,
  ): Promise<ApiResponse | null> => {
    const git = core.gitRepo(repo);
    const commit = await git.resolveCommit(refParam ?? repo.default_branch);
    if (commit === null)
      throw new HttpError(404, `No commit found for the ref ${refParam ?? repo.default_branch}`);
    const entry = await git.entryAt(commit, path);
    if (entry === null) throw notFound();
    if (entry.type !== "blob") return null;
    const blob = (await git.readBlob(entry.sha)) ?? Buffer.alloc(0);
    return {
      status: 200,
      raw: blob,
      headers: { "content-type": "application/vnd.github.raw; charset=utf-8" },
    };
  };

  const contents = async (repo: RepoRecord, path: string, refParam: string | null) => {
    const git = core.gitRepo(repo);
    const ref = refParam ?? repo.default_branch;
    const commit = await git.resolveCommit(ref);
    if (commit === null) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const entry = await git.entryAt(commit, path);
    if (entry === null) throw notFound();
    const full = `${repo.owner}/${repo.name}`;
    const describe = (p: string, sha: string, type: string, size: number) => {
      const self = `${core.apiUrl}/repos/${full}/contents/${p}?ref=${ref}`;
      const gitUrl = `${core.apiUrl}/repos/${full}/git/${type === "dir" ? "trees" : "blobs"}/${sha}`;
      const html = `${core.origin}/${full}/${type === "dir" ? "tree" : "blob"}/${ref}/${p}`;
      return {
        name: p.split("/").pop() ?? p,
        path: p,
        sha,
        size,
        url: self,
        html_url: html,
        git_url: gitUrl,
        download_url: type === "file" ? `${core.origin}/${full}/raw/${ref}/${p}` : null,
        type,
        _links: { self, git: gitUrl, html },
      };
    };
    if (entry.type === "tree") {
      const items = (await git.readTree(entry.sha, false)) ?? [];
      return items.map((e) => {
        const p = path === "" ? e.path : `${path}/${e.path}`;
        const type =
          e.type === "tree"
            ? "dir"
            : e.type === "commit"
              ? "submodule"
              : e.mode === "120000"
                ? "symlink"
                : "file";
        return describe(p, e.sha, type, e.size ?? 0);
      });
    }
    if (entry.type === "commit")
      return { ...describe(path, entry.sha, "submodule", 0), submodule_git_url: null };
    const blob = (await git.readBlob(entry.sha)) ?? Buffer.alloc(0);
    if (entry.mode === "120000")
      return { ...describe(path, entry.sha, "symlink", blob.length), target: blob.toString("utf8") };
    const tooBig = blob.length > 1024 * 1024;
    return {
      ...describe(path, entry.sha, "file", blob.length),
      content: tooBig ? "" : githubBase64(blob),
      encoding: tooBig ? "none" : "base64",
    };
  };

  router.on("GET", "/repos/{owner}/{repo}/contents", async (req) => {
    const repo = core.requireRepo(req);
    return ok(await contents(repo, "", req.query.get("ref")));
  });

  router.on("GET", "/repos/{owner}/{repo}/contents/{path+}", async (req) => {
    const repo = core.requireRepo(req);
    const path = (req.params.path ?? "").replace(/\/+$/, "");
    if (wantsRaw(req)) {
      const raw = await rawContents(repo, path, req.query.get("ref"));
      if (raw !== null) return raw;
    }
    return ok(await contents(repo, path, req.query.get("ref")));
  });

  router.on("GET", "/repos/{owner}/{repo}/compare/{basehead+}", async (req) => {
    const repo = core.requireRepo(req);
    const git = core.gitRepo(repo);
    const spec = req.params.basehead ?? "";
    const dots = spec.indexOf("...");
    if (dots === -1) throw notFound();
    const base = await git.resolveCommit(spec.slice(0, dots));
    const head = await git.resolveCommit(spec.slice(dots + 3));
    if (base === null || head === null) throw notFound();
    const mergeBase = await git.mergeBase(base, head);
    if (mergeBase === null)
      throw new HttpError(
        404,
        `No common ancestor between ${spec.slice(0, dots)} and ${spec.slice(dots + 3)}.`,
      );
    const ahead = await git.commitsBetween(base, head);
    const behind = await git.commitsBetween(head, base);
    const status =
      ahead.length === 0 && behind.length === 0
        ? "identical"
        : behind.length === 0
          ? "ahead"
          : ahead.length === 0
            ? "behind"
            : "diverged";
    const files = await git.changedFiles(mergeBase, head);
    const full = `${repo.owner}/${repo.name}`;
    const commits = [];
    for (const sha of ahead.slice(0, 250)) commits.push(await repoCommitJson(core, repo, sha, false));
    return ok({
      url: `${core.apiUrl}/repos/${full}/compare/${spec}`,
      html_url: `${core.origin}/${full}/compare/${spec}`,
      permalink_url: `${core.origin}/${full}/compare/${base}...${head}`,
      diff_url: `${core.origin}/${full}/compare/${spec}.diff`,
      patch_url: `${core.origin}/${full}/compare/${spec}.patch`,
      base_commit: await repoCommitJson(core, repo, base, false),
      merge_base_commit: await repoCommitJson(core, repo, mergeBase, false),
      status,
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits,
      files: await Promise.all(
        files.slice(0, 300).map((f) => fileJson(core, repo, mergeBase, head, f, true)),
      ),
    });
  });
}
