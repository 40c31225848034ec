/**
 * The pull-based deploy loop (`pullgate agent`). One tick: fetch approved/<env>, verify, remember the
 * accepted record, and for a record not yet deployed check its tree out and run --exec; DIR flips to
 * the new tree only when --exec succeeded. Any failure keeps what runs and says so.
 *
 * State semantics: `sequence`/`recordCommit` are the last ACCEPTED record (verified; rollback and
 * replay are measured against it, even if its deployment failed). `deployed` is the last record whose
 * deployment succeeded. A failed --exec is retried on the next tick, for the same record, until it
 * succeeds or a newer record is accepted; a record is never deployed twice once it succeeded.
 */

import { RecordVerificationError, type RecordRefusalCode } from "../record/errors.js";
import type { VerifiedRecord } from "../record/verify.js";
import { runExec } from "./exec.js";
import { fetchAndVerify } from "./fetch-verify.js";
import type { GitCache } from "./git.js";
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
  maxAgeMs: number | null;
  /** Environment for --exec (PULLGATE_* variables are added). */
  env: NodeJS.ProcessEnv;
  /** One line per event; the caller adds the timestamp. */
  log: (line: string) => void;
  now?: () => Date;
}

export type TickOutcome =
  | { kind: "deployed"; record: VerifiedRecord }
  | { kind: "up-to-date"; record: VerifiedRecord }
  | { kind: "refused"; code: RecordRefusalCode; reason: string }
  | { kind: "deploy-failed"; record: VerifiedRecord; reason: string };

function short(sha: string): string {
  return sha.slice(0, 12);
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

export async function agentTick(config: AgentConfig): Promise<TickOutcome> {
  const now = config.now ?? (() => new Date());
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
    });
  } catch (error) {
    if (!(error instanceof RecordVerificationError)) throw error;
    config.log(`REFUSED ${error.code}: ${error.message}; keeping ${running}`);
    return { kind: "refused", code: error.code, reason: error.message };
  }
  const { fields } = record;

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
    config.log(
      `accepted ${fields.environment} #${fields.sequence} record ${short(record.recordCommit)} ` +
        `source ${short(fields.sourceCommit)} (PR #${fields.pullRequest}, approved by ${fields.approvedBy.join(", ")})`,
    );
  }
  if (state === null) throw new Error("unreachable: state is set once a record is accepted");
  if (state.deployed?.recordCommit === record.recordCommit) {
    config.log(`up to date: #${fields.sequence} (${short(record.recordCommit)}) is deployed`);
    return { kind: "up-to-date", record };
  }

  let staged: string;
  try {
    await config.workdir.prepare();
    staged = await config.workdir.stage(config.cache, record.recordCommit, fields.sourceTree);
  } catch (error) {
    const reason = `checkout failed: ${error instanceof Error ? error.message : String(error)}`;
    config.log(`DEPLOY FAILED #${fields.sequence}: ${reason}; keeping ${running}; will retry`);
    return { kind: "deploy-failed", record, reason };
  }

  if (config.exec !== null) {
    config.log(`exec #${fields.sequence} in ${staged}: ${config.exec}`);
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
        PULLGATE_WORKDIR: staged,
      },
      onOutput: (line) => config.log(`  | ${line}`),
    });
    if (!result.ok) {
      await config.workdir.discard(staged);
      const reason =
        result.exitCode === null
          ? `--exec did not complete${result.signal === null ? "" : ` (signal ${result.signal})`}`
          : `--exec exited with ${result.exitCode}`;
      config.log(`DEPLOY FAILED #${fields.sequence}: ${reason}; keeping ${running}; will retry next tick`);
      return { kind: "deploy-failed", record, reason };
    }
  }

  await config.workdir.activate(staged);
  state = {
    ...state,
    deployed: {
      recordCommit: record.recordCommit,
      sequence: fields.sequence,
      deployedAt: now().toISOString(),
    },
  };
  await writeStateAtomic(config.stateFile, state);
  config.log(`deployed #${fields.sequence} (${short(record.recordCommit)}) to ${config.workdir.path}`);
  return { kind: "deployed", record };
}

/**
 * Ticks every intervalMs until `signal` aborts (SIGTERM/SIGINT in the CLI). A tick in progress — an
 * --exec included — finishes before the loop stops. Returns the last outcome.
 */
export async function agentLoop(
  config: AgentConfig,
  intervalMs: number,
  signal: AbortSignal,
): Promise<TickOutcome | null> {
  let last: TickOutcome | null = null;
  while (!signal.aborted) {
    try {
      last = await agentTick(config);
    } catch (error) {
      if (error instanceof StateError) throw error;
      config.log(`ERROR ${error instanceof Error ? error.message : String(error)}; will retry`);
    }
    await sleep(intervalMs, signal);
  }
  return last;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
