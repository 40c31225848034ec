/**
 * The reconciler (docs/operations.md, "Outages and recovery"): every record and every bypass alert
 * otherwise hangs on one webhook delivery reaching a live replica. A sweep compares, for each
 * installation, repository and governed branch, the branch's first-parent history since the last
 * record on `approved/<env>` with the records, and hands each landing without one to the push
 * handler (the same publisher, compare-and-swap, oldest first: idempotent with the push handler,
 * which may be handling the same landing right now). It also re-evaluates open pull requests into
 * governed branches whose pullgate check is missing, stuck in progress past the evaluation
 * deadline, or older than the pull request's last change (a lost review event). And it re-issues
 * the current record of a branch found in sync once it is older than `records.refresh_interval`
 * (refresh.ts).
 *
 * Cost is kept low by remembering what a sweep found in sync, by immutable SHAs only: a branch
 * whose tip and record ref both still point where they did is not read further, and a pull request
 * whose head and `updated_at` did not move is not looked at again. A repository with no changes
 * costs 2 requests (one `git/matching-refs/heads/` for every branch tip and record ref, one open
 * pull request listing), whatever its number of governed branches.
 */
import type { Logger } from "probot";
import { branchPolicyFor } from "../../core/policy/match.js";
import type { Policy } from "../../core/policy/types.js";
import { recordsFrom, type PullgateMetrics } from "../../metrics.js";
import type { RecordFields } from "../../record/format.js";
import { CHECK_NAME } from "../check-run.js";
import { gatePull } from "../gate.js";
import { budgetFor } from "../budget/index.js";
import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { refusedBefore } from "../records/alert.js";
import { judgeSha } from "../records/chain-guard.js";
import { handlePush, type PushOutcome, type RecordSigner } from "../records/publish.js";
import { redeliverFailed } from "./redeliver.js";
import { refreshRecord } from "./refresh.js";

const ZERO = "0".repeat(40);

export interface ReconcileDeps {
  appId: number;
  /** The app's JWT client (no id) or an installation's client (probot.auth). */
  auth: (installationId?: number) => Promise<GitHub>;
  signer: RecordSigner | null;
  log: Logger;
  metrics: PullgateMetrics;
  evaluationTimeoutMs: number;
  appSlug: () => Promise<string>;
  now: () => Date;
  /**
   * Requests one sweep may start new work within: checked between repositories and between
   * landings, so one unit can overrun it by its own cost; the next sweep resumes after the last
   * repository finished.
   */
  requestBudget: number;
  /** Whether sweeps ask GitHub to redeliver failed webhook deliveries (the app's own hook). */
  redeliver: boolean;
}

export interface SweepScope {
  /** Only installations on this account. */
  org?: string;
  /** Only this repository. */
  repo?: RepoRef;
}

export interface SweepReport {
  startedAt: string;
  finishedAt: string;
  /** false when the budget ran out; the next sweep resumes after `resumeAfter`. */
  complete: boolean;
  resumeAfter: string | null;
  requests: number;
  installations: number;
  repositories: number;
  /** The repositories this sweep covered (`owner/name`, lower case), in sweep order. */
  swept: string[];
  governedBranches: number;
  /** Landings that got their record from this sweep. */
  published: { repository: string; environment: string; sequence: number; record: string; commit: string }[];
  /** Commits raised as bypasses by this sweep (an already open alert is not duplicated). */
  alerted: { repository: string; branch: string; commit: string; reason: string }[];
  /**
   * Refresh records this sweep published (records.refresh_interval): the current record of a quiet
   * environment re-issued, with the GitHub requests each one cost.
   */
  refreshed: {
    repository: string;
    environment: string;
    sequence: number;
    record: string;
    refreshes: string;
    requests: number;
  }[];
  /** Refreshes dropped because the record ref moved after the sweep read it (a landing's record won). */
  refreshesDropped: { repository: string; environment: string; why: string }[];
  /** Pull requests re-evaluated, with why. */
  reevaluated: { repository: string; number: number; why: string }[];
  redeliveriesRequested: number;
  errors: { where: string; message: string }[];
}

interface RepoUnit {
  key: string;
  installationId: number;
  repo: RepoRef;
  defaultBranch: string;
}

/** How many compared commits a sweep walks at once (GitHub's compare lists at most 250 per page). */
const MAX_WALK = 250;
/** Redeliveries per event before the sweep stops asking (the state sweep still covers it). */
const MAX_DELIVERY_ATTEMPTS = 3;
/** How far back the first sweep after a start looks for failed deliveries. */
const FIRST_REDELIVERY_WINDOW_MS = 24 * 60 * 60 * 1000;

export class Reconciler {
  /** Branch `owner/repo:branch` → the tip and record ref head last found in sync. */
  private readonly branchSync = new Map<string, { tip: string; record: string | null }>();
  /** Record SHA → its source commit (judged genuine once; a SHA names its content). */
  private readonly recordSource = new Map<string, string>();
  /**
   * `owner/repo:env@sha` → the judged fields of a record ref head (null: not the app's genuine
   * record), for refreshes: the sweep judges each head once, a refresh reuses that judgement.
   */
  private readonly headFields = new Map<string, RecordFields | null>();
  /** `owner/repo@sha` → the effective policy there (immutable per SHA). */
  private readonly policies = new Map<string, Policy | null>();
  /** `owner/repo#n` → `head@updated_at` last found with a current check. */
  private readonly pullsSeen = new Map<string, string>();
  private resumeAfter: string | null = null;
  private redeliveredUpTo: Date | null = null;

  constructor(private readonly deps: ReconcileDeps) {}

  /** One sweep over everything the app is installed on (or the scope). */
  async sweep(scope: SweepScope = {}): Promise<SweepReport> {
    const { deps } = this;
    const counter = { n: 0 };
    const report: SweepReport = {
      startedAt: deps.now().toISOString(),
      finishedAt: "",
      complete: true,
      resumeAfter: null,
      requests: 0,
      installations: 0,
      repositories: 0,
      swept: [],
      governedBranches: 0,
      published: [],
      alerted: [],
      refreshed: [],
      refreshesDropped: [],
      reevaluated: [],
      redeliveriesRequested: 0,
      errors: [],
    };
    const appGh = counted(await deps.auth(), counter);
    if (deps.redeliver && !scope.org && !scope.repo) {
      const listedAt = deps.now();
      const since = this.redeliveredUpTo ?? new Date(listedAt.getTime() - FIRST_REDELIVERY_WINDOW_MS);
      try {
        const { requested, givenUp } = await redeliverFailed(appGh, since, {
          maxAttempts: MAX_DELIVERY_ATTEMPTS,
          maxPages: 10,
        });
        this.redeliveredUpTo = listedAt;
        report.redeliveriesRequested = requested;
        deps.metrics.redeliveries.inc({}, requested);
        if (givenUp.length > 0)
          deps.log.warn({ guids: givenUp }, "webhook deliveries failed every attempt; the sweep covers them");
      } catch (error) {
        report.errors.push({ where: "webhook deliveries", message: messageOf(error) });
      }
    }

    const installations = await appGh.paginate(appGh.rest.apps.listInstallations, { per_page: 100 });
    const units: RepoUnit[] = [];
    const clients = new Map<number, GitHub>();
    for (const inst of installations) {
      const account = accountName(inst.account);
      const wanted = scope.repo?.owner ?? scope.org;
      if (wanted !== undefined && account.toLowerCase() !== wanted.toLowerCase()) continue;
      if (inst.suspended_at) continue;
      report.installations++;
      const gh = counted(await deps.auth(inst.id), counter);
      clients.set(inst.id, gh);
      const repos = await gh.paginate(gh.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const r of repos) {
        if (r.archived) continue;
        if (scope.repo && r.name.toLowerCase() !== scope.repo.repo.toLowerCase()) continue;
        units.push({
          key: `${r.owner.login}/${r.name}`.toLowerCase(),
          installationId: inst.id,
          repo: { owner: r.owner.login, repo: r.name },
          defaultBranch: r.default_branch,
        });
      }
    }
    units.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Resume after the last repository the previous (incomplete) sweep finished.
    const start = this.resumeAfter === null ? 0 : units.findIndex((u) => u.key > (this.resumeAfter ?? ""));
    const ordered = start <= 0 ? units : [...units.slice(start), ...units.slice(0, start)];
    let done = 0;
    const waiting = new Set<number>();
    for (const unit of ordered) {
      // At least one repository per sweep, so a budget below the fixed cost still makes progress.
      if (done > 0 && counter.n >= deps.requestBudget) {
        report.complete = false;
        break;
      }
      const gh = clients.get(unit.installationId);
      if (!gh) continue;
      // The degrade order (src/github/budget, docs/performance.md): when an installation's
      // rate-limit window runs low its sweep waits first, so its PR checks and records keep the
      // rest. Its repositories are reported, not swept; the next sweep resumes before the first.
      const admission = budgetFor(gh)?.admit("sweep");
      if (admission !== undefined && !admission.go) {
        report.complete = false;
        if (!waiting.has(unit.installationId)) {
          waiting.add(unit.installationId);
          report.errors.push({
            where: `installation ${unit.installationId}`,
            message: `sweep waits: ${admission.reason}`,
          });
          deps.log.warn(
            { installation: unit.installationId, reason: admission.reason },
            "reconcile: sweep waits",
          );
        }
        continue;
      }
      try {
        await this.reconcileRepo(gh, unit, report, counter);
      } catch (error) {
        report.errors.push({ where: unit.key, message: messageOf(error) });
        deps.log.warn({ err: error, repository: unit.key }, "reconcile: repository sweep failed");
      }
      report.repositories++;
      report.swept.push(unit.key);
      done++;
      // Past a repository that waited, resuming after this one would skip it until a wrap-around.
      if (waiting.size === 0) this.resumeAfter = unit.key;
    }
    if (report.complete && done === ordered.length) this.resumeAfter = null;
    report.resumeAfter = report.complete ? null : this.resumeAfter;
    report.requests = counter.n;
    report.finishedAt = deps.now().toISOString();
    if (report.complete && report.errors.length === 0)
      deps.metrics.lastSweep.set({}, Math.floor(deps.now().getTime() / 1000));
    deps.metrics.sweepRequests.set({}, counter.n);
    return report;
  }

  private async policyAt(gh: GitHub, repo: RepoRef, sha: string): Promise<Policy | null> {
    const key = `${repo.owner}/${repo.repo}@${sha}`;
    if (this.policies.has(key)) return this.policies.get(key) ?? null;
    const effective = await loadEffectivePolicy(gh, repo, sha);
    const policy = effective?.policy ?? null;
    if (this.policies.size > 10_000) this.policies.clear();
    this.policies.set(key, policy);
    return policy;
  }

  private async reconcileRepo(
    gh: GitHub,
    unit: RepoUnit,
    report: SweepReport,
    counter: { n: number },
  ): Promise<void> {
    const { repo } = unit;
    const refs = new Map<string, string>();
    for (const ref of await listBranchRefs(gh, repo)) refs.set(ref.name, ref.sha);
    const defaultTip = refs.get(unit.defaultBranch);
    if (defaultTip === undefined) return;
    // Which branches are governed: the policy at the default branch's tip names them. Each landing
    // is still judged by the policy in force before it (the push handler reads it).
    const policy = await this.policyAt(gh, repo, defaultTip);
    if (policy === null) return;
    const governed = [...refs.keys()]
      .filter((b) => !b.startsWith(policy.recordRefPrefix) && branchPolicyFor(policy, b) !== null)
      .sort();
    report.governedBranches += governed.length;
    for (const branch of governed) {
      const bp = branchPolicyFor(policy, branch);
      const tip = refs.get(branch);
      if (!bp || tip === undefined) continue;
      const recordRef = `${policy.recordRefPrefix}${bp.environment}`;
      const record = refs.get(recordRef) ?? null;
      try {
        const b = { branch, tip, environment: bp.environment, record, recordRef };
        await this.reconcileBranch(gh, unit, b, report, counter);
        await this.refreshBranch(gh, unit, b, policy.recordRefreshIntervalMs, report, counter);
      } catch (error) {
        report.errors.push({ where: `${unit.key}:${branch}`, message: messageOf(error) });
        this.deps.log.warn({ err: error, repository: unit.key, branch }, "reconcile: branch sweep failed");
      }
    }
    await this.reconcilePulls(gh, unit, policy, report);
  }

  private async sourceOf(
    gh: GitHub,
    repo: RepoRef,
    record: string,
    environment: string,
    refName: string,
  ): Promise<string | null> {
    const known = this.recordSource.get(record);
    if (known !== undefined) return known;
    if (!this.deps.signer) return null;
    const judged = await judgeSha(
      {
        gh,
        repo,
        appId: this.deps.appId,
        refName,
        judge: {
          keyring: [this.deps.signer.key.toPublic().armor()],
          repository: `${repo.owner}/${repo.repo}`,
          environment,
          now: this.deps.now(),
        },
      },
      record,
    );
    const fieldsKey = `${repo.owner}/${repo.repo}:${environment}@${record}`.toLowerCase();
    this.rememberHead(fieldsKey, judged.genuine ? judged.fields : null);
    // A head that is not the app's own record proves nothing: the push handler judges (and
    // restores) the ref when it is handed the tip.
    if (!judged.genuine) return null;
    this.recordSource.set(record, judged.fields.sourceCommit);
    return judged.fields.sourceCommit;
  }

  private async reconcileBranch(
    gh: GitHub,
    unit: RepoUnit,
    b: { branch: string; tip: string; environment: string; record: string | null; recordRef: string },
    report: SweepReport,
    counter: { n: number },
  ): Promise<void> {
    const { deps } = this;
    const { repo } = unit;
    const syncKey = `${unit.key}:${b.branch}`;
    const last = this.branchSync.get(syncKey);
    if (last && last.tip === b.tip && last.record === b.record) return;
    if (!deps.signer) return; // nothing to publish; bypass alerts stay with the push handler's event
    const source =
      b.record === null
        ? null
        : await this.sourceOf(gh, repo, b.record, b.environment, `heads/${b.recordRef}`);
    if (source === b.tip) {
      this.branchSync.set(syncKey, { tip: b.tip, record: b.record });
      return;
    }
    const steps = await this.landingsSince(gh, repo, source, b.tip);
    const appLogin = `${await deps.appSlug()}[bot]`;
    let lastRecord: string | null = b.record;
    for (const step of steps) {
      if (counter.n >= deps.requestBudget) return; // resumes next sweep (nothing remembered)
      // A commit already refused a record (alerted) keeps its alert and gets no record: not again.
      if (source !== null && (await refusedBefore(gh, repo, step.commit, appLogin))) continue;
      const outcome: PushOutcome = await handlePush(
        {
          appId: deps.appId,
          appLogin: () => Promise.resolve(appLogin),
          signer: deps.signer,
          log: deps.log,
          metrics: recordsFrom(deps.metrics, "sweep"),
          // The landing is not fresh: GitHub has long indexed its pull request.
          pullLookupRetryDelaysMs: [],
          maxPublishAttempts: 5,
          now: deps.now,
        },
        gh,
        repo,
        {
          ref: `refs/heads/${b.branch}`,
          before: step.parent ?? ZERO,
          after: step.commit,
          deleted: false,
          pusher: step.pusher,
          defaultBranch: unit.defaultBranch,
        },
      );
      if (outcome.kind === "published") {
        lastRecord = outcome.record;
        this.recordSource.set(outcome.record, step.commit);
        report.published.push({
          repository: unit.key,
          environment: outcome.environment,
          sequence: outcome.sequence,
          record: outcome.record,
          commit: step.commit,
        });
      } else if (outcome.kind === "alerted") {
        report.alerted.push({
          repository: unit.key,
          branch: b.branch,
          commit: step.commit,
          reason: outcome.reason,
        });
      } else if (outcome.kind === "duplicate") {
        lastRecord = outcome.record;
      }
      deps.log.info(
        { repository: unit.key, commit: step.commit, outcome: outcome.kind },
        "reconcile: landing",
      );
    }
    this.branchSync.set(syncKey, { tip: b.tip, record: lastRecord });
  }

  private rememberHead(key: string, fields: RecordFields | null): void {
    if (this.headFields.size > 10_000) this.headFields.clear();
    this.headFields.set(key, fields);
  }

  /**
   * Re-issues the branch's current record when it is older than the refresh interval
   * (refresh.ts). Only a branch this sweep found in sync (its tip and record ref where the sweep
   * read them, nothing published meanwhile), and only a head judged to be the app's genuine record:
   * a forged or tampered head is left to the publisher, which restores it.
   */
  private async refreshBranch(
    gh: GitHub,
    unit: RepoUnit,
    b: { branch: string; tip: string; environment: string; record: string | null; recordRef: string },
    intervalMs: number,
    report: SweepReport,
    counter: { n: number },
  ): Promise<void> {
    const { deps } = this;
    if (!deps.signer || intervalMs <= 0 || b.record === null) return;
    const syncKey = `${unit.key}:${b.branch}`;
    const sync = this.branchSync.get(syncKey);
    if (!sync || sync.tip !== b.tip || sync.record !== b.record) return;
    if (counter.n >= deps.requestBudget) return; // the next sweep refreshes it
    const fieldsKey = `${unit.repo.owner}/${unit.repo.repo}:${b.environment}@${b.record}`.toLowerCase();
    let fields = this.headFields.get(fieldsKey);
    if (fields === undefined) {
      // A record the sweep published itself (it knows its source, not its fields): judge it once.
      this.recordSource.delete(b.record);
      await this.sourceOf(gh, unit.repo, b.record, b.environment, `heads/${b.recordRef}`);
      fields = this.headFields.get(fieldsKey) ?? null;
    }
    if (fields === null) return;
    const outcome = await refreshRecord(
      { signer: deps.signer, now: deps.now, log: deps.log, metrics: deps.metrics },
      gh,
      {
        repo: unit.repo,
        environment: b.environment,
        refName: `heads/${b.recordRef}`,
        head: { sha: b.record, fields },
        intervalMs,
      },
    );
    if (outcome.kind === "refreshed") {
      report.refreshed.push({
        repository: unit.key,
        environment: b.environment,
        sequence: outcome.sequence,
        record: outcome.record,
        refreshes: b.record,
        requests: outcome.requests,
      });
      this.recordSource.set(outcome.record, fields.sourceCommit);
      this.rememberHead(
        `${unit.repo.owner}/${unit.repo.repo}:${b.environment}@${outcome.record}`.toLowerCase(),
        outcome.fields,
      );
      this.branchSync.set(syncKey, { tip: b.tip, record: outcome.record });
    } else if (outcome.kind === "dropped") {
      report.refreshesDropped.push({ repository: unit.key, environment: b.environment, why: outcome.why });
    }
  }

  /**
   * The first-parent landings after `source` up to `tip`, oldest first, with each one's first
   * parent (the tip it replaced). Without a record yet, or when history does not lead back to it
   * (rewritten, or more than MAX_WALK commits), only the tip: the push handler then decides (it
   * alerts a divergence, and publishes up to its own catch-up limit of earlier approved landings).
   */
  private async landingsSince(
    gh: GitHub,
    repo: RepoRef,
    source: string | null,
    tip: string,
  ): Promise<{ commit: string; parent: string | null; pusher: string }[]> {
    if (source !== null) {
      const { data } = await gh.rest.repos.compareCommitsWithBasehead({
        ...repo,
        basehead: `${source}...${tip}`,
        per_page: MAX_WALK,
      });
      if (data.status === "ahead" && data.total_commits <= data.commits.length) {
        const bySha = new Map(data.commits.map((c) => [c.sha, c]));
        const chain: { commit: string; parent: string | null; pusher: string }[] = [];
        for (let at: string | undefined = tip; at !== undefined && at !== source;) {
          const c = bySha.get(at);
          if (!c) break;
          const parent = c.parents[0]?.sha ?? null;
          chain.push({ commit: c.sha, parent, pusher: c.committer?.login ?? c.author?.login ?? "ghost" });
          at = parent ?? undefined;
          if (parent === source) return chain.reverse();
        }
      }
    }
    const { data } = await gh.rest.repos.getCommit({ ...repo, ref: tip });
    // A root commit created the branch: no pull request can have landed it.
    if (source === null && data.parents.length === 0) return [];
    return [
      {
        commit: data.sha,
        parent: data.parents[0]?.sha ?? null,
        pusher: data.committer?.login ?? data.author?.login ?? "ghost",
      },
    ];
  }

  private async reconcilePulls(
    gh: GitHub,
    unit: RepoUnit,
    policy: Policy,
    report: SweepReport,
  ): Promise<void> {
    const { deps } = this;
    const pulls = await gh.paginate(gh.rest.pulls.list, { ...unit.repo, state: "open", per_page: 100 });
    const open = new Set<string>();
    for (const pr of pulls) {
      const key = `${unit.key}#${pr.number}`;
      open.add(key);
      const base = pr.base.ref;
      if (base.startsWith(policy.recordRefPrefix) || branchPolicyFor(policy, base) === null) continue;
      const seen = `${pr.head.sha}@${pr.updated_at}`;
      if (this.pullsSeen.get(key) === seen) continue;
      const why = await this.staleCheck(gh, unit.repo, pr.head.sha, Date.parse(pr.updated_at));
      if (why === "running") continue;
      if (why !== null) {
        report.reevaluated.push({ repository: unit.key, number: pr.number, why });
        try {
          await gatePull(
            {
              appId: deps.appId,
              metrics: deps.metrics,
              timeoutMs: deps.evaluationTimeoutMs,
              log: deps.log,
              appSlug: deps.appSlug,
              recordsEnabled: deps.signer !== null,
            },
            gh,
            { repo: unit.repo, number: pr.number, headSha: pr.head.sha },
          );
        } catch (error) {
          report.errors.push({ where: `${unit.key}#${pr.number}`, message: messageOf(error) });
          continue;
        }
      }
      this.pullsSeen.set(key, seen);
    }
    for (const key of this.pullsSeen.keys())
      if (key.startsWith(`${unit.key}#`) && !open.has(key)) this.pullsSeen.delete(key);
  }

  /**
   * Why the head's pullgate check needs a new evaluation, null when it is current, "running" when
   * an evaluation is under way within its deadline. One request.
   */
  private async staleCheck(
    gh: GitHub,
    repo: RepoRef,
    head: string,
    updatedAt: number,
  ): Promise<string | null> {
    const { data } = await gh.rest.checks.listForRef({
      ...repo,
      ref: head,
      check_name: CHECK_NAME,
      app_id: this.deps.appId,
      filter: "latest",
      per_page: 100,
    });
    const ours = data.check_runs
      .filter((r) => r.app?.id === this.deps.appId && r.head_sha === head)
      .sort((a, b) => b.id - a.id);
    const latest = ours[0];
    if (!latest) return "no pullgate check on the head";
    const started = Date.parse(latest.started_at ?? "");
    if (latest.status !== "completed") {
      const age = this.deps.now().getTime() - started;
      return Number.isNaN(started) || age > this.deps.evaluationTimeoutMs
        ? "the pullgate check is in progress past the evaluation deadline"
        : "running";
    }
    if (!Number.isNaN(updatedAt) && !Number.isNaN(started) && updatedAt >= started)
      return "the pull request changed after its last evaluation (a missed event)";
    return null;
  }
}

/** Every branch tip (and record ref head) of a repository: one request per 100 refs. */
async function listBranchRefs(gh: GitHub, repo: RepoRef): Promise<{ name: string; sha: string }[]> {
  try {
    const refs = await gh.paginate(gh.rest.git.listMatchingRefs, { ...repo, ref: "heads/" });
    return refs
      .filter((r) => r.object.type === "commit")
      .map((r) => ({ name: r.ref.slice("refs/heads/".length), sha: r.object.sha }));
  } catch (error) {
    if (httpStatus(error) === 409) return []; // an empty repository
    throw error;
  }
}

/** The client with each request it sends counted (the sweep's budget). */
function counted(gh: GitHub, counter: { n: number }): GitHub {
  gh.hook.before("request", () => {
    counter.n++;
  });
  return gh;
}

/** An installation's account is a user or org (login) or an enterprise (slug). */
function accountName(account: { login: string } | { slug: string } | null | undefined): string {
  if (!account) return "";
  return "login" in account ? account.login : account.slug;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
