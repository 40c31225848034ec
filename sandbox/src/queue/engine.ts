import type { SandboxCore } from "../core.js";
import { HttpError } from "../http/errors.js";
import type { Actor } from "../auth/actor.js";
import type {
  MergeQueueEntryRecord,
  MergeQueueGroupRecord,
  PullRecord,
  RepoRecord,
  UserRecord,
} from "../state/types.js";
import { gitDateToIso } from "../git/objects.js";
import { checkMerge } from "../protection/enforce.js";
import { commitVerification } from "../signing/known.js";
import { emitPull, issueOf } from "../pulls/lifecycle.js";
import { afterRefUpdates } from "../pushes.js";
import { makeMergeCommit, type Method } from "../routes/merge.js";
import { mergeQueueRule, type MergeQueueParameters } from "./rule.js";
import { groupChecks, requiredChecksFor } from "./checks.js";

/** `pull_request.dequeued` reasons (GitHub's enum; the ones the sandbox produces). */
export type DequeueReason =
  | "MANUAL"
  | "MERGE"
  | "MERGE_CONFLICT"
  | "CI_FAILURE"
  | "CI_TIMEOUT"
  | "ALREADY_MERGED"
  | "QUEUE_CLEARED"
  | "UNKNOWN_REMOVAL_REASON";

/** `merge_group.destroyed` reasons. */
type DestroyReason = "merged" | "invalidated" | "dequeued";

const QUEUE_REF_PREFIX = "refs/heads/gh-readonly-queue/";

function allEntries(core: SandboxCore): MergeQueueEntryRecord[] {
  core.state.mergeQueue ??= [];
  return core.state.mergeQueue;
}

/** A branch's queue, in order. */
export function queueOf(core: SandboxCore, repo: RepoRecord, branch: string): MergeQueueEntryRecord[] {
  const full = `${repo.owner}/${repo.name}`;
  return allEntries(core).filter((e) => e.repo === full && e.base_ref === branch);
}

export function entryOf(core: SandboxCore, pr: PullRecord): MergeQueueEntryRecord | undefined {
  return allEntries(core).find((e) => e.repo === pr.repo && e.number === pr.number);
}

function removeFromState(core: SandboxCore, entry: MergeQueueEntryRecord): void {
  const list = allEntries(core);
  const i = list.indexOf(entry);
  if (i >= 0) list.splice(i, 1);
}

function pullOf(core: SandboxCore, entry: MergeQueueEntryRecord): PullRecord | undefined {
  return core.state.pulls[`${entry.repo}#${entry.number}`];
}

function enqueuer(core: SandboxCore, entry: MergeQueueEntryRecord): UserRecord {
  return core.user(entry.enqueued_by) ?? core.appBot();
}

/** GitHub's `merge_group` object: the group's head and base, and its head commit. */
async function mergeGroupJson(
  core: SandboxCore,
  repo: RepoRecord,
  branch: string,
  group: MergeQueueGroupRecord,
): Promise<Record<string, unknown>> {
  const commit = await core.gitRepo(repo).readCommit(group.head_sha);
  const c = commit?.parsed;
  return {
    head_sha: group.head_sha,
    head_ref: group.head_ref,
    base_sha: group.base_sha,
    base_ref: `refs/heads/${branch}`,
    head_commit: {
      id: group.head_sha,
      tree_id: c?.tree ?? "",
      message: c?.message ?? "",
      timestamp: gitDateToIso(c?.committer.seconds ?? Math.floor(Date.now() / 1000)),
      author: c === undefined ? null : { name: c.author.name, email: c.author.email },
      committer: c === undefined ? null : { name: c.committer.name, email: c.committer.email },
    },
  };
}

/** Deletes a group's ref (with its `push` deleted webhook) and sends `merge_group.destroyed`. */
async function destroyGroup(
  core: SandboxCore,
  repo: RepoRecord,
  entry: MergeQueueEntryRecord,
  reason: DestroyReason,
): Promise<void> {
  const group = entry.group;
  if (group === null) return;
  entry.group = null;
  const sender = enqueuer(core, entry);
  const json = await mergeGroupJson(core, repo, entry.base_ref, group);
  if (await core.gitRepo(repo).deleteRef(group.head_ref, group.head_sha))
    await afterRefUpdates(core, repo, [{ ref: group.head_ref, before: group.head_sha, after: null }], sender);
  core.emit("merge_group", { action: "destroyed", reason, merge_group: json }, { repo, sender });
}

/** Takes an entry out of the queue: its group destroyed, `pull_request.dequeued` with the reason. */
async function dequeue(
  core: SandboxCore,
  repo: RepoRecord,
  entry: MergeQueueEntryRecord,
  reason: DequeueReason,
  sender: UserRecord,
): Promise<void> {
  removeFromState(core, entry);
  await destroyGroup(
    core,
    repo,
    entry,
    reason === "CI_FAILURE" || reason === "CI_TIMEOUT" ? "invalidated" : "dequeued",
  );
  const pr = pullOf(core, entry);
  if (pr !== undefined) await emitPull(core, repo, pr, "dequeued", sender, { reason });
}

/**
 * Builds an entry's group on `baseSha` with the rule's merge method (merge / squash: web-flow
 * signed; rebase: replayed, unsigned), at `gh-readonly-queue/<base>/pr-<N>-<baseSha>`, with
 * GitHub's `push` and `merge_group.checks_requested`. False = conflict.
 */
async function buildGroup(
  core: SandboxCore,
  repo: RepoRecord,
  entry: MergeQueueEntryRecord,
  pr: PullRecord,
  baseSha: string,
  params: MergeQueueParameters,
): Promise<boolean> {
  const git = core.gitRepo(repo);
  const sender = enqueuer(core, entry);
  const method = params.merge_method.toLowerCase() as Method;
  const head = await makeMergeCommit(core, repo, pr, method, baseSha, sender, undefined, undefined);
  if (head === null) return false;
  const ref = `${QUEUE_REF_PREFIX}${entry.base_ref}/pr-${pr.number}-${baseSha}`;
  const before = await git.refSha(ref);
  if (!(await git.updateRef(ref, head, before))) return false;
  entry.group = { head_sha: head, head_ref: ref, base_sha: baseSha, created_at: core.now() };
  entry.head_sha = pr.head_sha;
  await afterRefUpdates(core, repo, [{ ref, before, after: head }], sender);
  core.emit(
    "merge_group",
    {
      action: "checks_requested",
      merge_group: await mergeGroupJson(core, repo, entry.base_ref, entry.group),
    },
    { repo, sender },
  );
  return true;
}

/** Fast-forwards the base to the head entry's group and merges its PR as the enqueuer. */
async function land(
  core: SandboxCore,
  repo: RepoRecord,
  entry: MergeQueueEntryRecord,
  pr: PullRecord,
): Promise<boolean> {
  const group = entry.group;
  if (group === null) return false;
  const baseRef = `refs/heads/${entry.base_ref}`;
  if (!(await core.gitRepo(repo).updateRef(baseRef, group.head_sha, group.base_sha))) return false;
  const merger = enqueuer(core, entry);
  const issue = issueOf(core, pr);
  const now = core.now();
  pr.merged = true;
  pr.merged_at = now;
  pr.merged_by = merger.login;
  pr.merge_commit_sha = group.head_sha;
  issue.state = "closed";
  issue.closed_at = now;
  issue.closed_by = merger.login;
  issue.updated_at = now;
  repo.pushed_at = now;
  removeFromState(core, entry);
  await afterRefUpdates(
    core,
    repo,
    [{ ref: baseRef, before: group.base_sha, after: group.head_sha }],
    merger,
  );
  await emitPull(core, repo, pr, "dequeued", merger, { reason: "MERGE" });
  await emitPull(core, repo, pr, "closed", merger);
  await destroyGroup(core, repo, entry, "merged");
  return true;
}

function timedOut(group: MergeQueueGroupRecord, params: MergeQueueParameters): boolean {
  const started = Date.parse(group.created_at);
  return Date.now() - started > params.check_response_timeout_minutes * 60_000;
}

/**
 * Brings one branch's queue up to date with the world, then advances it: entries whose PR closed,
 * merged or got a new head leave; groups are (re)built on the branch tip or the group ahead of
 * them (when what they were built on changed); a group whose required checks failed (or did not
 * answer within check_response_timeout_minutes, noticed when the queue next wakes) is dequeued
 * and those behind it rebuilt; the head of the queue lands when its checks all pass. Idempotent:
 * with nothing changed it changes nothing.
 */
async function reconcileBranch(core: SandboxCore, repo: RepoRecord, branch: string): Promise<void> {
  const git = core.gitRepo(repo);
  const params = mergeQueueRule(core, repo, branch);
  for (const entry of queueOf(core, repo, branch)) {
    const pr = pullOf(core, entry);
    const sender = enqueuer(core, entry);
    if (params === null) await dequeue(core, repo, entry, "QUEUE_CLEARED", sender);
    else if (pr === undefined || pr.merged) await dequeue(core, repo, entry, "ALREADY_MERGED", sender);
    else if (issueOf(core, pr).state !== "open" || pr.base_ref !== branch)
      await dequeue(core, repo, entry, "MANUAL", sender);
    else if (pr.head_sha !== entry.head_sha)
      await dequeue(core, repo, entry, "UNKNOWN_REMOVAL_REASON", sender);
  }
  if (params === null) return;
  const required = requiredChecksFor(core, repo, branch);
  // Each pass removes or lands one entry, or stops.
  for (;;) {
    const entries = queueOf(core, repo, branch);
    if (entries.length === 0) return;
    const tip = await git.refSha(`refs/heads/${branch}`);
    if (tip === null) {
      for (const entry of entries) await dequeue(core, repo, entry, "QUEUE_CLEARED", enqueuer(core, entry));
      return;
    }
    const toBuild = Math.max(1, params.max_entries_to_build);
    let onto = tip;
    let changed = false;
    for (const [i, entry] of entries.entries()) {
      const pr = pullOf(core, entry);
      if (pr === undefined) continue;
      if (i >= toBuild) {
        if (entry.group !== null) await destroyGroup(core, repo, entry, "invalidated");
        continue;
      }
      const group = entry.group;
      if (
        group !== null &&
        group.base_sha === onto &&
        (await git.refSha(group.head_ref)) === group.head_sha
      ) {
        onto = group.head_sha;
        continue;
      }
      if (group !== null) await destroyGroup(core, repo, entry, "invalidated");
      if (!(await buildGroup(core, repo, entry, pr, onto, params))) {
        await dequeue(core, repo, entry, "MERGE_CONFLICT", enqueuer(core, entry));
        changed = true;
        break;
      }
      onto = entry.group?.head_sha ?? onto;
    }
    if (changed) continue;
    for (const entry of entries) {
      if (entry.group === null) continue;
      const state = groupChecks(core, repo, entry.group.head_sha, required);
      if (state === "failure" || (state === "pending" && timedOut(entry.group, params))) {
        await dequeue(
          core,
          repo,
          entry,
          state === "failure" ? "CI_FAILURE" : "CI_TIMEOUT",
          enqueuer(core, entry),
        );
        changed = true;
        break;
      }
    }
    if (changed) continue;
    const head = entries[0];
    const pr = head === undefined ? undefined : pullOf(core, head);
    if (head === undefined || head.group === null || pr === undefined) return;
    if (groupChecks(core, repo, head.group.head_sha, required) !== "success") return;
    // A base that moved under the group is noticed on the next pass (the group is rebuilt); a
    // refusal with the base where the group expects it would repeat forever: wait for the next wake.
    const expected = head.group.base_sha;
    if (!(await land(core, repo, head, pr)) && (await git.refSha(`refs/heads/${branch}`)) === expected)
      return;
  }
}

/** Reconciles every queue of a repository (one at a time, under the repository's ref mutex). */
async function reconcileRepo(core: SandboxCore, repo: RepoRecord): Promise<void> {
  const full = `${repo.owner}/${repo.name}`;
  const branches = new Set(
    allEntries(core)
      .filter((e) => e.repo === full)
      .map((e) => e.base_ref),
  );
  for (const branch of branches) await reconcileBranch(core, repo, branch);
  core.store.changed();
}

/**
 * Asks the queue to look at a repository again (a ref moved, a check or status was written).
 * Runs after whatever holds the repository's mutex now, never inside it; `idle()` waits for it.
 */
export function wakeQueue(core: SandboxCore, repo: RepoRecord): void {
  const full = `${repo.owner}/${repo.name}`;
  if (!allEntries(core).some((e) => e.repo === full)) return;
  const release = core.webhooks.hold();
  core.mutex
    .run(full, () => reconcileRepo(core, repo))
    .catch((error: unknown) => {
      console.error(`sandbox: merge queue of ${full} failed:`, error);
    })
    .finally(release);
}

/**
 * Puts a PR in its base branch's merge queue as `actor` (GitHub's enqueuePullRequest): the branch
 * must require a queue, the PR be open, not a draft, not already queued, mergeable, and meet the
 * branch's merge requirements other than being up to date (reviews, code owners, required checks
 * on its head, signatures). Sends `pull_request.enqueued` and builds its group.
 */
export async function enqueue(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  actor: Actor,
): Promise<MergeQueueEntryRecord> {
  const user = core.actingUser(actor);
  return core.mutex.run(`${repo.owner}/${repo.name}`, async () => {
    const git = core.gitRepo(repo);
    const issue = issueOf(core, pr);
    const params = mergeQueueRule(core, repo, pr.base_ref);
    if (params === null) throw new HttpError(422, `Merge queue is not enabled for the ${pr.base_ref} branch`);
    if (pr.merged || issue.state !== "open") throw new HttpError(422, "Pull request is closed");
    if (pr.draft) throw new HttpError(422, "Pull request is still a draft");
    if (entryOf(core, pr) !== undefined) throw new HttpError(422, "Pull request is already queued to merge");
    const baseSha = await git.refSha(`refs/heads/${pr.base_ref}`);
    if (baseSha === null) throw new HttpError(422, "Base branch does not exist");
    if ((await git.mergeTree(baseSha, pr.head_sha)) === null)
      throw new HttpError(422, "Pull request is not mergeable: it has conflicts with the base branch");
    const method = params.merge_method.toLowerCase() as Method;
    let unverifiedCommits = 0;
    for (const sha of await git.commitsBetween(baseSha, pr.head_sha)) {
      const c = await git.readCommit(sha);
      if (c === null || !(await commitVerification(core, sha, c.parsed)).verified) unverifiedCommits++;
    }
    const reasons = await checkMerge(core, repo, pr, issue.user, actor, method, {
      baseSha,
      upToDate: true,
      unverifiedCommits,
      viaQueue: true,
    });
    if (reasons.length > 0) throw new HttpError(422, reasons.join("\n"));
    const entry: MergeQueueEntryRecord = {
      id: core.nextId(),
      repo: `${repo.owner}/${repo.name}`,
      base_ref: pr.base_ref,
      number: pr.number,
      enqueued_by: user.login,
      enqueued_at: core.now(),
      head_sha: pr.head_sha,
      group: null,
    };
    allEntries(core).push(entry);
    await emitPull(core, repo, pr, "enqueued", user);
    await reconcileBranch(core, repo, pr.base_ref);
    core.store.changed();
    return entry;
  });
}

/** Takes a PR out of its queue by hand (GitHub's dequeuePullRequest): reason MANUAL, groups behind rebuilt. */
export async function removeFromQueue(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  actor: Actor,
): Promise<void> {
  const user = core.actingUser(actor);
  await core.mutex.run(`${repo.owner}/${repo.name}`, async () => {
    const entry = entryOf(core, pr);
    if (entry === undefined) throw new HttpError(422, "Pull request is not in the merge queue");
    await dequeue(core, repo, entry, "MANUAL", user);
    await reconcileBranch(core, repo, pr.base_ref);
    core.store.changed();
  });
}

/** Is `sha` the head of a group in this repository's queues? */
export function isGroupHead(core: SandboxCore, repo: RepoRecord, sha: string): boolean {
  const full = `${repo.owner}/${repo.name}`;
  return allEntries(core).some((e) => e.repo === full && e.group?.head_sha === sha);
}
