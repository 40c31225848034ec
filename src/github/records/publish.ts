import type { PrivateKey } from "openpgp";
import type { Logger } from "probot";
import { branchPolicyFor } from "../../core/policy/match.js";
import {
  githubCreateCommitRequest,
  recordIssuedAt,
  signRecord,
  type RecordFields,
  type RecordIdentity,
} from "../../record/index.js";
import type { PullgateMetrics } from "../../metrics.js";
import { latestVerdict } from "../check-run.js";
import type { Decision } from "../decision.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { raiseAlert, raiseBypassAlert, refusedBefore } from "./alert.js";
import { environmentBinding } from "./environment-binding.js";
import { guardHead, readRefSha, type GenuineRecord, type GuardTarget } from "./chain-guard.js";
import { findMergedPull, type MergedPull } from "./find-pull.js";
import { recheckLanding } from "./recheck.js";
import { watchRecordPush } from "./record-push.js";
import { writeRecordLog } from "./record-log.js";

export interface RecordSigner {
  key: PrivateKey;
  fingerprint: string;
  identity: RecordIdentity;
}

export interface PublishDeps {
  appId: number;
  /** The login the app writes issues and comments as (`<slug>[bot]`): only its own alert issue is reused. */
  appLogin: () => Promise<string>;
  signer: RecordSigner | null;
  log: Logger;
  metrics: PullgateMetrics;
  /** Delays between asks of `commits/{sha}/pulls`, which GitHub can answer late. */
  pullLookupRetryDelaysMs: readonly number[];
  /** Compare-and-swap attempts before giving up (each re-reads the ref). */
  maxPublishAttempts: number;
  now: () => Date;
}

export interface PushEvent {
  ref: string;
  before: string;
  after: string;
  deleted: boolean;
  pusher: string;
  /** The repository's default branch: a record ref's creation is judged by the policy there. */
  defaultBranch?: string;
}

export type PushOutcome =
  | { kind: "ignored"; why: string }
  | {
      kind: "published";
      environment: string;
      sequence: number;
      record: string;
      pullRequest: number;
      /** Set when the record ref had been tampered with and this publication restored the chain. */
      restored?: string;
    }
  | { kind: "duplicate"; environment: string; record: string }
  | { kind: "stale"; environment: string; why: string }
  | { kind: "alerted"; environment: string; reason: string; issue: number }
  | { kind: "unsigned"; environment: string };

const ZERO_SHA = /^0{40}$/;

/**
 * A push to a branch: if the branch is governed and the new head is exactly the tree of a PR head
 * that pullgate approved, publish the next approved-revision record; if it arrived any other way,
 * publish nothing and raise the alarm. Never publishes on doubt: every unexpected answer throws,
 * and the caller logs it; no record is better than a wrong one.
 */
export async function handlePush(
  deps: PublishDeps,
  gh: GitHub,
  repo: RepoRef,
  push: PushEvent,
): Promise<PushOutcome> {
  if (!push.ref.startsWith("refs/heads/")) return { kind: "ignored", why: "not a branch" };
  const branch = push.ref.slice("refs/heads/".length);
  const deleted = push.deleted || ZERO_SHA.test(push.after);
  if (deleted && ZERO_SHA.test(push.before)) return { kind: "ignored", why: "nothing was deleted" };

  // The policy in force before this push decides: a push cannot govern itself out of a record.
  const policySha = ZERO_SHA.test(push.before) ? push.after : push.before;
  let effective = await loadEffectivePolicy(gh, repo, policySha);
  // A new branch brings its own tree: whether it is a record ref is not for that tree to say.
  if (ZERO_SHA.test(push.before) && push.defaultBranch && mayBeRecordRef(branch, effective)) {
    const tip = await readRefSha(gh, repo, `heads/${push.defaultBranch}`);
    if (tip !== null) effective = await loadEffectivePolicy(gh, repo, tip);
  }
  if (!effective) return { kind: "ignored", why: "no pullgate policy" };
  if (branch.startsWith(effective.policy.recordRefPrefix)) {
    return watchRecordPush(
      {
        appId: deps.appId,
        signer: deps.signer,
        now: deps.now,
        log: deps.log,
        onAlert: () =>
          deps.metrics.alerts.inc({ environment: branch.slice(effective.policy.recordRefPrefix.length) }),
        appLogin: deps.appLogin,
      },
      gh,
      repo,
      { ...push, branch, deleted, environment: branch.slice(effective.policy.recordRefPrefix.length) },
    );
  }
  if (deleted) return { kind: "ignored", why: "branch deleted" };
  const branchPolicy = branchPolicyFor(effective.policy, branch);
  if (!branchPolicy) return { kind: "ignored", why: `branch ${branch} is not governed` };
  const environment = branchPolicy.environment;
  const alert = async (reason: string, commit = push.after): Promise<PushOutcome> => {
    const { issue } = await raiseBypassAlert(
      gh,
      repo,
      { branch, environment, commit, pusher: push.pusher, reason },
      await deps.appLogin(),
    );
    deps.metrics.alerts.inc({ environment });
    deps.log.warn({ commit, branch, reason }, "commit reached a governed branch without approval");
    return { kind: "alerted", environment, reason, issue };
  };

  // Which environment a branch feeds is the default branch's to say, not the branch's own copy of
  // the policy (docs/architecture.md, invariant 9).
  const bound = await environmentBinding(gh, repo, {
    branch,
    environment,
    defaultBranch: push.defaultBranch,
    ownEntry: branchPolicy,
  });
  if (!bound.ok) return alert(bound.reason);

  const approval = await approvedLanding(deps, gh, repo, push.after, branch, environment);
  if (!approval.ok) return alert(approval.reason);
  if (!deps.signer) {
    deps.log.warn(
      { branch, environment },
      "no signing key configured: approved merge, but no record published",
    );
    return { kind: "unsigned", environment };
  }
  const refName = `heads/${effective.policy.recordRefPrefix}${environment}`;
  const chain: RecordChain = {
    deps,
    signer: deps.signer,
    gh,
    repo,
    branch,
    environment,
    recordRefPrefix: effective.policy.recordRefPrefix,
    refName,
    guard: {
      gh,
      repo,
      appId: deps.appId,
      refName,
      judge: {
        keyring: [deps.signer.key.toPublic().armor()],
        repository: `${repo.owner}/${repo.repo}`,
        environment,
        now: deps.now(),
      },
    },
    restorations: [],
  };
  const before = ZERO_SHA.test(push.before) ? null : push.before;
  let outcome: AdvanceOutcome;
  try {
    outcome = await advance(chain, approval.landing, before, 0);
  } finally {
    // Every restoration is reported, also when publishing failed after it.
    for (const r of chain.restorations) await alertRestoration(deps, gh, repo, chain, r);
  }
  if (outcome.kind === "diverged") return alert(outcome.why);
  if (outcome.kind === "unprovable") return alert(outcome.why);
  return outcome;
}

/** Whether a newly created branch could be a record ref (then the default branch's policy decides). */
function mayBeRecordRef(branch: string, effective: Awaited<ReturnType<typeof loadEffectivePolicy>>): boolean {
  // The built-in prefix, or the prefix the new tree's own policy names (a custom prefix).
  return (
    branch.startsWith("approved/") ||
    (effective !== null && branch.startsWith(effective.policy.recordRefPrefix))
  );
}

interface Restoration {
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

async function alertRestoration(
  deps: PublishDeps,
  gh: GitHub,
  repo: RepoRef,
  chain: RecordChain,
  r: Restoration,
): Promise<void> {
  const ref = chain.refName.slice("heads/".length);
  const done = r.failed
    ? `pullgate could not restore it: ${r.failed}. No record is published until the ref holds record #${r.on.fields.sequence} ${r.on.sha} again (set it back, and let only pullgate push ${ref}).`
    : r.published
      ? `pullgate restored the chain on record #${r.on.fields.sequence} (${r.on.sha}) and published record #${r.published.sequence} (${r.published.sha}) on top of it, so agents that accepted record #${r.on.fields.sequence} accept it.`
      : `pullgate set the ref back to record #${r.on.fields.sequence} (${r.on.sha}).`;
  const body = [
    `**\`${ref}\`** (environment \`${chain.environment}\`) did not hold pullgate's newest record.`,
    "",
    `- Found: ${r.why}`,
    `- Done: ${done}`,
    "",
    `The record log (pullgate's \`pullgate/record\` check runs) is what pullgate trusts, not the ref. Find out who changed \`${ref}\` (the push is alerted separately) and protect it: only pullgate may update it, no force-push, no deletion.`,
  ].join("\n");
  await raiseAlert(gh, repo, await deps.appLogin(), {
    key: `restore:${ref}:${r.observed ?? "deleted"}:${r.on.sha}`,
    body,
  });
  deps.metrics.alerts.inc({ environment: chain.environment });
  deps.log.warn(
    { ref, observed: r.observed, restoredOn: r.on.sha, failed: r.failed },
    "record ref was tampered with",
  );
}

/** An approved landing: the commit, the PR it came through and pullgate's decision on that PR's head. */
interface Landing {
  commit: string;
  tree: string;
  /** The commit's first parent: the branch's tip before it landed. */
  firstParent: string | null;
  pull: MergedPull;
  decision: Decision;
}

type Approval = { ok: true; landing: Landing } | { ok: false; reason: string };

/**
 * Whether `commit` landed on `branch` as the merge of a PR whose head pullgate approved, for this
 * environment, with exactly the approved head's tree (docs/architecture.md, invariant 5); otherwise why not.
 */
async function approvedLanding(
  deps: PublishDeps,
  gh: GitHub,
  repo: RepoRef,
  commit: string,
  branch: string,
  environment: string,
): Promise<Approval> {
  const pull = await findMergedPull(gh, repo, commit, branch, deps.pullLookupRetryDelaysMs);
  if (!pull)
    return {
      ok: false,
      reason: "no merged pull request produced this commit (direct push or bypassed protection)",
    };
  const verdict = await latestVerdict(gh, repo, pull.headSha, deps.appId);
  const decision = verdict?.decision;
  if (!verdict || verdict.conclusion !== "success" || !decision || decision.status !== "pass") {
    return {
      ok: false,
      reason: `pull request #${pull.number} was merged without pullgate's passing check on its head ${pull.headSha.slice(0, 7)}`,
    };
  }
  if (
    decision.headSha !== pull.headSha ||
    decision.baseRef !== branch ||
    decision.environment !== environment
  ) {
    return {
      ok: false,
      reason: `pullgate's decision for #${pull.number} was made for another head, branch or environment`,
    };
  }
  const { data: landed } = await gh.rest.git.getCommit({ ...repo, commit_sha: commit });
  if (!decision.headTree || landed.tree.sha !== decision.headTree) {
    return {
      ok: false,
      reason: `the merged tree ${landed.tree.sha.slice(0, 7)} differs from the approved head's tree ${(decision.headTree ?? "unknown").slice(0, 7)} (the base moved: require branches to be up to date before merging)`,
    };
  }
  if (decision.approvedBy.length === 0)
    return { ok: false, reason: `pull request #${pull.number} has no counted approver to name in a record` };
  // Access can be lost after the evaluation, and the webhook that re-gates the PR can be lost or
  // over budget (docs/threat-model.md): every counted approval is judged again with current facts
  // (permission, team membership, CODEOWNERS at the approved base) by the core's own rules.
  const standing = await recheckLanding(gh, repo, { number: pull.number, author: pull.author }, decision);
  if (!standing.ok) {
    const reasons: string[] = [];
    if (standing.lostAccess.length > 0)
      reasons.push(
        `${standing.lostAccess.map((l) => `@${l}`).join(", ")} approved pull request #${pull.number} but no longer had write access to ${repo.owner}/${repo.repo} when it landed`,
      );
    if (standing.lapsed.length > 0)
      reasons.push(
        `pull request #${pull.number} would not pass with the facts current when it landed: ${standing.lapsed.join("; ")}`,
      );
    return { ok: false, reason: reasons.join("; ") };
  }
  return {
    ok: true,
    landing: {
      commit,
      tree: landed.tree.sha,
      firstParent: landed.parents[0]?.sha ?? null,
      pull,
      decision,
    },
  };
}

interface RecordChain {
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

type AdvanceOutcome =
  | Exclude<PushOutcome, { kind: "alerted" } | { kind: "ignored" } | { kind: "unsigned" }>
  | { kind: "diverged"; why: string }
  | { kind: "unprovable"; why: string };

/**
 * Appends the record for `landing` to approved/<env> by compare-and-swap. `before` is the branch tip
 * the landing replaced: when it is newer than the last record's source and has no record yet (its own
 * event is late, or handled by another replica right now), it is published first, so that events
 * handled out of order still give one record per approved landing, in order, and never lose one.
 */
async function advance(
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
      await catchUp(chain, before, depth + 1);
      attempt--; // catching up is not a lost race: re-read the head without spending an attempt
      continue;
    }
    const fields: RecordFields = {
      repository: `${repo.owner}/${repo.repo}`,
      environment,
      branch: chain.branch,
      sequence: previous ? previous.fields.sequence + 1 : 1,
      sourceCommit: landing.commit,
      sourceTree: landing.tree,
      pullRequest: landing.pull.number,
      approvedBy: landing.decision.approvedBy,
      policyDigest: landing.decision.policyDigest,
      // Backdated by the skew so that a cluster clock behind the app's does not fail Flux
      // (docs/architecture.md, "Record contract", clock contract).
      issuedAt: recordIssuedAt(deps.now(), {
        signingKey: chain.signer.key,
        ...(previous ? { notBefore: previous.fields.issuedAt } : {}),
      }),
      key: chain.signer.fingerprint,
    };
    const { decision, pull } = landing;
    const signed = await signRecord(
      {
        fields,
        previousRecord: previous?.sha ?? null,
        identity: chain.signer.identity,
        format: {
          summary: `Pull request #${pull.number} was approved by ${decision.approvedBy.map((a) => `@${a}`).join(", ")} and merged as ${landing.commit.slice(0, 7)}.`,
          decision: {
            reviews: decision.reviews,
            signatures: decision.signatures,
            rules: decision.rules,
            headSha: decision.headSha,
          },
        },
      },
      chain.signer.key,
    );
    const { data: created } = await gh.rest.git.createCommit({
      ...repo,
      ...githubCreateCommitRequest(signed),
    });
    if (created.sha !== signed.sha) {
      throw new FactsError(
        `GitHub stored the record as ${created.sha}, not the signed ${signed.sha}: refusing to publish it`,
      );
    }
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
 */
async function catchUp(chain: RecordChain, commit: string, depth: number): Promise<void> {
  const { deps, gh, repo } = chain;
  // Its own event refused it (an approval had lapsed when it landed, docs/threat-model.md): that
  // alert stands, even if the facts have changed back since.
  if (await refusedBefore(gh, repo, commit, await deps.appLogin())) {
    deps.log.info({ commit }, "earlier tip was refused a record when it landed; it gets none");
    return;
  }
  const approval = await approvedLanding(deps, gh, repo, commit, chain.branch, chain.environment);
  if (!approval.ok) {
    deps.log.info({ commit, reason: approval.reason }, "earlier tip has no record and gets none");
    return;
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
    return;
  }
  const outcome = await advance(chain, landing, landing.firstParent, depth);
  deps.log.info({ commit, outcome: outcome.kind }, "caught up on an earlier approved landing");
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
