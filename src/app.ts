import type { ApplicationFunction, Context } from "probot";
import { gatePull } from "./github/gate.js";
import {
  auditInstallation,
  isOrgPolicyRepo,
  pushCallsForAudit,
  reauditRepository,
  type ProtectionEventDeps,
} from "./github/protection-events.js";
import { openPullsWithHead } from "./github/evaluate-head.js";
import { gateMergeGroup } from "./github/merge-group.js";
import { classifyAccessEvent } from "./github/access-change.js";
import { handleAccessChange } from "./github/access-events.js";
import { handlePush, type RecordSigner } from "./github/records/publish.js";
import type { RepoRef } from "./github/octokit.js";
import { pullgateMetrics, recordsFrom, type PullgateMetrics } from "./metrics.js";

export interface AppOptions {
  appId: number;
  metrics: PullgateMetrics;
  /** An evaluation that takes longer completes its check as a failure (fail closed). */
  evaluationTimeoutMs: number;
  /** The record-signing key; null = gate PRs but publish no records (said at start and on pushes). */
  signer: RecordSigner | null;
  /** Delays between asks of `commits/{sha}/pulls` after a push (GitHub can answer late). */
  pullLookupRetryDelaysMs: readonly number[];
  now: () => Date;
  /** The app's slug; looked up with `GET /app` when not given. */
  appSlug?: string;
}

/** An installation's account is a user or org (login) or an enterprise (slug). */
function accountName(account: { login: string } | { slug: string } | null | undefined): string {
  if (!account) return "";
  return "login" in account ? account.login : account.slug;
}

/**
 * The PR to re-gate when our check on `sha` is re-run. One is enough: the gate evaluates every open
 * PR with that head (a check belongs to the commit). GitHub names only same-repository PRs in a
 * check run's `pull_requests` (none for a fork's PR), so when it names none, ask for the PRs whose
 * head this is; a head with no open PR is not re-gated.
 */
async function pullToGate(
  context: Context,
  named: readonly { number: number }[],
  sha: string,
): Promise<{ number: number; openPulls?: readonly number[] } | null> {
  const first = named.map((pr) => pr.number).sort((a, b) => a - b)[0];
  if (first !== undefined) return { number: first };
  const open = await openPullsWithHead(context.octokit, context.repo(), sha);
  // The evaluation needs the same listing (every open PR with this head): it is passed on, not asked twice.
  return open[0] === undefined ? null : { number: open[0], openPulls: open };
}

type PullTarget = {
  repo: RepoRef;
  number: number;
  headSha: string;
  lastPusher?: string;
  openPulls?: readonly number[];
};

/**
 * The Probot app: typed handlers that translate webhook events into "gate this PR head" work.
 * Everything else (facts, verdicts, check runs) lives in src/github and the pure core.
 */
export function pullgateApp(partial: Partial<AppOptions> & { appId: number }): ApplicationFunction {
  const options: AppOptions = {
    metrics: partial.metrics ?? pullgateMetrics(),
    evaluationTimeoutMs: partial.evaluationTimeoutMs ?? 60_000,
    appId: partial.appId,
    signer: partial.signer ?? null,
    pullLookupRetryDelaysMs: partial.pullLookupRetryDelaysMs ?? [1_000, 2_000, 4_000],
    now: partial.now ?? (() => new Date()),
  };

  return (app) => {
    // The app's slug (GET /app, once): branch protection must pin the required check to this app.
    let slug: Promise<string> | null = partial.appSlug ? Promise.resolve(partial.appSlug) : null;
    const appSlug = (): Promise<string> => {
      slug ??= app
        .auth()
        .then((jwt) => jwt.rest.apps.getAuthenticated())
        .then(({ data }) => data?.slug ?? "pullgate")
        .catch((error: unknown) => {
          slug = null;
          throw error;
        });
      return slug;
    };
    const protectionDeps = (log: Context["log"]): ProtectionEventDeps => ({
      appId: options.appId,
      log,
      appSlug,
    });

    const gate = async (context: Context, target: PullTarget) => {
      await gatePull(
        {
          appId: options.appId,
          metrics: options.metrics,
          timeoutMs: options.evaluationTimeoutMs,
          log: context.log,
          appSlug,
          recordsEnabled: options.signer !== null,
        },
        context.octokit,
        target,
      );
    };

    app.on(
      [
        "pull_request.opened",
        "pull_request.synchronize",
        "pull_request.reopened",
        "pull_request.ready_for_review",
      ],
      async (context) => {
        options.metrics.webhooks.inc({ event: `pull_request.${context.payload.action}` });
        const pr = context.payload.pull_request;
        await gate(context, {
          repo: context.repo(),
          number: pr.number,
          headSha: pr.head.sha,
          // The sender of a synchronize event is who pushed the new head (GitHub's last-push rule).
          ...(context.payload.action === "synchronize" ? { lastPusher: context.payload.sender.login } : {}),
        });
      },
    );

    app.on("pull_request.edited", async (context) => {
      options.metrics.webhooks.inc({ event: "pull_request.edited" });
      // Only a new base changes the verdict: it means another branch's policy.
      if (!context.payload.changes.base) return;
      const pr = context.payload.pull_request;
      await gate(context, { repo: context.repo(), number: pr.number, headSha: pr.head.sha });
    });

    app.on(
      ["pull_request_review.submitted", "pull_request_review.dismissed", "pull_request_review.edited"],
      async (context) => {
        options.metrics.webhooks.inc({ event: `pull_request_review.${context.payload.action}` });
        const pr = context.payload.pull_request;
        await gate(context, { repo: context.repo(), number: pr.number, headSha: pr.head.sha });
      },
    );

    app.on(["check_run.rerequested", "check_run.requested_action"], async (context) => {
      options.metrics.webhooks.inc({ event: `check_run.${context.payload.action}` });
      const run = context.payload.check_run;
      if (run.app?.id !== options.appId || run.name !== "pullgate") return;
      const pick = await pullToGate(context, run.pull_requests, run.head_sha);
      if (pick !== null) await gate(context, { repo: context.repo(), headSha: run.head_sha, ...pick });
    });

    app.on("merge_group.checks_requested", async (context) => {
      options.metrics.webhooks.inc({ event: "merge_group.checks_requested" });
      const group = context.payload.merge_group;
      await gateMergeGroup(
        {
          appId: options.appId,
          metrics: options.metrics,
          timeoutMs: options.evaluationTimeoutMs,
          log: context.log,
          appSlug,
          recordsEnabled: options.signer !== null,
        },
        context.octokit,
        {
          repo: context.repo(),
          headSha: group.head_sha,
          headRef: group.head_ref,
          baseRef: group.base_ref,
          headTree: group.head_commit?.tree_id ?? null,
        },
      );
    });

    app.on("push", async (context) => {
      options.metrics.webhooks.inc({ event: "push" });
      const p = context.payload;
      const outcome = await handlePush(
        {
          appId: options.appId,
          // Alerts are written as the app's bot, and only its own alert issue is reused.
          appLogin: async () => `${await appSlug()}[bot]`,
          signer: options.signer,
          log: context.log,
          metrics: recordsFrom(options.metrics, "push"),
          pullLookupRetryDelaysMs: options.pullLookupRetryDelaysMs,
          maxPublishAttempts: 5,
          now: options.now,
        },
        context.octokit,
        context.repo(),
        {
          ref: p.ref,
          before: p.before,
          after: p.after,
          deleted: p.deleted,
          pusher: p.sender?.login ?? p.pusher.name,
          defaultBranch: p.repository.default_branch,
        },
      );
      context.log.debug({ outcome }, "push handled");
    });

    app.on(["check_suite.requested", "check_suite.rerequested"], async (context) => {
      options.metrics.webhooks.inc({ event: `check_suite.${context.payload.action}` });
      const suite = context.payload.check_suite;
      // A suite is requested for every push; only heads of PRs are gated (none named: nothing to do).
      const number = suite.pull_requests.map((pr) => pr.number).sort((a, b) => a - b)[0];
      if (number !== undefined && suite.head_sha)
        await gate(context, { repo: context.repo(), number, headSha: suite.head_sha });
    });

    // Access changes (docs/threat-model.md): a reviewer who loses write access or team membership
    // after approving must not leave a green check behind; re-gate the PRs it can make stale.
    app.on(
      [
        "member.added",
        "member.edited",
        "member.removed",
        "membership.removed",
        "organization.member_removed",
        "team.added_to_repository",
        "team.removed_from_repository",
        "team.edited",
      ],
      async (context) => {
        options.metrics.webhooks.inc({ event: `${context.name}.${context.payload.action}` });
        const change = classifyAccessEvent(context.name, context.payload);
        if (change === null) return;
        await handleAccessChange(
          {
            appId: options.appId,
            log: context.log,
            metrics: options.metrics,
            gate: (target) => gate(context, target),
          },
          context.octokit,
          change,
        );
      },
    );

    // Branch protection (docs/audit.md): audit on installation, on new repositories, on every
    // protection or ruleset change (enforce mode reverts a weakening at once), and when a policy changes.
    app.on("installation.created", async (context) => {
      options.metrics.webhooks.inc({ event: "installation.created" });
      const p = context.payload;
      const owner = accountName(p.installation.account);
      const selected =
        p.installation.repository_selection === "selected" ? (p.repositories ?? []).map((r) => r.name) : null;
      await auditInstallation(protectionDeps(context.log), context.octokit, owner, selected);
    });

    app.on("installation_repositories.added", async (context) => {
      options.metrics.webhooks.inc({ event: "installation_repositories.added" });
      const owner = accountName(context.payload.installation.account);
      const names = context.payload.repositories_added.map((r) => r.name);
      await auditInstallation(protectionDeps(context.log), context.octokit, owner, names);
    });

    app.on(
      [
        "repository.created",
        "branch_protection_rule.created",
        "branch_protection_rule.edited",
        "branch_protection_rule.deleted",
        "repository_ruleset.created",
        "repository_ruleset.edited",
        "repository_ruleset.deleted",
      ],
      async (context) => {
        options.metrics.webhooks.inc({ event: `${context.name}.${context.payload.action}` });
        if (!("repository" in context.payload) || !context.payload.repository) return;
        await reauditRepository(protectionDeps(context.log), context.octokit, context.repo());
      },
    );

    app.on("push", async (context) => {
      const p = context.payload;
      const repo = context.repo();
      const audit = pushCallsForAudit({
        ref: p.ref,
        created: p.created,
        before: p.before,
        defaultBranch: p.repository.default_branch,
        commits: p.commits,
      });
      if (!audit) return;
      const deps = protectionDeps(context.log);
      // The org policy governs every repository of the org: re-audit them all.
      if (isOrgPolicyRepo(repo)) await auditInstallation(deps, context.octokit, repo.owner, null);
      else await reauditRepository(deps, context.octokit, repo);
    });
  };
}
