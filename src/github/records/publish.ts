import type { PrivateKey } from "openpgp";
import type { Logger } from "probot";
import { branchPolicyFor } from "../../core/policy/match.js";
import {
  formatIssuedAt,
  githubCreateCommitRequest,
  parseRecordMessage,
  signRecord,
  type RecordFields,
  type RecordIdentity,
} from "../../record/index.js";
import type { PullgateMetrics } from "../../metrics.js";
import { latestVerdict } from "../check-run.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { raiseBypassAlert } from "./alert.js";
import { findMergedPull } from "./find-pull.js";

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

  const pull = await findMergedPull(gh, repo, push.after, branch, deps.pullLookupRetryDelaysMs);
  if (!pull) return alert("no merged pull request produced this commit (direct push or bypassed protection)");
  const verdict = await latestVerdict(gh, repo, pull.headSha, deps.appId);
  const decision = verdict?.decision;
  if (!verdict || verdict.conclusion !== "success" || !decision || decision.status !== "pass") {
    return alert(
      `pull request #${pull.number} was merged without pullgate's passing check on its head ${pull.headSha.slice(0, 7)}`,
    );
  }
  if (
    decision.headSha !== pull.headSha ||
    decision.baseRef !== branch ||
    decision.environment !== environment
  ) {
    return alert(`pullgate's decision for #${pull.number} was made for another head, branch or environment`);
  }
  const { data: landed } = await gh.rest.git.getCommit({ ...repo, commit_sha: push.after });
  if (!decision.headTree || landed.tree.sha !== decision.headTree) {
    return alert(
      `the merged tree ${landed.tree.sha.slice(0, 7)} differs from the approved head's tree ${(decision.headTree ?? "unknown").slice(0, 7)} (the base moved: require branches to be up to date before merging)`,
    );
  }
  if (decision.approvedBy.length === 0)
    return alert(`pull request #${pull.number} has no counted approver to name in a record`);
  if (!deps.signer) {
    deps.log.warn(
      { branch, environment },
      "no signing key configured: approved merge, but no record published",
    );
    return { kind: "unsigned", environment };
  }

  const refName = `heads/${effective.policy.recordRefPrefix}${environment}`;
  for (let attempt = 1; attempt <= deps.maxPublishAttempts; attempt++) {
    const previous = await readRecordHead(gh, repo, refName);
    if (previous) {
      if (previous.fields.sourceCommit === push.after)
        return { kind: "duplicate", environment, record: previous.sha };
      // Only forward: a redelivered or late event for an older merge must not roll the record back.
      const { data: cmp } = await gh.rest.repos.compareCommitsWithBasehead({
        ...repo,
        basehead: `${previous.fields.sourceCommit}...${push.after}`,
        per_page: 1,
      });
      if (cmp.status === "identical") return { kind: "duplicate", environment, record: previous.sha };
      if (cmp.status === "behind")
        return { kind: "stale", environment, why: "a newer revision already has a record" };
      if (cmp.status !== "ahead") {
        return alert(
          `${branch} no longer descends from the last approved revision ${previous.fields.sourceCommit.slice(0, 7)} (history rewritten)`,
        );
      }
    }
    const fields: RecordFields = {
      repository: `${repo.owner}/${repo.repo}`,
      environment,
      branch,
      sequence: previous ? previous.fields.sequence + 1 : 1,
      sourceCommit: push.after,
      sourceTree: landed.tree.sha,
      pullRequest: pull.number,
      approvedBy: decision.approvedBy,
      policyDigest: decision.policyDigest,
      issuedAt: formatIssuedAt(deps.now()),
      key: deps.signer.fingerprint,
    };
    const signed = await signRecord(
      {
        fields,
        previousRecord: previous?.sha ?? null,
        identity: deps.signer.identity,
        format: {
          summary: `Pull request #${pull.number} was approved by ${decision.approvedBy.map((a) => `@${a}`).join(", ")} and merged as ${push.after.slice(0, 7)}.`,
          decision: {
            reviews: decision.reviews,
            signatures: decision.signatures,
            rules: decision.rules,
            headSha: decision.headSha,
          },
        },
      },
      deps.signer.key,
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
        await gh.rest.git.updateRef({ ...repo, ref: refName, sha: signed.sha, force: false });
      } else {
        await gh.rest.git.createRef({ ...repo, ref: `refs/${refName}`, sha: signed.sha });
      }
    } catch (error) {
      if (httpStatus(error) === 422) {
        deps.log.info({ attempt, environment }, "record ref moved meanwhile; rebuilding on the new head");
        continue;
      }
      throw error;
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

async function readRecordHead(
  gh: GitHub,
  repo: RepoRef,
  refName: string,
): Promise<{ sha: string; fields: RecordFields } | null> {
  let sha: string;
  try {
    const { data } = await gh.rest.git.getRef({ ...repo, ref: refName });
    sha = data.object.sha;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
  const { data: commit } = await gh.rest.git.getCommit({ ...repo, commit_sha: sha });
  const parsed = parseRecordMessage(commit.message);
  if (!parsed.fields) {
    throw new FactsError(
      `${refName} points at ${sha.slice(0, 7)}, which is not a valid pullgate record: ${parsed.errors.join("; ")}`,
    );
  }
  return { sha, fields: parsed.fields };
}
