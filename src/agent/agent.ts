/**
 * The pull-based deploy loop (`pullgate agent`). One tick: fetch approved/<env>, verify, remember the
 * accepted record, and for a record whose tree is not yet deployed check it out and run --exec; DIR
 * flips to the new tree only when --exec succeeded. Any failure keeps what runs and says so.
 *
 * State semantics: `sequence`/`recordCommit` are the last ACCEPTED record (verified; rollback and
 * replay are measured against it, even if its deployment failed). `deployed` is the last record whose
 * tree runs. A newly accepted record with the tree that already runs (the app's periodic refresh
 * record, or any other record with that tree) is proof of freshness only: it advances the state and
 * `deployed`, with no checkout and no --exec (docs/agents.md, "Nothing new to deploy"). A failed
 * --exec is retried with backoff (backoff.ts) until it succeeds or a record with another tree is
 * accepted; a tree is never deployed twice in a row once it succeeded.
 */

import { RecordVerificationError, type RecordRefusalCode } from "../record/errors.js";
import { parseIssuedAt, type RecordFields } from "../record/format.js";
import type { VerifiedRecord } from "../record/verify.js";
import type { ExecBackoff } from "./backoff.js";
import { formatDuration } from "./duration.js";
import { runExec } from "./exec.js";
import { fetchAndVerify } from "./fetch-verify.js";
import type { GitCache } from "./git.js";
import type { AgentLog } from "./log.js";
import type { AgentMetrics } from "./metrics.js";
import { readState, StateError, writeStateAtomic, type AgentState } from "./state.js";
import type { Workdir } from "./workdir.js";

export interface AgentConfig {
  url: string;
  repository: string;
  environment: string;
  keyring: string[];
  stateFile: string;
  cache: GitCache;
  workdir: Workdir;
  exec: string | null;
  /** Hard bound on one --exec run (its group is then killed). */
  execTimeoutMs: number;
  /** After the first SIGTERM/SIGINT, how long a running --exec may take to finish. */
  shutdownGraceMs: number;
  /** Aborted on the first SIGTERM/SIGINT; git children die at once, --exec gets the grace period. */
  shutdown?: AbortSignal | undefined;
  /** Aborted on a second signal: a running --exec's group is killed now. */
  urgent?: AbortSignal | undefined;
  maxAgeMs: number | null;
  /** `--refuse-break-glass`: never deploy a record marked break-glass. */
  refuseBreakGlass?: boolean;
  /** Environment for --exec (PULLGATE_* variables are added). */
  env: NodeJS.ProcessEnv;
  log: AgentLog;
  metrics?: AgentMetrics | undefined;
  now?: () => Date;
}

export type TickOutcome =
  | { kind: "deployed"; record: VerifiedRecord }
  | { kind: "up-to-date"; record: VerifiedRecord }
  /** Accepted; its tree already runs: no checkout, no --exec. */
  | { kind: "unchanged-tree"; record: VerifiedRecord }
  | { kind: "refused"; code: RecordRefusalCode; reason: string }
  | { kind: "deploy-failed"; record: VerifiedRecord; reason: string }
  /** Accepted, not deployed: the backoff after failures, or a shutdown, holds the deploy back. */
  | { kind: "deferred"; record: VerifiedRecord; reason: string; byShutdown?: true }
  /** An unexpected error (not a refusal) ended the tick. */
  | { kind: "error"; reason: string };

function short(sha: string): string {
  return sha.slice(0, 12);
}

/** The record's marks as the log says them: loudly for break-glass (docs/agents.md). */
export function describeMarks(fields: RecordFields): string {
  let text = "";
  if (fields.breakGlass !== undefined) {
    text += `; BREAK-GLASS: passed without the rules it did not satisfy, on the approvals of ${fields.breakGlass.approvedBy.map((l) => `@${l}`).join(", ")}`;
  }
  if (fields.promotedFrom !== undefined) {
    const from = fields.promotedFrom;
    text += `; promoted from ${from.environment} #${from.sequence} (${short(from.recordCommit)})`;
  }
  return text;
}

/** The marks as structured log fields (absent keys for a normal record). */
export function markFields(fields: RecordFields): Record<string, string | number | boolean> {
  return {
    ...(fields.breakGlass === undefined
      ? {}
      : { breakGlass: true, breakGlassApprovedBy: fields.breakGlass.approvedBy.join(",") }),
    ...(fields.promotedFrom === undefined
      ? {}
      : {
          promotedFrom: fields.promotedFrom.environment,
          promotedFromSequence: fields.promotedFrom.sequence,
          promotedFromRecord: fields.promotedFrom.recordCommit,
        }),
  };
}

export async function loadState(config: AgentConfig): Promise<AgentState | null> {
  const state = await readState(config.stateFile);
  if (
    state !== null &&
    (state.repository !== config.repository || state.environment !== config.environment)
  ) {
    throw new StateError(
      `state file ${config.stateFile} belongs to ${state.repository} ${state.environment}, not ` +
        `${config.repository} ${config.environment}`,
    );
  }
  return state;
}

/** The tree that runs now, or null when nothing runs or the workdir no longer shows it. */
async function runningTree(config: AgentConfig, state: AgentState): Promise<string | null> {
  const deployed = state.deployed;
  if (deployed === undefined || (await config.workdir.active()) === null) return null;
  if (deployed.sourceTree !== undefined) return deployed.sourceTree;
  // A state file from before `deployed.sourceTree`: a record's tree is its source tree.
  try {
    return await config.cache.treeOf(deployed.recordCommit);
  } catch {
    return null;
  }
}

export async function agentTick(config: AgentConfig, backoff?: ExecBackoff): Promise<TickOutcome> {
  const outcome = await tick(config, backoff);
  const m = config.metrics;
  if (m !== undefined) {
    m.tick(outcome.kind, (config.now ?? (() => new Date()))());
    if (outcome.kind === "refused") m.refused(outcome.code);
    if ("record" in outcome) {
      m.accepted(outcome.record.fields.sequence);
      const issued = parseIssuedAt(outcome.record.fields.issuedAt);
      if (issued !== null) m.issued(new Date(issued));
    }
    if (outcome.kind === "deployed" || outcome.kind === "unchanged-tree" || outcome.kind === "up-to-date")
      m.deployed(outcome.record.fields.sequence);
    if (backoff !== undefined) m.failures(backoff.consecutiveFailures);
  }
  return outcome;
}

async function tick(config: AgentConfig, backoff: ExecBackoff | undefined): Promise<TickOutcome> {
  const now = config.now ?? (() => new Date());
  const log = config.log;
  let state = await loadState(config);
  const running = state?.deployed
    ? `#${state.deployed.sequence} (${short(state.deployed.recordCommit)})`
    : "nothing";

  let record: VerifiedRecord;
  try {
    record = await fetchAndVerify({
      cache: config.cache,
      url: config.url,
      repository: config.repository,
      environment: config.environment,
      keyring: config.keyring,
      lastAccepted: state === null ? null : { sequence: state.sequence, recordCommit: state.recordCommit },
      now: now(),
      maxAgeMs: config.maxAgeMs,
      refuseBreakGlass: config.refuseBreakGlass === true,
    });
  } catch (error) {
    if (!(error instanceof RecordVerificationError)) throw error;
    log({
      level: "error",
      event: "refused",
      message: `REFUSED ${error.code}: ${error.message}; keeping ${running}`,
      fields: { code: error.code },
    });
    return { kind: "refused", code: error.code, reason: error.message };
  }
  const { fields } = record;
  const recordFields = {
    sequence: fields.sequence,
    recordCommit: record.recordCommit,
    sourceTree: fields.sourceTree,
  };

  if (!record.unchanged) {
    state = {
      repository: config.repository,
      environment: config.environment,
      sequence: fields.sequence,
      recordCommit: record.recordCommit,
      sourceCommit: fields.sourceCommit,
      sourceTree: fields.sourceTree,
      acceptedAt: now().toISOString(),
      ...(state?.deployed === undefined ? {} : { deployed: state.deployed }),
    };
    await writeStateAtomic(config.stateFile, state);
    log({
      level: "info",
      event: "accepted",
      message:
        `accepted ${fields.environment} #${fields.sequence} record ${short(record.recordCommit)} ` +
        `source ${short(fields.sourceCommit)} (PR #${fields.pullRequest}, approved by ${fields.approvedBy.join(", ")})` +
        describeMarks(fields),
      fields: { ...recordFields, ...markFields(fields) },
    });
  }
  if (state === null) throw new Error("unreachable: state is set once a record is accepted");
  if (state.deployed?.recordCommit === record.recordCommit) {
    log({
      level: "info",
      event: "up-to-date",
      message: `up to date: #${fields.sequence} (${short(record.recordCommit)}) is deployed`,
      fields: recordFields,
    });
    return { kind: "up-to-date", record };
  }

  // Same tree as what runs: nothing new to deploy, whatever kind of record this is.
  const deployedBefore = state.deployed;
  if (deployedBefore !== undefined && (await runningTree(config, state)) === fields.sourceTree) {
    state = {
      ...state,
      deployed: {
        recordCommit: record.recordCommit,
        sequence: fields.sequence,
        deployedAt: deployedBefore.deployedAt,
        sourceTree: fields.sourceTree,
      },
    };
    await writeStateAtomic(config.stateFile, state);
    backoff?.succeeded();
    log({
      level: "info",
      event: "unchanged-tree",
      message:
        `nothing new to deploy: #${fields.sequence} (${short(record.recordCommit)}) has the tree of ` +
        `#${deployedBefore.sequence} (${short(deployedBefore.recordCommit)}) that runs; no checkout, no --exec`,
      fields: recordFields,
    });
    return { kind: "unchanged-tree", record };
  }

  if (config.shutdown?.aborted) {
    return stoppedBeforeDeploy(config, record, "not started");
  }
  const retryAt = backoff?.retryAt(fields.sourceTree, now().getTime()) ?? null;
  if (retryAt !== null) {
    const reason =
      `after ${backoff?.consecutiveFailures ?? 0} failed attempt(s), next retry at ` +
      new Date(retryAt).toISOString();
    log({
      level: "warn",
      event: "deferred",
      message: `deploy of #${fields.sequence} deferred: ${reason}; keeping ${running}`,
      fields: recordFields,
    });
    return { kind: "deferred", record, reason };
  }

  const failed = (reason: string): TickOutcome => {
    const delay = backoff?.failed(fields.sourceTree, now().getTime());
    log({
      level: "error",
      event: "deploy-failed",
      message:
        `DEPLOY FAILED #${fields.sequence}: ${reason}; keeping ${running}; will retry ` +
        (delay === undefined ? "next tick" : `in ${formatDuration(delay)}`),
      fields: { ...recordFields, reason },
    });
    return { kind: "deploy-failed", record, reason };
  };

  let staged: string;
  try {
    await config.workdir.prepare();
    staged = await config.workdir.stage(config.cache, record.recordCommit, fields.sourceTree);
  } catch (error) {
    // A checkout whose git was killed by the shutdown did not fail: it was not finished.
    if (config.shutdown?.aborted) return stoppedBeforeDeploy(config, record, "checkout interrupted");
    return failed(`checkout failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (config.exec !== null) {
    log({
      level: "info",
      event: "exec",
      message: `exec #${fields.sequence} in ${staged}: ${config.exec}`,
      fields: recordFields,
    });
    const result = await runExec(config.exec, {
      cwd: staged,
      env: {
        ...config.env,
        PULLGATE_REPOSITORY: fields.repository,
        PULLGATE_ENVIRONMENT: fields.environment,
        PULLGATE_SEQUENCE: String(fields.sequence),
        PULLGATE_RECORD_COMMIT: record.recordCommit,
        PULLGATE_SOURCE_COMMIT: fields.sourceCommit,
        PULLGATE_SOURCE_TREE: fields.sourceTree,
        PULLGATE_PULL_REQUEST: String(fields.pullRequest),
        // "1" for a break-glass record, so a deploy step can page someone or refuse on its own.
        PULLGATE_BREAK_GLASS: fields.breakGlass === undefined ? "0" : "1",
        PULLGATE_WORKDIR: staged,
      },
      onOutput: (line) => log({ level: "info", event: "exec-output", message: `  | ${line}` }),
      timeoutMs: config.execTimeoutMs,
      graceMs: config.shutdownGraceMs,
      shutdown: config.shutdown,
      urgent: config.urgent,
    });
    if (!result.ok) {
      config.metrics?.exec(
        result.killedFor === null
          ? "failed"
          : result.killedFor.startsWith("timed out")
            ? "timeout"
            : "stopped",
      );
      await config.workdir.discard(staged);
      const reason =
        result.killedFor !== null
          ? `--exec ${result.killedFor}`
          : result.exitCode === null
            ? `--exec did not complete${result.signal === null ? "" : ` (signal ${result.signal})`}`
            : `--exec exited with ${result.exitCode}`;
      return failed(reason);
    }
    config.metrics?.exec("ok");
  }

  await config.workdir.activate(staged);
  state = {
    ...state,
    deployed: {
      recordCommit: record.recordCommit,
      sequence: fields.sequence,
      deployedAt: now().toISOString(),
      sourceTree: fields.sourceTree,
    },
  };
  await writeStateAtomic(config.stateFile, state);
  backoff?.succeeded();
  log({
    level: "info",
    event: "deployed",
    message: `deployed #${fields.sequence} (${short(record.recordCommit)}) to ${config.workdir.path}`,
    fields: recordFields,
  });
  return { kind: "deployed", record };
}

function stoppedBeforeDeploy(config: AgentConfig, record: VerifiedRecord, what: string): TickOutcome {
  const reason = "the agent is stopping; the deploy is left for the next start";
  config.log({
    level: "warn",
    event: "deferred",
    message: `deploy of #${record.fields.sequence} ${what}: ${reason}`,
  });
  return { kind: "deferred", record, reason, byShutdown: true };
}

/**
 * Ticks every intervalMs until config.shutdown aborts (SIGTERM/SIGINT in the CLI). A running --exec
 * gets the shutdown grace period; a fetch is cut at once. Returns the last outcome, which sets the
 * exit status: what the shutdown itself cut short is not an outcome (the one before it stands).
 */
export async function agentLoop(
  config: AgentConfig,
  intervalMs: number,
  backoff?: ExecBackoff,
): Promise<TickOutcome | null> {
  const signal = config.shutdown;
  // A function, not a narrowed property: the signal aborts while a tick awaits.
  const stopping = () => signal?.aborted === true;
  let last: TickOutcome | null = null;
  while (!stopping()) {
    let outcome: TickOutcome;
    try {
      outcome = await agentTick(config, backoff);
    } catch (error) {
      if (error instanceof StateError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      config.log({ level: "error", event: "error", message: `ERROR ${reason}; will retry` });
      config.metrics?.tick("error", (config.now ?? (() => new Date()))());
      outcome = { kind: "error", reason };
    }
    // What only the shutdown caused (a killed fetch or git read, a deploy not started) is not an
    // outcome; a refusal of the record itself, or an --exec stopped after its grace period, is.
    const cutByShutdown =
      stopping() &&
      ((outcome.kind === "refused" && outcome.code === "FETCH_FAILED") ||
        outcome.kind === "error" ||
        (outcome.kind === "deferred" && outcome.byShutdown === true));
    if (!cutByShutdown) last = outcome;
    await sleep(intervalMs, signal);
  }
  return last;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
