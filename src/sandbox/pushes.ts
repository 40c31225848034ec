import type { SandboxCore } from "./core.js";
import { ZERO_SHA } from "./git/repo.js";
import { gitDateToIso } from "./git/objects.js";
import type { RepoRecord, UserRecord } from "./state/types.js";
import { headMoved } from "./pulls/lifecycle.js";
import { suiteFor, suiteJson } from "./routes/checks.js";
import { wakeQueue } from "./queue/engine.js";

/** A ref that changed: null = did not exist (before) / was deleted (after). */
export interface RefUpdate {
  ref: string;
  before: string | null;
  after: string | null;
}

function isoWithOffset(seconds: number, tz: string): string {
  const sign = tz.startsWith("-") ? -1 : 1;
  const offsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
  const local = new Date((seconds + offsetMin * 60) * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return `${local}${tz.slice(0, 3)}:${tz.slice(3, 5)}`;
}

async function commitJson(
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

/**
 * Everything GitHub does after refs change (git push, API ref update, merge): `push` webhooks
 * with GitHub's payload, and open pull requests whose head branch moved get the new head.
 */
export async function afterRefUpdates(
  core: SandboxCore,
  repo: RepoRecord,
  updates: RefUpdate[],
  sender: UserRecord,
): Promise<void> {
  const git = core.gitRepo(repo);
  for (const update of updates) {
    if (!update.ref.startsWith("refs/heads/") && !update.ref.startsWith("refs/tags/")) continue;
    let commits: string[] = [];
    let forced = false;
    if (update.after !== null) {
      if (update.before !== null) {
        forced = !(await git.isAncestor(update.before, update.after));
        commits = (
          await git.git(["rev-list", "--reverse", "--max-count=20", update.after, `^${update.before}`])
        ).stdout
          .toString()
          .split("\n")
          .filter(Boolean);
      } else {
        commits = (
          await git.git([
            "rev-list",
            "--reverse",
            "--max-count=20",
            update.after,
            "--not",
            `--exclude=${update.ref}`,
            "--branches",
          ])
        ).stdout
          .toString()
          .split("\n")
          .filter(Boolean);
      }
    }
    const commitObjects = [];
    for (const sha of commits) {
      const json = await commitJson(core, repo, sha);
      if (json !== null) commitObjects.push(json);
    }
    const before = update.before ?? ZERO_SHA;
    const after = update.after ?? ZERO_SHA;
    core.emit(
      "push",
      {
        ref: update.ref,
        before,
        after,
        pusher: { name: sender.login, email: sender.email },
        created: update.before === null,
        deleted: update.after === null,
        forced,
        base_ref: null,
        compare: `${core.origin}/${repo.owner}/${repo.name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
        commits: commitObjects,
        head_commit: update.after === null ? null : await commitJson(core, repo, update.after),
      },
      { repo, sender },
    );
    if (update.ref.startsWith("refs/heads/") && update.after !== null) {
      const branch = update.ref.slice("refs/heads/".length);
      // GitHub creates a check suite for the pushed head for each app with checks permission and asks it to run.
      const suite = suiteFor(core, repo, update.after, core.state.app.id);
      suite.head_branch ??= branch;
      core.emit(
        "check_suite",
        { action: "requested", check_suite: suiteJson(core, repo, suite) },
        { repo, sender },
      );
      for (const pr of Object.values(core.state.pulls)) {
        if (pr.repo !== `${repo.owner}/${repo.name}` || pr.head_ref !== branch || pr.merged) continue;
        const issue = core.state.issues[`${pr.repo}#${pr.number}`];
        if (issue?.state !== "open" || pr.head_sha === update.after) continue;
        await headMoved(core, repo, pr, pr.head_sha, update.after, sender);
      }
    }
  }
  // A queued PR's head or a queue's base may have moved: the merge queue dequeues / rebuilds.
  wakeQueue(core, repo);
}

export { gitDateToIso };
