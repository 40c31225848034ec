/**
 * Reads and judges the head of `approved/<env>` before a record is chained onto it, without
 * trusting the ref: the head must be the app's own record (genuine.ts), and the newest one the
 * app's record log proves (record-log.ts). Request cost (docs/performance.md):
 *
 * - normal path, the head is the record of the landing's first parent: 2 (ref + commit), and 1
 *   (the ref) when this process wrote or read that record before (commits are cached by SHA);
 * - otherwise (a bypass commit in between, a catch-up, a tampered ref): + 1 check-run listing per
 *   commit walked back on the branch's first-parent history, + 1 commit read per step not read
 *   before, + 1 read of the logged record, at most MAX_WALK steps.
 */
import { ImmutableCache } from "../../core/gate/immutable-cache.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import {
  judgeRecordCommit,
  type ApiCommit,
  type RecordJudgeContext,
  type RecordJudgement,
} from "./genuine.js";
import { decideHead, type GenuineRecord, type HeadDecision, type LoggedRecord } from "./head-decision.js";
import { readRecordLog } from "./record-log.js";

/** How far back the branch's first-parent history is searched for the newest logged record. */
export const MAX_WALK = 50;

export interface GuardTarget {
  gh: GitHub;
  repo: RepoRef;
  appId: number;
  /** `heads/approved/<env>`. */
  refName: string;
  judge: RecordJudgeContext;
}

/** Where the ref points, or null when it does not exist. */
export async function readRefSha(gh: GitHub, repo: RepoRef, refName: string): Promise<string | null> {
  try {
    const { data } = await gh.rest.git.getRef({ ...repo, ref: refName });
    return data.object.sha;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
}

/**
 * Commit objects already read, by repository and SHA. A SHA names one object forever, and the parts
 * kept (parents, the signed payload and its signature) are that object's own bytes, so a cached
 * entry is never stale; the judgement still rebuilds the object and checks its hash each time
 * (genuine.ts). The guard walks the same commits again on every attempt and after a catch-up, and
 * the record's own push event judges the record just written: those reads cost nothing. Absent
 * commits (404) are not cached. Bounded: the oldest entries go first.
 */
const commits = new ImmutableCache<string, ApiCommit>(4_096);
const FULL_SHA = /^[0-9a-f]{40}$/;
const commitKey = (repo: RepoRef, sha: string) => `${repo.owner}/${repo.repo}@${sha}`;

/**
 * Remembers a commit this process wrote itself (the record it just created, whose SHA GitHub
 * confirmed): the record push event that follows judges it without reading it back. Its payload
 * and signature must hash to `commit.sha`, or the judgement refuses it as it would GitHub's answer.
 */
export function rememberApiCommit(repo: RepoRef, commit: ApiCommit): void {
  if (FULL_SHA.test(commit.sha)) commits.set(commitKey(repo, commit.sha), commit);
}

/** One commit as the git/commits API returns it (404: null); read once per SHA per process. */
export async function readApiCommit(gh: GitHub, repo: RepoRef, sha: string): Promise<ApiCommit | null> {
  const key = commitKey(repo, sha);
  const cached = commits.get(key);
  if (cached !== undefined) return cached;
  try {
    const { data } = await gh.rest.git.getCommit({ ...repo, commit_sha: sha });
    const commit: ApiCommit = {
      sha: data.sha,
      parents: data.parents.map((p) => p.sha),
      payload: data.verification?.payload ?? null,
      signature: data.verification?.signature ?? null,
    };
    // Only an answer for exactly the SHA asked for is kept (judgeSha refuses any other).
    if (FULL_SHA.test(sha) && commit.sha === sha) commits.set(key, commit);
    return commit;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
}

/** Judges the commit `sha` (absent counts as not genuine). */
export async function judgeSha(target: GuardTarget, sha: string): Promise<RecordJudgement> {
  const commit = await readApiCommit(target.gh, target.repo, sha);
  if (commit === null) return { genuine: false, sha, reason: "the commit does not exist" };
  if (commit.sha !== sha) return { genuine: false, sha, reason: `GitHub answered for ${commit.sha}` };
  return judgeRecordCommit(commit, target.judge);
}

/**
 * The newest record the log proves, walking the branch's first-parent history back from `start`
 * (the landing itself): the first commit with a log entry for the environment names it. The named
 * record must be genuine and agree with the entry; a log that contradicts itself fails closed.
 */
export async function newestLoggedRecord(target: GuardTarget, start: string | null): Promise<LoggedRecord> {
  const { gh, repo, appId } = target;
  let commit = start;
  for (let step = 0; commit !== null; step++) {
    if (step >= MAX_WALK) return { kind: "walk-exhausted", commits: MAX_WALK };
    const entry = await readRecordLog(gh, repo, commit, appId, target.judge.environment);
    if (entry !== null) {
      const judged = await judgeSha(target, entry.record);
      if (
        !judged.genuine ||
        judged.fields.sequence !== entry.sequence ||
        judged.fields.sourceCommit !== commit
      ) {
        throw new FactsError(
          `the record log on ${commit.slice(0, 7)} names record #${entry.sequence} ${entry.record.slice(0, 7)}, which is not that genuine record${judged.genuine ? "" : ` (${judged.reason})`}`,
        );
      }
      return { kind: "found", record: { sha: judged.sha, fields: judged.fields } };
    }
    const read = await readApiCommit(gh, repo, commit);
    if (read === null)
      throw new FactsError(`commit ${commit.slice(0, 7)} of the branch's history is missing`);
    commit = read.parents[0] ?? null;
  }
  return { kind: "none" };
}

/**
 * Judges the ref's head for a landing whose first parent is `firstParent`. When the head is the
 * genuine record of `firstParent` (every approved landing in a row), that is the newest record there
 * can be, and no log is read; otherwise the log decides (head-decision.ts).
 */
export async function guardHead(
  target: GuardTarget,
  landing: string,
  firstParent: string | null,
): Promise<{ observed: string | null; decision: HeadDecision }> {
  const observed = await readRefSha(target.gh, target.repo, target.refName);
  const head = observed === null ? null : await judgeSha(target, observed);
  if (head?.genuine && firstParent !== null && head.fields.sourceCommit === firstParent) {
    return { observed, decision: { kind: "sound", head: { sha: head.sha, fields: head.fields } } };
  }
  const logged = await newestLoggedRecord(target, landing);
  if (logged.kind === "walk-exhausted" && head?.genuine) {
    // MAX_WALK commits without a record since the head: they were all alerted as bypasses. The
    // head is the app's own record; without a log entry to compare with, it is kept.
    return { observed, decision: { kind: "sound", head: { sha: head.sha, fields: head.fields } } };
  }
  return { observed, decision: decideHead(target.refName.replace(/^heads\//, ""), observed, head, logged) };
}

export type { GenuineRecord };
