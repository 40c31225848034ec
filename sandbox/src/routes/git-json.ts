// The Git database's JSON shapes, shared by the git/commits routes (gitdb.ts) and the commits and
// contents routes (commits.ts). Kept apart from gitdb.ts, which writes refs through pushes.ts: the
// check routes read commits through commits.ts, and pushes.ts reads check suites.
import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { gitDateToIso, type GitIdent } from "../git/objects.js";
import type { RepoRecord } from "../state/types.js";
import { commitVerification } from "../signing/known.js";

/** base64 wrapped at 60 columns with a trailing newline, as GitHub sends blob/file content. */
export function githubBase64(content: Buffer): string {
  const b64 = content.toString("base64");
  return b64.length === 0 ? "" : `${b64.replace(/(.{60})/g, "$1\n").replace(/\n$/, "")}\n`;
}

export async function gitCommitJson(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
): Promise<Record<string, unknown> | null> {
  const commit = await core.gitRepo(repo).readCommit(sha);
  if (commit === null) return null;
  const c = commit.parsed;
  const api = `${core.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const html = `${core.origin}/${repo.owner}/${repo.name}/commit`;
  const ident = (i: GitIdent) => ({ name: i.name, email: i.email, date: gitDateToIso(i.seconds) });
  return {
    sha,
    node_id: nodeId("Commit", Number.parseInt(sha.slice(0, 8), 16)),
    url: `${api}/git/commits/${sha}`,
    html_url: `${html}/${sha}`,
    author: ident(c.author),
    committer: ident(c.committer),
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    message: c.message,
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${html}/${p}` })),
    verification: await commitVerification(core, sha, c),
  };
}
