/**
 * The record publisher, for one push: routes a push to a record ref to its watch (record-push.ts),
 * and for a push to a governed branch asks whether it is an approved landing (landing.ts, judged by
 * src/record/landing.ts), then appends its record (write.ts, built by src/record/landing-record.ts)
 * or raises the bypass alert. The shared types live in types.ts.
 */
import { branchPolicyFor } from "../../core/policy/match.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { raiseAlert, raiseBypassAlert } from "./alert.js";
import { readRefSha } from "./chain-guard.js";
import { approvedLanding } from "./landing.js";
import { environmentBinding } from "./environment-binding.js";
import { watchRecordPush } from "./record-push.js";
import type { PublishDeps, PushEvent, PushOutcome } from "./types.js";
import { advance, type AdvanceOutcome, type RecordChain, type Restoration } from "./write.js";

export type { PublishDeps, PushEvent, PushOutcome, RecordSigner } from "./types.js";

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
  const created = ZERO_SHA.test(push.before);
  const policySha = created ? push.after : push.before;
  let effective: Awaited<ReturnType<typeof loadEffectivePolicy>>;
  // A new branch brings its own tree: whether it is a record ref is not for that tree to say.
  if (created && push.defaultBranch && branch.startsWith("approved/")) {
    // Under the built-in prefix the default branch's policy decides whatever the new tree says, so
    // that tree's policy is not read at all (the first record's own push event: 2 requests fewer).
    const tip = await readRefSha(gh, repo, `heads/${push.defaultBranch}`);
    effective = await loadEffectivePolicy(gh, repo, tip ?? policySha);
  } else {
    effective = await loadEffectivePolicy(gh, repo, policySha);
    if (created && push.defaultBranch && mayBeRecordRef(branch, effective)) {
      const tip = await readRefSha(gh, repo, `heads/${push.defaultBranch}`);
      if (tip !== null) effective = await loadEffectivePolicy(gh, repo, tip);
    }
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
