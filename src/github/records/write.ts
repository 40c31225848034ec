/**
 * The record publisher's write: appends a landing's record to approved/<env> by compare-and-swap
 * (a fast-forward-only ref update that a lost race fails), catching up on earlier landings that
 * have none yet, and restoring a ref that was tampered with on pullgate's newest genuine record.
 * What a landing is, is judged by src/record/landing.ts; what a record holds, by
 * src/record/landing-record.ts.
 */
import { branchPolicyFor } from "../../core/policy/match.js";
import { githubCreateCommitRequest, signRecord } from "../../record/index.js";
import { landingRecord } from "../../record/landing-record.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { refusedBefore } from "./alert.js";
import {
  guardHead,
  readRefSha,
  rememberApiCommit,
  type GenuineRecord,
  type GuardTarget,
} from "./chain-guard.js";
import { approvedLanding, type Landing } from "./landing.js";
import { writeRecordLog } from "./record-log.js";
import type { PublishDeps, PushOutcome, RecordSigner } from "./types.js";

export interface Restoration {
  /** Where the ref pointed (null: deleted). */
  observed: string | null;
  why: string;
  /** The genuine record the chain was restored on. */
  on: GenuineRecord;
  /** The record then published on top of it, or null when the ref was only put back. */
  published: { sha: string; sequence: number } | null;
  /** Set when the restoring write failed. */
  failed?: string;
}

export interface RecordChain {
  deps: PublishDeps;
  signer: RecordSigner;
  gh: GitHub;
  repo: RepoRef;
  branch: string;
  environment: string;
  recordRefPrefix: string;
  refName: string;
  /** How the ref's head is judged (chain-guard.ts). */
  guard: GuardTarget;
  /** Restorations of a tampered ref made while handling this event, to alert once done. */
  restorations: Restoration[];
}

/** How many earlier landings one event may publish first (see catchUp). */
const MAX_CATCH_UP = 10;

export type AdvanceOutcome =
  | Exclude<PushOutcome, { kind: "alerted" } | { kind: "ignored" } | { kind: "unsigned" }>
  | { kind: "diverged"; why: string }
  | { kind: "unprovable"; why: string };

/**
 * Appends the record for `landing` to approved/<env> by compare-and-swap. `before` is the branch tip
 * the landing replaced: when it is newer than the last record's source and has no record yet (its own
 * event is late, or handled by another replica right now), it is published first, so that events
 * handled out of order still give one record per approved landing, in order, and never lose one.
 */
export async function advance(
  chain: RecordChain,
  landing: Landing,
  before: string | null,
  depth: number,
): Promise<AdvanceOutcome> {
  const { deps, gh, repo, environment } = chain;
  let caughtUp = false;
  for (let attempt = 1; attempt <= deps.maxPublishAttempts; attempt++) {
    // The head must be pullgate's own newest record; a tampered ref is restored, never built on.
    const { observed, decision: head } = await guardHead(chain.guard, landing.commit, landing.firstParent);
    if (head.kind === "unprovable")
      return { kind: "unprovable", why: `no record for ${landing.commit.slice(0, 7)}: ${head.why}` };
    const restoring =
      head.kind === "tampered" ? { observed: head.observed, why: head.why, on: head.restoreOn } : null;
    const previous: GenuineRecord | null = head.kind === "tampered" ? head.restoreOn : head.head;
    const since = previous?.fields.sourceCommit ?? null;
    if (previous && since !== null) {
      // Only forward: a redelivered or late event for an older merge must not roll the record back.
      const status = since === landing.commit ? "identical" : await compare(chain, since, landing.commit);
      if (status === "identical" || status === "behind") {
        // Nothing newer to publish; a tampered ref is still put back on the newest genuine record.
        if (restoring) {
          const put = await restoreRef(chain, restoring.observed, restoring.on.sha);
          if (put === "moved") continue;
          chain.restorations.push({
            ...restoring,
            published: null,
            ...(put === "done" ? {} : { failed: put.failed }),
          });
        }
        return status === "identical"
          ? { kind: "duplicate", environment, record: previous.sha }
          : { kind: "stale", environment, why: "a newer revision already has a record" };
      }
      if (status !== "ahead") {
        return {
          kind: "diverged",
          why: `${chain.branch} no longer descends from the last approved revision ${since.slice(0, 7)} (history rewritten)`,
        };
      }
    }
    // The tip this landing replaced has no record yet (there is none at all, or one for an older tip).
    if (
      !caughtUp &&
      depth < MAX_CATCH_UP &&
      before !== null &&
      before !== since &&
      (since === null || (await compare(chain, since, before)) === "ahead")
    ) {
      caughtUp = true;
      if (await catchUp(chain, before, depth + 1)) {
        attempt--; // catching up is not a lost race: re-read the head without spending an attempt
        continue;
      }
      // Nothing was written for the earlier tip: the head judged above is still the one to chain
      // onto. A ref another replica moved meanwhile fails the compare-and-swap below and is judged
      // again then, as on every lost race.
    }
    const unsigned = landingRecord({
      repository: `${repo.owner}/${repo.repo}`,
      environment,
      branch: chain.branch,
      previous: previous
        ? { sha: previous.sha, sequence: previous.fields.sequence, issuedAt: previous.fields.issuedAt }
        : null,
      landing: {
        commit: landing.commit,
        tree: landing.tree,
        pullRequest: landing.pull.number,
        decision: landing.decision,
      },
      signer: {
        fingerprint: chain.signer.fingerprint,
        identity: chain.signer.identity,
        key: chain.signer.key,
      },
      now: deps.now(),
    });
    const { fields } = unsigned;
    const { pull } = landing;
    const signed = await signRecord(unsigned, chain.signer.key);
    const { data: created } = await gh.rest.git.createCommit({
      ...repo,
      ...githubCreateCommitRequest(signed),
    });
    if (created.sha !== signed.sha) {
      throw new FactsError(
        `GitHub stored the record as ${created.sha}, not the signed ${signed.sha}: refusing to publish it`,
      );
    }
    // GitHub holds exactly this object: its record push event (and the next landing's guard) judge
    // it from these bytes, which must still hash to its SHA, without reading it back.
    rememberApiCommit(repo, {
      sha: signed.sha,
      parents: signed.parents,
      payload: signed.raw,
      signature: signed.signature,
    });
    if (restoring) {
      // The only forced write pullgate makes: from the tampered head it observed, to a record that
      // builds on the newest genuine one. A ref that moved meanwhile is judged again.
      const put = await restoreRef(chain, restoring.observed, signed.sha);
      if (put === "moved") continue;
      if (put !== "done") {
        chain.restorations.push({ ...restoring, published: null, failed: put.failed });
        return {
          kind: "unprovable",
          why: `no record for ${landing.commit.slice(0, 7)}: ${restoring.why}, and restoring the chain failed`,
        };
      }
      chain.restorations.push({
        ...restoring,
        published: { sha: signed.sha, sequence: fields.sequence },
      });
    } else {
      try {
        if (previous) {
          // force: false = fast-forward only: a record built on a stale parent is refused (compare-and-swap).
          await gh.rest.git.updateRef({ ...repo, ref: chain.refName, sha: signed.sha, force: false });
        } else {
          await gh.rest.git.createRef({ ...repo, ref: `refs/${chain.refName}`, sha: signed.sha });
        }
      } catch (error) {
        if (httpStatus(error) !== 422) throw error;
        // GitHub answers 422 for a lost race (the ref moved: not a fast-forward any more) and for
        // refusals a retry cannot fix (branch protection on the record ref, a branch whose name
        // clashes with it). Only a ref that really moved is a race worth rebuilding for.
        const now = await readRefSha(gh, repo, chain.refName);
        if (now === observed) {
          throw new FactsError(
            `GitHub refused to ${previous ? "move" : "create"} ${chain.refName} for record #${fields.sequence} ` +
              `(${error instanceof Error ? error.message : String(error)}), and the ref did not move: not a lost race. ` +
              `Check the branch protection and rulesets of ${chain.refName.slice("heads/".length)} (pullgate must be allowed to push it) ` +
              `and that no branch is named ${chain.recordRefPrefix.replace(/\/$/, "")}`,
          );
        }
        deps.log.info({ attempt, environment }, "record ref moved meanwhile; rebuilding on the new head");
        continue;
      }
    }
    // The record log is the trust anchor for restoring a tampered ref (record-log.ts). A lost
    // write is not fatal: a genuine head newer than the log is kept (head-decision.ts).
    try {
      await writeRecordLog(
        gh,
        repo,
        landing.commit,
        { environment, sequence: fields.sequence, record: signed.sha },
        pull.number,
      );
    } catch (error) {
      deps.log.error(
        { err: error, record: signed.sha },
        "published the record, but could not write its record log entry",
      );
    }
    deps.metrics.records.inc({ environment });
    deps.log.info(
      { environment, sequence: fields.sequence, record: signed.sha, pull: pull.number },
      "published approved-revision record",
    );
    return {
      kind: "published",
      environment,
      sequence: fields.sequence,
      record: signed.sha,
      pullRequest: pull.number,
      ...(restoring ? { restored: restoring.why } : {}),
    };
  }
  throw new FactsError(
    `could not publish the record for ${environment} after ${deps.maxPublishAttempts} attempts`,
  );
}

/**
 * Publishes the record for an earlier tip of the branch that has none yet, when it is an approved
 * landing under the same policy (and, first, its own predecessors, up to MAX_CATCH_UP). A tip that is
 * not an approved landing is skipped without an alert: its own push event raises that alarm.
 * True when it went as far as writing (or trying to write) a record or a restoration: the ref may
 * have moved, so the caller judges its head again; false when it wrote nothing.
 */
async function catchUp(chain: RecordChain, commit: string, depth: number): Promise<boolean> {
  const { deps, gh, repo } = chain;
  // Its own event refused it (an approval had lapsed when it landed, docs/threat-model.md): that
  // alert stands, even if the facts have changed back since.
  if (await refusedBefore(gh, repo, commit, await deps.appLogin())) {
    deps.log.info({ commit }, "earlier tip was refused a record when it landed; it gets none");
    return false;
  }
  const approval = await approvedLanding(deps, gh, repo, commit, chain.branch, chain.environment);
  if (!approval.ok) {
    deps.log.info({ commit, reason: approval.reason }, "earlier tip has no record and gets none");
    return false;
  }
  const { landing } = approval;
  // Judged by the policy in force before it landed, as its own event would: same environment and ref.
  const policySha = landing.firstParent ?? commit;
  const effective = await loadEffectivePolicy(gh, repo, policySha);
  const branchPolicy = effective ? branchPolicyFor(effective.policy, chain.branch) : null;
  if (
    !effective ||
    !branchPolicy ||
    branchPolicy.environment !== chain.environment ||
    effective.policy.recordRefPrefix !== chain.recordRefPrefix
  ) {
    deps.log.info({ commit }, "earlier tip was governed by another policy; its own event decides");
    return false;
  }
  const outcome = await advance(chain, landing, landing.firstParent, depth);
  deps.log.info({ commit, outcome: outcome.kind }, "caught up on an earlier approved landing");
  return true;
}

async function compare(chain: RecordChain, base: string, head: string): Promise<string> {
  const { data } = await chain.gh.rest.repos.compareCommitsWithBasehead({
    ...chain.repo,
    basehead: `${base}...${head}`,
    per_page: 1,
  });
  return data.status;
}

/**
 * Moves the tampered ref from `observed` (null: it was deleted) to `sha`. GitHub's REST API has no
 * "expected old value" for a forced update, so the ref is read again right before the write and
 * only a ref still at `observed` is forced; a creation is atomic by itself (422 if it exists). The
 * window between that read and the write is documented in docs/threat-model.md: a push landing in
 * it is overwritten, and raised as an alert by its own push event.
 */
async function restoreRef(
  chain: RecordChain,
  observed: string | null,
  sha: string,
): Promise<"done" | "moved" | { failed: string }> {
  const { gh, repo, refName } = chain;
  const now = await readRefSha(gh, repo, refName);
  if (now !== observed) return "moved";
  try {
    if (observed === null) await gh.rest.git.createRef({ ...repo, ref: `refs/${refName}`, sha });
    else await gh.rest.git.updateRef({ ...repo, ref: refName, sha, force: true });
    return "done";
  } catch (error) {
    if (httpStatus(error) !== 422) throw error;
    if ((await readRefSha(gh, repo, refName)) !== observed) return "moved";
    return {
      failed: `GitHub refused the update (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
