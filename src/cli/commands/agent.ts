import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, isAbsolute, resolve } from "node:path";
import { agentLoop, agentTick, loadState, type AgentConfig, type TickOutcome } from "../../agent/agent.js";
import { ExecBackoff } from "../../agent/backoff.js";
import { formatDuration, parseDuration } from "../../agent/duration.js";
import { DEFAULT_GIT_LIMITS, GitCache } from "../../agent/git.js";
import { formatLogLine, type AgentLog, type LogFormat } from "../../agent/log.js";
import { agentMetrics, type AgentMetrics } from "../../agent/metrics.js";
import { StateError } from "../../agent/state.js";
import { Workdir } from "../../agent/workdir.js";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { RECORD_TARGET_OPTIONS, recordTargetFrom } from "../record-target.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";

/**
 * 15 minutes: an apply that waits for rollouts (`kubectl apply && kubectl rollout status`, helm
 * --wait at its 5m default, twice over) fits; a hung one is cut well inside the 50h freshness window,
 * so the next record can still be deployed the same day. See docs/agents.md, "Stopping the agent".
 */
const DEFAULT_EXEC_TIMEOUT = "15m";
/**
 * 20 seconds, plus KILL_AFTER_MS (5 s) from SIGTERM to SIGKILL of the --exec group: 25 s, inside
 * Kubernetes' default terminationGracePeriodSeconds (30 s) and systemd's TimeoutStopSec (90 s), so the
 * agent, not the kubelet, ends its child and records the outcome.
 */
const DEFAULT_SHUTDOWN_GRACE = "20s";
/** The backoff of a failing --exec never waits longer than this (or --interval when larger). */
const BACKOFF_CAP_MS = 15 * 60_000;

function outcomeJson(outcome: TickOutcome | null): Record<string, unknown> {
  if (outcome === null) return { verified: false, code: null, reason: "stopped before the first check" };
  if (outcome.kind === "refused") return { verified: false, code: outcome.code, reason: outcome.reason };
  if (outcome.kind === "error") return { verified: false, code: null, reason: outcome.reason };
  const { record } = outcome;
  const deployed =
    outcome.kind === "deployed" || outcome.kind === "up-to-date" || outcome.kind === "unchanged-tree";
  return {
    verified: true,
    sequence: record.fields.sequence,
    sourceCommit: record.fields.sourceCommit,
    sourceTree: record.fields.sourceTree,
    recordCommit: record.recordCommit,
    deployed,
    changed: outcome.kind === "deployed",
    outcome: outcome.kind,
    // Present only on marked records (docs/agents.md): the document of a normal record is unchanged.
    ...(record.fields.breakGlass === undefined
      ? {}
      : { breakGlass: { approvedBy: [...record.fields.breakGlass.approvedBy] } }),
    ...(record.fields.promotedFrom === undefined ? {} : { promotedFrom: { ...record.fields.promotedFrom } }),
    ...(outcome.kind === "deploy-failed" || outcome.kind === "deferred" ? { reason: outcome.reason } : {}),
  };
}

/** 0 deployed / up to date / nothing new; 1 refused, deploy failed or held back; 2 fetch or I/O error. */
export function exitCodeOf(outcome: TickOutcome | null): number {
  if (outcome === null) return EXIT_OK;
  switch (outcome.kind) {
    case "refused":
      return outcome.code === "FETCH_FAILED" ? EXIT_USAGE : EXIT_FAILURE;
    case "error":
      return EXIT_USAGE;
    case "deploy-failed":
    case "deferred":
      return EXIT_FAILURE;
    default:
      return EXIT_OK;
  }
}

function durationOption(name: string, value: string | undefined, fallback: string): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === null)
    throw new UsageError(`--${name} ${JSON.stringify(value)} is not a duration like 30s, 15m, 1h`);
  return ms;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolveListen(server.address() as AddressInfo);
    });
  });
}

function serveMetrics(metrics: AgentMetrics): Server {
  return createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/metrics" || req.url?.startsWith("/metrics?") === true)) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(metrics.registry.render());
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
}

export const command: Command = {
  usage:
    "agent --repo URL --environment ENV --keys PATH --workdir DIR [--state FILE] [--interval DUR] [--exec CMD] " +
    "[--exec-timeout DUR] [--shutdown-grace DUR] [--git-timeout DUR] [--max-age DUR|none] [--refresh-interval DUR] " +
    "[--repository OWNER/NAME] [--refuse-break-glass] [--log-format text|json] [--metrics-port N] [--metrics-host ADDR] [--once] [--json]",
  summary:
    "Pull-based deploy loop: fetch, verify, check the verified tree out into DIR, run CMD for each new tree",
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      {
        ...RECORD_TARGET_OPTIONS,
        workdir: { type: "string" },
        interval: { type: "string" },
        exec: { type: "string" },
        "exec-timeout": { type: "string" },
        "shutdown-grace": { type: "string" },
        "git-timeout": { type: "string" },
        "log-format": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        once: { type: "boolean", default: false },
      },
      false,
    );
    const target = await recordTargetFrom(values, io.cwd);
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
    const workdir = new Workdir(abs(requireOption(values.workdir, "workdir")));
    // Default state beside the workdir's versions: it must live as long as the workdir does.
    const stateFile = values.state === undefined ? workdir.defaultStateFile : abs(values.state);
    const interval = values.interval ?? "60s";
    const intervalMs = durationOption("interval", values.interval, "60s");
    const execTimeoutMs = durationOption("exec-timeout", values["exec-timeout"], DEFAULT_EXEC_TIMEOUT);
    const shutdownGraceMs = durationOption(
      "shutdown-grace",
      values["shutdown-grace"],
      DEFAULT_SHUTDOWN_GRACE,
    );
    const gitTimeoutMs = durationOption(
      "git-timeout",
      values["git-timeout"],
      formatDuration(DEFAULT_GIT_LIMITS.timeoutMs),
    );
    if (values.exec !== undefined && values.exec.trim() === "") throw new UsageError("--exec is empty");
    const logFormat = values["log-format"] ?? "text";
    if (logFormat !== "text" && logFormat !== "json")
      throw new UsageError(`--log-format ${JSON.stringify(logFormat)} is not text or json`);
    let metricsPort: number | null = null;
    if (values["metrics-port"] !== undefined) {
      metricsPort = /^[0-9]{1,5}$/.test(values["metrics-port"]) ? Number(values["metrics-port"]) : NaN;
      if (!(metricsPort >= 0 && metricsPort <= 65535))
        throw new UsageError(`--metrics-port ${JSON.stringify(values["metrics-port"])} is not a port number`);
    }

    const shutdown = new AbortController();
    const urgent = new AbortController();
    const env = { ...process.env, ...io.env };
    // One line per event on stderr (stdout is kept for the --json document).
    const log: AgentLog = (event) =>
      io.stderr(formatLogLine(logFormat as LogFormat, target.environment, new Date(), event));
    const metrics = agentMetrics(target.environment);
    const config: AgentConfig = {
      ...target,
      stateFile,
      cache: new GitCache(`${stateFile}.git`, env, {
        ...DEFAULT_GIT_LIMITS,
        timeoutMs: gitTimeoutMs,
        signal: shutdown.signal,
      }),
      workdir,
      exec: values.exec ?? null,
      execTimeoutMs,
      shutdownGraceMs,
      shutdown: shutdown.signal,
      urgent: urgent.signal,
      env,
      log,
      metrics,
    };

    // The shutdown contract (docs/agents.md, "Stopping the agent"): the first SIGTERM/SIGINT stops
    // fetching at once and gives a running --exec the grace period; a second one kills the --exec's
    // group now. The handlers stay installed until the end: Node's default handler must never kill
    // the agent mid-apply and orphan its child.
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        log({
          level: "warn",
          event: "stopping",
          message:
            `${signal} received; stopping: a running --exec gets ${formatDuration(shutdownGraceMs)} to ` +
            "finish (a second signal kills it now)",
        });
        shutdown.abort();
      } else {
        log({
          level: "warn",
          event: "stopping",
          message: `${signal} received again; killing a running --exec's process group, then stopping`,
        });
        urgent.abort();
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);

    let server: Server | null = null;
    let outcome: TickOutcome | null;
    try {
      await loadState(config); // a foreign or corrupt state file stops the agent before it fetches
      if (values.state === undefined) await mkdir(dirname(stateFile), { recursive: true });
      log({ level: "info", event: "start", message: `${target.maxAgeNote}; state ${stateFile}` });
      if (target.maxAgeSource === "none")
        log({ level: "warn", event: "max-age-off", message: target.maxAgeNote });
      if (!existsSync(stateFile)) {
        // Cannot tell a first start from a lost state file: say so every time (docs/agents.md, "State").
        log({
          level: "warn",
          event: "first-start",
          message:
            `WARNING: FIRST START: no state file at ${stateFile}; the newest genuine record will be ` +
            "accepted without rollback protection. If this agent ran before, its state was lost: keep " +
            "the state on persistent storage (not an emptyDir)" +
            (target.maxAgeMs === null
              ? ", and with --max-age none ANY older genuine record could be served now"
              : `; a record older than ${formatDuration(target.maxAgeMs)} is still refused`),
        });
      }
      if (metricsPort !== null) {
        server = serveMetrics(metrics);
        const host = values["metrics-host"] ?? "127.0.0.1";
        const address = await listen(server, metricsPort, host).catch((error: unknown) => {
          server = null;
          throw new IoError(
            `cannot serve metrics on ${host}:${metricsPort}: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
        log({
          level: "info",
          event: "metrics",
          message: `metrics on http://${address.address}:${address.port}/metrics`,
          fields: { port: address.port },
        });
      }
      if (values.once) {
        outcome = await agentTick(config);
      } else {
        log({
          level: "info",
          event: "watching",
          message: `watching ${target.url} approved/${target.environment} every ${interval}`,
        });
        const backoff = new ExecBackoff(intervalMs, Math.max(intervalMs, BACKOFF_CAP_MS));
        outcome = await agentLoop(config, intervalMs, backoff);
        log({
          level: "info",
          event: "stopped",
          message: `stopped (last outcome: ${outcome?.kind ?? "none"})`,
        });
      }
    } catch (error) {
      if (error instanceof StateError) throw new IoError(error.message);
      throw error;
    } finally {
      process.removeListener("SIGTERM", onSignal);
      process.removeListener("SIGINT", onSignal);
      if (server !== null) {
        server.closeAllConnections();
        server.close();
      }
    }
    if (values.json) printJson(io, outcomeJson(outcome));
    return exitCodeOf(outcome);
  },
};
