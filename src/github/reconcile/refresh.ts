/**
 * Refresh records from the reconciler (docs/operations.md, "Refresh records"; docs/policy.md,
 * `records.refresh_interval`): a quiet environment's current record is re-issued once its
 * Pullgate-Issued-At is older than the interval, so that agents can refuse a frozen mirror with
 * --max-age. The refresh (src/record/refresh.ts) names the same source commit and tree, so agents
 * deploy nothing new.
 *
 * It never races a landing's record: the ref is moved by fast-forward from the head the sweep read
 * (the refresh's first parent). GitHub refuses the update once any other record is on the ref, and
 * the refresh is then dropped, not rebuilt on the new head (that head is a new record, fresh by
 * definition). Cost: 3 requests per refreshed branch (create the commit, move the ref, write the
 * record log entry), 3 for a dropped one (create, refused move, one read to tell a lost race from a
 * refusal).
 */
import type { Logger } from "probot";
import { buildRefreshRecord } from "../../record/refresh.js";
import { githubCreateCommitRequest, signRecord } from "../../record/sign.js";
import { parseIssuedAt, type RecordFields } from "../../record/format.js";
import { recordIssuedAt } from "../../record/time.js";
import type { PullgateMetrics } from "../../metrics.js";
import { recordsFrom } from "../../metrics.js";
import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { readRefSha } from "../records/chain-guard.js";
import type { RecordSigner } from "../records/publish.js";
import { formatLogId, RECORD_LOG_CHECK } from "../records/record-log.js";

export interface RefreshTarget {
  repo: RepoRef;
  environment: string;
  /** `heads/approved/<env>`. */
  refName: string;
  /** The ref's head as the sweep read it, judged genuine by the sweep (the app's own record). */
  head: { sha: string; fields: RecordFields };
  intervalMs: number;
}

export type RefreshOutcome =
  | { kind: "not-due" }
  | { kind: "refreshed"; record: string; sequence: number; fields: RecordFields; requests: number }
  /** The ref moved after the sweep read it: the other record wins, this refresh is dropped. */
  | { kind: "dropped"; why: string; requests: number };

export interface RefreshDeps {
  signer: RecordSigner;
  now: () => Date;
  log: Logger;
  metrics: PullgateMetrics;
}

/** Whether a record issued at `issuedAt` is due for a refresh at `now` (interval 0: never). */
export function refreshDue(issuedAt: string, intervalMs: number, now: Date): boolean {
  if (intervalMs <= 0) return false;
  const issued = parseIssuedAt(issuedAt);
  // An unreadable time cannot come from a genuine record; refreshing it would prove nothing.
  if (issued === null) return false;
  return now.getTime() - issued >= intervalMs;
}

/** Re-issues `target.head` when it is due. Throws when GitHub refuses for another reason than a race. */
export async function refreshRecord(
  deps: RefreshDeps,
  gh: GitHub,
  target: RefreshTarget,
): Promise<RefreshOutcome> {
  const now = deps.now();
  const { head, repo, environment } = target;
  if (!refreshDue(head.fields.issuedAt, target.intervalMs, now)) return { kind: "not-due" };
  const input = buildRefreshRecord({
    previous: head,
    issuedAt: recordIssuedAt(now, { signingKey: deps.signer.key, notBefore: head.fields.issuedAt }),
    key: deps.signer.fingerprint,
    identity: deps.signer.identity,
  });
  const signed = await signRecord(input, deps.signer.key);
  let requests = 0;
  requests++;
  const { data: created } = await gh.rest.git.createCommit({ ...repo, ...githubCreateCommitRequest(signed) });
  if (created.sha !== signed.sha) {
    throw new Error(
      `GitHub stored the refresh of ${environment} as ${created.sha}, not the signed ${signed.sha}: refusing to publish it`,
    );
  }
  try {
    requests++;
    // force: false = fast-forward only. The refresh's first parent is the head the sweep read, so
    // GitHub accepts it only while the ref still points there (or, after a rollback, at an older
    // record, which the refresh then restores exactly as the publisher would).
    await gh.rest.git.updateRef({ ...repo, ref: target.refName, sha: signed.sha, force: false });
  } catch (error) {
    const status = httpStatus(error);
    if (status !== 422 && status !== 404) throw error;
    requests++;
    const current = await readRefSha(gh, repo, target.refName);
    if (current === head.sha) {
      throw new Error(
        `GitHub refused to move ${target.refName} to the refresh of record #${head.fields.sequence} and the ref did not move: not a lost race. ` +
          `Check the branch protection and rulesets of ${target.refName.slice("heads/".length)} (pullgate must be allowed to push it)`,
      );
    }
    deps.metrics.refreshesDropped.inc({ environment });
    const why =
      current === null
        ? `${target.refName} was deleted after the sweep read it`
        : `${target.refName} moved to ${current.slice(0, 7)} after the sweep read ${head.sha.slice(0, 7)}`;
    deps.log.info({ environment, record: head.sha, current }, `refresh dropped: ${why}`);
    return { kind: "dropped", why, requests };
  }
  // The record log is what a tampered ref is restored from (src/github/records/record-log.ts): a
  // refresh not logged could be rolled back to the record it refreshed without anyone noticing.
  // A lost write is not fatal: a genuine head newer than the log is kept.
  try {
    requests++;
    await gh.rest.checks.create({
      ...repo,
      name: RECORD_LOG_CHECK,
      head_sha: head.fields.sourceCommit,
      status: "completed",
      conclusion: "success",
      completed_at: now.toISOString(),
      external_id: formatLogId({ environment, sequence: input.fields.sequence, record: signed.sha }),
      output: {
        title: `Record #${input.fields.sequence} (refresh) published for ${environment}`,
        summary: `Approved-revision record #${input.fields.sequence} (${signed.sha}) re-issues record #${head.fields.sequence} of this commit unchanged, with a new issue time (records.refresh_interval).`,
      },
    });
  } catch (error) {
    deps.log.error(
      { err: error, record: signed.sha },
      "published a refresh, but could not write its record log entry",
    );
  }
  recordsFrom(deps.metrics, "refresh").records.inc({ environment });
  deps.log.info(
    { environment, sequence: input.fields.sequence, record: signed.sha, refreshes: head.sha },
    "published refresh record",
  );
  return {
    kind: "refreshed",
    record: signed.sha,
    sequence: input.fields.sequence,
    fields: input.fields,
    requests,
  };
}
