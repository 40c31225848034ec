import { completeCheck, latestVerdict, startCheck } from "./check-run.js";
import { describeFailure, gatePull, type GateDeps } from "./gate.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";
import { escapeMarkdown, type CheckOutput } from "./render-check.js";
import { withTimeout } from "./with-timeout.js";

/** The same dependencies as gating one PR: a group is gated through its PRs. */
export type MergeGroupDeps = GateDeps;

/** What a `merge_group.checks_requested` webhook says about the group. */
export interface MergeGroupTarget {
  repo: RepoRef;
  /** The group's commit: the check is reported on it. */
  headSha: string;
  /** `refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>`. */
  headRef: string;
  /** `refs/heads/<base>`. */
  baseRef: string;
  /** The group commit's tree, as the webhook's `head_commit.tree_id` gives it (else read from the API). */
  headTree?: string | null;
}

const QUEUE_PREFIX = "refs/heads/gh-readonly-queue/";

/**
 * The PR numbers a merge-queue ref names. GitHub names a group's ref after the PR it was created
 * for: `gh-readonly-queue/<base branch>/pr-<N>-<sha>` (the base branch may contain slashes, so
 * the PR part is the last segment). PRs queued ahead of it are in the group's base commit, and
 * were checked by their own groups. A ref that does not name the base branch it claims, or is not
 * in exactly this shape, yields none (the caller fails closed).
 */
export function pullNumbersFromQueueRef(headRef: string, baseRef: string): number[] {
  const base = baseRef.replace(/^refs\/heads\//, "");
  if (!headRef.startsWith(`${QUEUE_PREFIX}${base}/`)) return [];
  const last = headRef.slice(`${QUEUE_PREFIX}${base}/`.length);
  if (last.includes("/")) return [];
  const match = /^pr-(\d+)-[0-9a-f]{40}$/.exec(last);
  const n = Number(match?.[1]);
  return match && Number.isSafeInteger(n) && n > 0 ? [n] : [];
}

interface PullOutcome {
  number: number;
  ok: boolean;
  /** Why it does not pass (or that it passes), for the check. */
  detail: string;
  fix: string | null;
}

/** Is `ancestor` contained in `descendant`'s history? (compare: descendant is ahead of or equal to it). */
async function contains(gh: GitHub, repo: RepoRef, descendant: string, ancestor: string): Promise<boolean> {
  const { data } = await gh.rest.repos.compareCommitsWithBasehead({
    ...repo,
    basehead: `${ancestor}...${descendant}`,
    per_page: 1,
  });
  return data.status === "ahead" || data.status === "identical";
}

/**
 * One PR of the group: open, into the group's base branch, its current head inside the group's
 * commit, re-evaluated now (which writes its own check), and pullgate's latest verdict on that head
 * a success for exactly this PR and branch (read back: a concurrent evaluation may have landed).
 */
async function checkPull(
  deps: MergeGroupDeps,
  gh: GitHub,
  group: MergeGroupTarget,
  groupTree: string,
  number: number,
): Promise<PullOutcome> {
  const base = group.baseRef.replace(/^refs\/heads\//, "");
  let pr;
  try {
    pr = (await gh.rest.pulls.get({ ...group.repo, pull_number: number })).data;
  } catch (error) {
    if (httpStatus(error) === 404)
      return { number, ok: false, detail: "no such pull request", fix: "Remove the group from the queue." };
    throw error;
  }
  if (pr.state !== "open") return { number, ok: false, detail: `the pull request is ${pr.state}`, fix: null };
  if (pr.base.ref !== base)
    return {
      number,
      ok: false,
      detail: `it targets ${pr.base.ref}, not ${base}`,
      fix: `Re-queue #${number} into ${pr.base.ref}'s queue.`,
    };
  const head = pr.head.sha;
  if (!(await contains(gh, group.repo, group.headSha, head)))
    return {
      number,
      ok: false,
      detail: `the merge group does not contain its current head ${head.slice(0, 7)}`,
      fix: `Re-queue #${number} so the group is built from its current head.`,
    };
  await gatePull(deps, gh, { repo: group.repo, number, headSha: head });
  const verdict = await latestVerdict(gh, group.repo, head, deps.appId);
  const d = verdict?.decision ?? null;
  const ok =
    verdict?.conclusion === "success" &&
    d !== null &&
    d.status === "pass" &&
    d.headSha === head &&
    d.pullRequest === number &&
    d.baseRef === base;
  if (ok && groupTree !== d.headTree)
    // What lands is the group's commit. A record must hold exactly the approved tree
    // (docs/architecture.md, invariant 5), so a group that merged in changes the PR was not
    // approved with (it was not up to date with what lands before it) is refused here, before it
    // lands, rather than alerted on after.
    return {
      number,
      ok: false,
      detail: `the merge group's tree ${groupTree.slice(0, 7)} is not the tree approved on ${head.slice(0, 7)} (${(d.headTree ?? "unknown").slice(0, 7)}): the pull request is not up to date with what lands before it`,
      fix: `Update #${number}'s branch with ${base} (after the pull requests queued ahead of it land), have it re-approved, then queue it again.`,
    };
  return ok
    ? { number, ok, detail: `pullgate passed on ${head.slice(0, 7)}`, fix: null }
    : {
        number,
        ok,
        detail: `pullgate's check on its head ${head.slice(0, 7)} is ${verdict?.conclusion ?? "missing"}`,
        fix: `Make #${number}'s pullgate check pass (its check run says what is missing), then queue it again.`,
      };
}

function render(group: MergeGroupTarget, outcomes: PullOutcome[]): CheckOutput {
  const failing = outcomes.filter((o) => !o.ok);
  const ok = failing.length === 0 && outcomes.length > 0;
  const rows = outcomes.map((o) => `| ${o.ok ? "✅" : "❌"} | #${o.number} | ${escapeMarkdown(o.detail)} |`);
  const fixes = failing.map((o) => o.fix).filter((f): f is string => f !== null);
  return {
    conclusion: ok ? "success" : "failure",
    title: ok
      ? `Merge group: ${outcomes.map((o) => `#${o.number}`).join(", ")} approved`
      : `Merge group blocked: ${failing.map((o) => `#${o.number}`).join(", ")} not approved`,
    summary: [
      `Merge group <code>${group.headSha.slice(0, 7)}</code> into <code>${escapeMarkdown(group.baseRef.replace(/^refs\/heads\//, ""))}</code>.`,
      "",
      "| | Pull request | Result |",
      "| --- | --- | --- |",
      ...rows,
    ].join("\n"),
    text:
      fixes.length > 0 ? ["**How to fix:**", ...fixes.map((f) => `- ${escapeMarkdown(f)}`)].join("\n") : "",
  };
}

/**
 * Gates a merge-queue group: every PR it names must pass pullgate on its current head, that head
 * must be inside the group's commit, and the group's tree must be the tree pullgate approved (what
 * lands is what was reviewed, so the landing can get a record). The check is reported on the group's head SHA, which is
 * what a required "pullgate" check in the merge queue waits for. Any error or timeout fails closed.
 */
export async function gateMergeGroup(
  deps: MergeGroupDeps,
  gh: GitHub,
  group: MergeGroupTarget,
): Promise<void> {
  const checkRunId = await startCheck(gh, group.repo, group.headSha);
  let output: CheckOutput;
  try {
    output = await withTimeout(
      (async () => {
        const numbers = pullNumbersFromQueueRef(group.headRef, group.baseRef);
        if (numbers.length === 0)
          throw new FactsError(
            `cannot tell which pull requests merge group ${group.headRef} contains (expected ${QUEUE_PREFIX}<base>/pr-<number>-<sha>)`,
          );
        // The payload's tree id saves a request; anything that is not a full object id is read instead.
        const given = group.headTree ?? "";
        const groupTree = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(given)
          ? given
          : (await gh.rest.git.getCommit({ ...group.repo, commit_sha: group.headSha })).data.tree.sha;
        const outcomes: PullOutcome[] = [];
        for (const n of numbers) outcomes.push(await checkPull(deps, gh, group, groupTree, n));
        return render(group, outcomes);
      })(),
      deps.timeoutMs,
      `evaluating merge group ${group.headSha.slice(0, 7)}`,
    );
  } catch (error) {
    const reason = describeFailure(error);
    deps.log.warn({ err: error, group: group.headRef }, `pullgate failed closed on a merge group: ${reason}`);
    output = {
      conclusion: "failure",
      title: "pullgate could not evaluate this merge group",
      summary: `Could not evaluate: ${escapeMarkdown(reason)}.`,
      text: ["**How to fix:**", "- Re-queue the pull request once the cause is fixed."].join("\n"),
    };
  }
  await completeCheck(gh, group.repo, checkRunId, output);
  deps.metrics.evaluations.inc({ conclusion: output.conclusion });
}
