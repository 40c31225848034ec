import type { PrivateKey } from "openpgp";
import type { Logger } from "probot";
import { branchPolicyFor } from "../../core/policy/match.js";
import {
  githubCreateCommitRequest,
  recordIssuedAt,
  parseRecordMessage,
  signRecord,
  type RecordFields,
  type RecordIdentity,
} from "../../record/index.js";
import type { PullgateMetrics } from "../../metrics.js";
import { latestVerdict } from "../check-run.js";
import type { Decision } from "../decision.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { raiseBypassAlert } from "./alert.js";
import { findMergedPull, type MergedPull } from "./find-pull.js";
import { fetchPermissions } from "../people.js";

/** Permissions whose approval counts (invariant 3). */
const WRITE_ACCESS: ReadonlySet<string> = new Set(["write", "maintain", "admin"]);

export interface RecordSigner {
  key: PrivateKey;
  fingerprint: string;
  identity: RecordIdentity;
}

export interface PublishDeps {
  appId: number;
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
}

export type PushOutcome =
  | { kind: "ignored"; why: string }
  | { kind: "published"; environment: string; sequence: number; record: string; pullRequest: number }
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
  if (push.deleted || ZERO_SHA.test(push.after)) return { kind: "ignored", why: "branch deleted" };
  const branch = push.ref.slice("refs/heads/".length);

  // The policy in force before this push decides: a push cannot govern itself out of a record.
  const policySha = ZERO_SHA.test(push.before) ? push.after : push.before;
  const effective = await loadEffectivePolicy(gh, repo, policySha);
  if (!effective) return { kind: "ignored", why: "no pullgate policy" };
  if (branch.startsWith(effective.policy.recordRefPrefix)) return { kind: "ignored", why: "a record branch" };
  const branchPolicy = branchPolicyFor(effective.policy, branch);
  if (!branchPolicy) return { kind: "ignored", why: `branch ${branch} is not governed` };
  const environment = branchPolicy.environment;
  const alert = async (reason: string): Promise<PushOutcome> => {
    const { issue } = await raiseBypassAlert(gh, repo, {
      branch,
      environment,
      commit: push.after,
      pusher: push.pusher,
      reason,
    });
    deps.metrics.alerts.inc({ environment });
    deps.log.warn(
      { commit: push.after, branch, reason },
      "commit reached a governed branch without approval",
    );
    return { kind: "alerted", environment, reason, issue };
  };

  const approval = await approvedLanding(deps, gh, repo, push.after, branch, environment);
  if (!approval.ok) return alert(approval.reason);
  if (!deps.signer) {
    deps.log.warn(
      { branch, environment },
      "no signing key configured: approved merge, but no record published",
    );
    return { kind: "unsigned", environment };
  }
  const chain: RecordChain = {
    deps,
    signer: deps.signer,
    gh,
    repo,
    branch,
    environment,
    recordRefPrefix: effective.policy.recordRefPrefix,
    refName: `heads/${effective.policy.recordRefPrefix}${environment}`,
  };
  const before = ZERO_SHA.test(push.before) ? null : push.before;
  const outcome = await advance(chain, approval.landing, before, 0);
  if (outcome.kind === "diverged") return alert(outcome.why);
  return outcome;
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
 * environment, with exactly the approved head's tree (invariant 5); otherwise why not.
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
  // over budget (docs/threat-model.md): every approver the record will name must still have write
  // access when the PR lands. One request per approver. Team membership (code ownership) is not
  // re-checked here; the access-change webhooks re-gate for it (src/github/access-events.ts).
  const current = await fetchPermissions(gh, repo, decision.approvedBy);
  const lost = decision.approvedBy.filter(
    (login) => !WRITE_ACCESS.has(current[login.toLowerCase()] ?? "none"),
  );
  if (lost.length > 0)
    return {
      ok: false,
      reason: `${lost.map((l) => `@${l}`).join(", ")} approved pull request #${pull.number} but no longer had write access to ${repo.owner}/${repo.repo} when it landed`,
    };
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
}

/** How many earlier landings one event may publish first (see catchUp). */
const MAX_CATCH_UP = 10;

type AdvanceOutcome =
  | Exclude<PushOutcome, { kind: "alerted" } | { kind: "ignored" } | { kind: "unsigned" }>
  | { kind: "diverged"; why: string };

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
    const previous = await readRecordHead(gh, repo, chain.refName);
    const since = previous?.fields.sourceCommit ?? null;
    if (previous && since !== null) {
      if (since === landing.commit) return { kind: "duplicate", environment, record: previous.sha };
      // Only forward: a redelivered or late event for an older merge must not roll the record back.
      const status = await compare(chain, since, landing.commit);
      if (status === "identical") return { kind: "duplicate", environment, record: previous.sha };
      if (status === "behind")
        return { kind: "stale", environment, why: "a newer revision already has a record" };
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
      if (now === (previous?.sha ?? null)) {
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

/** Where the ref points, or null when it does not exist. */
async function readRefSha(gh: GitHub, repo: RepoRef, refName: string): Promise<string | null> {
  try {
    const { data } = await gh.rest.git.getRef({ ...repo, ref: refName });
    return data.object.sha;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
}

async function readRecordHead(
  gh: GitHub,
  repo: RepoRef,
  refName: string,
): Promise<{ sha: string; fields: RecordFields } | null> {
  const sha = await readRefSha(gh, repo, refName);
  if (sha === null) return null;
  const { data: commit } = await gh.rest.git.getCommit({ ...repo, commit_sha: sha });
  const parsed = parseRecordMessage(commit.message);
  if (!parsed.fields) {
    throw new FactsError(
      `${refName} points at ${sha.slice(0, 7)}, which is not a valid pullgate record: ${parsed.errors.join("; ")}`,
    );
  }
  return { sha, fields: parsed.fields };
}
