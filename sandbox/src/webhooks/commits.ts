/**
 * Commits as webhooks describe them: the push payload's `commits[]` / `head_commit` (with the files
 * each commit added, removed and modified), and the short form check_suite and merge_group payloads
 * carry as `head_commit`.
 */
import type { SandboxCore } from "../core.js";
import type { RepoRecord } from "../state/types.js";

/** A git date (`<unix seconds>`, `<+hhmm>`) as ISO 8601 in its own offset, as GitHub prints it. */
function isoWithOffset(seconds: number, tz: string): string {
  const sign = tz.startsWith("-") ? -1 : 1;
  const offsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
  const local = new Date((seconds + offsetMin * 60) * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return `${local}${tz.slice(0, 3)}:${tz.slice(3, 5)}`;
}

/** A commit of a push payload (`commits[]`, `head_commit`). */
export async function pushCommitJson(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
): Promise<Record<string, unknown> | null> {
  const git = core.gitRepo(repo);
  const commit = await git.readCommit(sha);
  if (commit === null) return null;
  const c = commit.parsed;
  const parent = c.parents[0] ?? "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
  const changes = (
    await git.git(["diff-tree", "-r", "--no-commit-id", "--name-status", "-z", "--no-renames", parent, sha])
  ).stdout
    .toString("utf8")
    .split("\0");
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (let i = 0; i + 1 < changes.length; i += 2) {
    const status = changes[i];
    const path = changes[i + 1] ?? "";
    if (status === "A") added.push(path);
    else if (status === "D") removed.push(path);
    else if (status !== "" && status !== undefined) modified.push(path);
  }
  const ident = (i: typeof c.author) => {
    const user = Object.values(core.state.users).find((u) => u.email !== null && u.email === i.email);
    return { name: i.name, email: i.email, ...(user === undefined ? {} : { username: user.login }) };
  };
  return {
    id: sha,
    tree_id: c.tree,
    distinct: true,
    message: c.message,
    timestamp: isoWithOffset(c.committer.seconds, c.committer.tz),
    url: `${core.origin}/${repo.owner}/${repo.name}/commit/${sha}`,
    author: ident(c.author),
    committer: ident(c.committer),
    added,
    removed,
    modified,
  };
}

/** `{id, tree_id, message, timestamp, author, committer}`: a commit in check_suite and merge_group payloads. */
export async function simpleCommitJson(
  core: SandboxCore,
  repo: RepoRecord,
  sha: string,
): Promise<Record<string, unknown> | null> {
  const commit = await core.gitRepo(repo).readCommit(sha);
  if (commit === null) return null;
  const c = commit.parsed;
  return {
    id: sha,
    tree_id: c.tree,
    message: c.message,
    timestamp: isoWithOffset(c.committer.seconds, c.committer.tz),
    author: { name: c.author.name, email: c.author.email },
    committer: { name: c.committer.name, email: c.committer.email },
  };
}
