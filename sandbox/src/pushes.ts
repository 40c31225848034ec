import type { SandboxCore } from "./core.js";
import { ZERO_SHA } from "./git/repo.js";
import type { RepoRecord, UserRecord } from "./state/types.js";
import { headMoved } from "./pulls/lifecycle.js";
import { suiteFor, suiteJson } from "./routes/checks.js";
import { pushCommitJson } from "./webhooks/commits.js";

function baseRepoOf(core: SandboxCore, full: string): RepoRecord | undefined {
  const [owner = "", name = ""] = full.split("/");
  return core.repo(owner, name);
}

/** A ref that changed: null = did not exist (before) / was deleted (after). */
export interface RefUpdate {
  ref: string;
  before: string | null;
  after: string | null;
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
      const json = await pushCommitJson(core, repo, sha);
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
        head_commit: update.after === null ? null : await pushCommitJson(core, repo, update.after),
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
        {
          action: "requested",
          check_suite: await suiteJson(core, repo, suite),
        },
        { repo, sender },
      );
      // Open PRs whose head is this branch of this repository: the repository's own PRs and, when
      // it is a fork, PRs into other repositories of its network (synchronised in their base
      // repository, with the pusher as sender, as GitHub does).
      const full = `${repo.owner}/${repo.name}`;
      for (const pr of Object.values(core.state.pulls)) {
        if ((pr.head_repo ?? pr.repo) !== full || pr.head_ref !== branch || pr.merged) continue;
        const issue = core.state.issues[`${pr.repo}#${pr.number}`];
        if (issue?.state !== "open" || pr.head_sha === update.after) continue;
        const base = pr.repo === full ? repo : baseRepoOf(core, pr.repo);
        if (base === undefined) continue;
        await headMoved(core, base, pr, pr.head_sha, update.after, sender);
        if (base !== repo) core.wakeQueue(base);
      }
    }
  }
  // A queued PR's head or a queue's base may have moved: the merge queue dequeues / rebuilds.
  core.wakeQueue(repo);
}
