import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import type { Actor } from "../auth/actor.js";
import { HttpError, invalidRequest, notFound, validationFailed } from "../http/errors.js";
import { created, noContent, ok, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";
import { ZERO_SHA, type GitRepo } from "../git/repo.js";
import { invalidIdentPart, isoToGitDate, signedCommitText, type GitIdent } from "../git/objects.js";
import type { RepoRecord } from "../state/types.js";
import { checkPush, type ProposedUpdate } from "../protection/enforce.js";
import { afterRefUpdates } from "../pushes.js";
import { userIdent } from "./repos.js";
import { gitCommitJson, githubBase64 } from "./git-json.js";

const SHA = /^[0-9a-f]{40}$/;

function refJson(
  core: SandboxCore,
  repo: RepoRecord,
  ref: string,
  sha: string,
  type: string,
): Record<string, unknown> {
  const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
  return {
    ref,
    node_id: nodeId("Ref", ref.length + repo.id),
    url: `${api}/git/${ref}`,
    object: { sha, type, url: `${api}/git/${type}s/${sha}` },
  };
}

interface TreeNode {
  entries: Map<string, { mode: string; type: string; sha: string } | { node: TreeNode }>;
}

async function loadNode(git: GitRepo, sha: string | null): Promise<TreeNode> {
  const node: TreeNode = { entries: new Map() };
  if (sha === null) return node;
  for (const e of (await git.readTree(sha, false)) ?? [])
    node.entries.set(e.path, { mode: e.mode, type: e.type, sha: e.sha });
  return node;
}

async function writeNode(git: GitRepo, node: TreeNode): Promise<string | null> {
  const entries: { mode: string; type: string; sha: string; name: string }[] = [];
  for (const [name, entry] of node.entries) {
    if ("node" in entry) {
      const sha = await writeNode(git, entry.node);
      if (sha !== null) entries.push({ mode: "040000", type: "tree", sha, name });
    } else entries.push({ ...entry, name });
  }
  if (entries.length === 0) return null;
  return git.mktree(entries);
}

const MODES: Record<string, string> = {
  "100644": "blob",
  "100755": "blob",
  "040000": "tree",
  "160000": "commit",
  "120000": "blob",
};

/** Builds a tree like GitHub's POST git/trees: paths may be nested, `sha: null` deletes. */
async function createTree(git: GitRepo, baseTree: string | null, items: unknown[]): Promise<string> {
  const root = await loadNode(git, baseTree);
  for (const raw of items) {
    if (typeof raw !== "object" || raw === null)
      throw invalidRequest("For 'properties/tree', items must be objects.");
    const item = raw as { path?: unknown; mode?: unknown; type?: unknown; sha?: unknown; content?: unknown };
    if (
      typeof item.path !== "string" ||
      item.path === "" ||
      item.path.startsWith("/") ||
      item.path.split("/").some((p) => p === "" || p === "." || p === ".." || p === ".git")
    )
      throw validationFailed({ resource: "Tree", field: "path", code: "invalid" });
    const mode =
      typeof item.mode === "string"
        ? item.mode === "040000" || item.mode === "40000"
          ? "040000"
          : item.mode
        : "";
    if (MODES[mode] === undefined)
      throw invalidRequest(`For 'properties/mode', ${JSON.stringify(item.mode)} is not a valid mode.`);
    const type = typeof item.type === "string" ? item.type : MODES[mode];
    let sha: string | null;
    if (typeof item.content === "string") {
      sha = await git.writeBlob(Buffer.from(item.content, "utf8"));
    } else if (item.sha === null) {
      sha = null;
    } else if (typeof item.sha === "string" && SHA.test(item.sha)) {
      sha = item.sha;
      if (type !== "commit" && (await git.objectType(sha)) !== type)
        throw new HttpError(422, `tree.sha ${sha} is not a valid ${type ?? "object"}`);
    } else throw invalidRequest(`Must supply tree.sha or tree.content`);
    const parts = item.path.split("/");
    const name = parts.pop() ?? "";
    let node = root;
    for (const part of parts) {
      const existing = node.entries.get(part);
      if (existing !== undefined && "node" in existing) node = existing.node;
      else {
        const child = await loadNode(
          git,
          existing !== undefined && existing.type === "tree" ? existing.sha : null,
        );
        node.entries.set(part, { node: child });
        node = child;
      }
    }
    if (sha === null) node.entries.delete(name);
    else node.entries.set(name, { mode, type: type ?? "blob", sha });
  }
  return (await writeNode(git, root)) ?? (await git.mktree([]));
}

function identFrom(
  body: ReturnType<ApiRequest["body"]["optObject"]>,
  fallback: GitIdent,
  field: string,
): GitIdent {
  if (body === undefined) return fallback;
  const name = body.optString("name") ?? fallback.name;
  const email = body.optString("email") ?? fallback.email;
  if (invalidIdentPart(name) || invalidIdentPart(email))
    throw validationFailed({ resource: "Commit", field, code: "invalid" });
  const dateRaw = body.optString("date");
  if (dateRaw === undefined) return { ...fallback, name, email };
  const date = isoToGitDate(dateRaw);
  if (date === null)
    throw invalidRequest(`For 'properties/date', ${JSON.stringify(dateRaw)} is not a valid date-time.`);
  return { name, email, ...date };
}

/** Lists commits a ref update introduces, with their raw text (for push rules on API updates). */
async function introducedCommits(git: GitRepo, sha: string): Promise<ProposedUpdate["commits"]> {
  const out = (await git.git(["rev-list", "--max-count=1000", sha, "--not", "--all"])).stdout.toString();
  const commits = [];
  for (const c of out.split("\n").filter(Boolean)) {
    const parsed = await git.readCommit(c);
    if (parsed !== null) commits.push({ sha: c, raw: parsed.raw, parents: parsed.parsed.parents.length });
  }
  return commits;
}

/**
 * Creates, moves or deletes a ref through the API: protection and rulesets apply as for a push
 * (422 with GitHub's reasons), compare-and-swap under the repository's ref lock, then push
 * webhooks and PR synchronisation.
 */
export async function writeRefViaApi(
  core: SandboxCore,
  repo: RepoRecord,
  actor: Actor,
  ref: string,
  sha: string | null,
  mode: { create?: boolean; force?: boolean },
): Promise<void> {
  const git = core.gitRepo(repo);
  const release = core.webhooks.hold();
  try {
    await core.mutex.run(`${repo.owner}/${repo.name}`, async () => {
      const current = await git.refSha(ref);
      if (mode.create === true && current !== null) throw new HttpError(422, "Reference already exists");
      if (mode.create !== true && current === null) throw new HttpError(422, "Reference does not exist");
      let fastForward = true;
      if (sha !== null) {
        const type = await git.objectType(sha);
        if (type === null) throw new HttpError(422, "Object does not exist");
        if (ref.startsWith("refs/heads/") && type !== "commit")
          throw new HttpError(422, "Object is not a commit");
        if (current !== null && type === "commit") {
          fastForward = await git.isAncestor(current, sha);
          if (!fastForward && mode.force !== true) throw new HttpError(422, "Update is not a fast forward");
        }
      }
      const messages = await checkPush(core, repo, actor, {
        ref,
        before: current ?? ZERO_SHA,
        after: sha ?? ZERO_SHA,
        fastForward,
        commits: sha === null ? [] : await introducedCommits(git, sha),
      });
      if (messages.length > 0) {
        const ruleset = messages.some((m) => m.includes("GH013"));
        throw new HttpError(
          422,
          ruleset
            ? `Repository rule violations found\n\n${messages.join("\n")}`
            : `Protected branch update failed for ${ref}.\n\n${messages.join("\n")}`,
        );
      }
      const done =
        sha === null ? await git.deleteRef(ref, current ?? ZERO_SHA) : await git.updateRef(ref, sha, current);
      if (!done) throw new HttpError(422, "Reference update failed (the reference moved); retry");
      repo.pushed_at = core.now();
      await afterRefUpdates(core, repo, [{ ref, before: current, after: sha }], core.actingUser(actor));
    });
  } finally {
    release();
  }
}

function validRefName(ref: string): boolean {
  return /^refs\/[^/]+\/.+/.test(ref) && !/(\.\.|[\s~^:?*[\\]|@\{|\/\/|\/$|\.lock$|\.$)/.test(ref);
}

export function registerGitDbRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/repos/{owner}/{repo}/git/blobs", async (req) => {
    const repo = core.requireRepo(req, "write");
    const content = req.body.string("content");
    const encoding = req.body.oneOf("encoding", ["utf-8", "utf8", "base64"] as const) ?? "utf-8";
    const sha = await core
      .gitRepo(repo)
      .writeBlob(Buffer.from(content, encoding === "base64" ? "base64" : "utf8"));
    return created({ url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}`, sha });
  });

  router.on("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", async (req) => {
    const repo = core.requireRepo(req);
    const sha = req.params.file_sha ?? "";
    const blob = await core.gitRepo(repo).readBlob(sha);
    if (blob === null) throw notFound();
    return ok({
      sha,
      node_id: nodeId("Blob", Number.parseInt(sha.slice(0, 8), 16)),
      size: blob.length,
      url: `${core.apiUrl}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}`,
      content: githubBase64(blob),
      encoding: "base64",
    });
  });

  const treeJson = async (repo: RepoRecord, sha: string, recursive: boolean) => {
    const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const entries = (await core.gitRepo(repo).readTree(sha, recursive)) ?? [];
    return {
      sha,
      url: `${api}/git/trees/${sha}`,
      tree: entries.map((e) => ({
        path: e.path,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(e.size === undefined ? {} : { size: e.size }),
        url: `${api}/git/${e.type === "tree" ? "trees" : e.type === "blob" ? "blobs" : "commits"}/${e.sha}`,
      })),
      truncated: false,
    };
  };

  router.on("POST", "/repos/{owner}/{repo}/git/trees", async (req) => {
    const repo = core.requireRepo(req, "write");
    const git = core.gitRepo(repo);
    const items = req.body.optArray("tree");
    if (items === undefined) throw invalidRequest(`"tree" wasn't supplied.`);
    const base = req.body.optString("base_tree") ?? null;
    if (base !== null && (await git.objectType(base)) !== "tree")
      throw new HttpError(422, "base_tree is not a valid tree oid");
    const sha = await createTree(git, base, items);
    return created(await treeJson(repo, sha, false));
  });

  router.on("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha+}", async (req) => {
    const repo = core.requireRepo(req);
    const git = core.gitRepo(repo);
    let sha = req.params.tree_sha ?? "";
    const type = await git.objectType(sha);
    if (type !== "tree") {
      const commit = await git.resolveCommit(sha);
      const parsed = commit === null ? null : await git.readCommit(commit);
      if (parsed === null) throw notFound();
      sha = parsed.parsed.tree;
    }
    const recursive = req.query.get("recursive");
    return ok(
      await treeJson(
        repo,
        sha,
        recursive !== null && recursive !== "" && recursive !== "0" && recursive !== "false",
      ),
    );
  });

  router.on("POST", "/repos/{owner}/{repo}/git/commits", async (req) => {
    const repo = core.requireRepo(req, "write");
    const git = core.gitRepo(repo);
    const message = req.body.string("message");
    const tree = req.body.string("tree");
    if ((await git.objectType(tree)) !== "tree") throw new HttpError(422, "Tree SHA does not exist");
    const parents = req.body.optStringArray("parents") ?? [];
    for (const parent of parents) {
      if ((await git.objectType(parent)) !== "commit")
        throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
    }
    const fallback = userIdent(core.actingUser(req.actor));
    const author = identFrom(req.body.optObject("author"), fallback, "author");
    const committer = identFrom(req.body.optObject("committer"), author, "committer");
    const input = { tree, parents, author, committer, message };
    const signature = req.body.optString("signature");
    const sha =
      signature === undefined
        ? await git.writeCommit(input)
        : await git.writeCommitText(signedCommitText(input, signature));
    return created(await gitCommitJson(core, repo, sha));
  });

  router.on("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", async (req) => {
    const repo = core.requireRepo(req);
    const json = await gitCommitJson(core, repo, req.params.commit_sha ?? "");
    if (json === null) throw notFound();
    return ok(json);
  });

  router.on("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", async (req) => {
    const repo = core.requireRepo(req);
    const ref = `refs/${req.params.ref ?? ""}`;
    const sha = await core.gitRepo(repo).refSha(ref);
    if (sha === null) throw notFound();
    return ok(refJson(core, repo, ref, sha, (await core.gitRepo(repo).objectType(sha)) ?? "commit"));
  });

  router.on("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref+}", async (req) => {
    const repo = core.requireRepo(req);
    const git = core.gitRepo(repo);
    const prefix = `refs/${req.params.ref ?? ""}${req.url.endsWith("/") ? "/" : ""}`;
    const out = [];
    for (const [ref, sha] of await git.refs()) {
      if (ref.startsWith(prefix))
        out.push(refJson(core, repo, ref, sha, (await git.objectType(sha)) ?? "commit"));
    }
    return ok(out);
  });

  router.on("POST", "/repos/{owner}/{repo}/git/refs", async (req) => {
    const repo = core.requireRepo(req, "write");
    const ref = req.body.string("ref");
    const sha = req.body.string("sha");
    if (!validRefName(ref)) throw new HttpError(422, "Reference name is invalid");
    if (!SHA.test(sha)) throw new HttpError(422, "Object does not exist");
    await writeRefViaApi(core, repo, req.actor as Actor, ref, sha, { create: true });
    return created(refJson(core, repo, ref, sha, (await core.gitRepo(repo).objectType(sha)) ?? "commit"));
  });

  router.on("PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", async (req) => {
    const repo = core.requireRepo(req, "write");
    const ref = `refs/${req.params.ref ?? ""}`;
    const sha = req.body.string("sha");
    if (!SHA.test(sha)) throw new HttpError(422, "Object does not exist");
    await writeRefViaApi(core, repo, req.actor as Actor, ref, sha, {
      force: req.body.optBool("force") ?? false,
    });
    return ok(refJson(core, repo, ref, sha, (await core.gitRepo(repo).objectType(sha)) ?? "commit"));
  });

  router.on("DELETE", "/repos/{owner}/{repo}/git/refs/{ref+}", async (req) => {
    const repo = core.requireRepo(req, "write");
    await writeRefViaApi(core, repo, req.actor as Actor, `refs/${req.params.ref ?? ""}`, null, {
      force: true,
    });
    return noContent();
  });
}
