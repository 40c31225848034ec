import { isAbsolute, resolve } from "node:path";
import { agentLoop, agentTick, loadState, type AgentConfig, type TickOutcome } from "../../agent/agent.js";
import { parseDuration } from "../../agent/duration.js";
import { GitCache } from "../../agent/git.js";
import { StateError } from "../../agent/state.js";
import { Workdir } from "../../agent/workdir.js";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { RECORD_TARGET_OPTIONS, recordTargetFrom } from "../record-target.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";

function outcomeJson(outcome: TickOutcome | null): Record<string, unknown> {
  if (outcome === null) return { verified: false, code: null, reason: "stopped before the first check" };
  if (outcome.kind === "refused") return { verified: false, code: outcome.code, reason: outcome.reason };
  const { record } = outcome;
  return {
    verified: true,
    sequence: record.fields.sequence,
    sourceCommit: record.fields.sourceCommit,
    sourceTree: record.fields.sourceTree,
    recordCommit: record.recordCommit,
    deployed: outcome.kind !== "deploy-failed",
    changed: outcome.kind === "deployed",
    ...(outcome.kind === "deploy-failed" ? { reason: outcome.reason } : {}),
  };
}

function exitCodeOf(outcome: TickOutcome | null): number {
  if (outcome === null) return EXIT_OK;
  if (outcome.kind === "refused") return outcome.code === "FETCH_FAILED" ? EXIT_USAGE : EXIT_FAILURE;
  return outcome.kind === "deploy-failed" ? EXIT_FAILURE : EXIT_OK;
}

export const command: Command = {
  usage:
    "agent --repo URL --environment ENV --keys PATH --state FILE --workdir DIR [--interval DUR] [--exec CMD] " +
    "[--max-age DUR] [--repository OWNER/NAME] [--once] [--json]",
  summary:
    "Pull-based deploy loop: fetch, verify, check the verified tree out into DIR, run CMD for each new record",
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      {
        ...RECORD_TARGET_OPTIONS,
        workdir: { type: "string" },
        interval: { type: "string" },
        exec: { type: "string" },
        once: { type: "boolean", default: false },
      },
      false,
    );
    const target = await recordTargetFrom(values, io.cwd);
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
    const stateFile = abs(requireOption(values.state, "state"));
    const workdir = new Workdir(abs(requireOption(values.workdir, "workdir")));
    const intervalMs = parseDuration(values.interval ?? "60s");
    if (intervalMs === null)
      throw new UsageError(
        `--interval ${JSON.stringify(values.interval)} is not a duration like 30s, 15m, 24h`,
      );
    if (values.exec !== undefined && values.exec.trim() === "") throw new UsageError("--exec is empty");

    const env = { ...process.env, ...io.env };
    const config: AgentConfig = {
      ...target,
      stateFile,
      cache: new GitCache(`${stateFile}.git`, env),
      workdir,
      exec: values.exec ?? null,
      env,
      // One line per event, timestamped, on stderr (stdout is kept for the --json document).
      log: (line) => io.stderr(`${new Date().toISOString()} pullgate agent ${target.environment}: ${line}`),
    };

    let outcome: TickOutcome | null;
    try {
      await loadState(config); // a foreign or corrupt state file stops the agent before it fetches
      if (values.once) {
        outcome = await agentTick(config);
      } else {
        const controller = new AbortController();
        const stop = (signal: NodeJS.Signals) => {
          config.log(`${signal} received; stopping after the current step`);
          controller.abort();
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
        config.log(`watching ${target.url} approved/${target.environment} every ${values.interval ?? "60s"}`);
        try {
          outcome = await agentLoop(config, intervalMs, controller.signal);
        } finally {
          process.removeListener("SIGTERM", stop);
          process.removeListener("SIGINT", stop);
        }
        config.log("stopped");
      }
    } catch (error) {
      if (error instanceof StateError) throw new IoError(error.message);
      throw error;
    }
    if (values.json) printJson(io, outcomeJson(outcome));
    return values.once ? exitCodeOf(outcome) : EXIT_OK;
  },
};
