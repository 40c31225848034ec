/**
 * The agent's Prometheus series (`pullgate agent --metrics-port`), one per outcome so an alert can be
 * written without parsing logs: refusals by code, deploy failures, and the age of the newest accepted
 * record (time() - pullgate_agent_record_issued_timestamp_seconds is the freeze alarm).
 */

import { Metrics } from "../metrics.js";

export function agentMetrics(environment: string, registry = new Metrics()) {
  const env = { environment };
  const ticks = registry.counter(
    "pullgate_agent_ticks_total",
    "Agent ticks, by outcome (deployed, up-to-date, unchanged-tree, refused, deploy-failed, deferred, error).",
  );
  const refusals = registry.counter("pullgate_agent_refusals_total", "Records refused, by code.");
  const execs = registry.counter(
    "pullgate_agent_exec_total",
    "--exec runs, by result (ok, failed, timeout, stopped).",
  );
  const lastOutcome = registry.gauge(
    "pullgate_agent_last_outcome_timestamp_seconds",
    "When each outcome last happened (Unix time).",
  );
  const accepted = registry.gauge(
    "pullgate_agent_accepted_sequence",
    "Sequence of the last accepted record.",
  );
  const deployed = registry.gauge(
    "pullgate_agent_deployed_sequence",
    "Sequence of the last deployed record.",
  );
  const issued = registry.gauge(
    "pullgate_agent_record_issued_timestamp_seconds",
    "Pullgate-Issued-At of the last verified record (Unix time).",
  );
  const failures = registry.gauge(
    "pullgate_agent_consecutive_deploy_failures",
    "Deploy failures in a row for the pending tree (0 after a success).",
  );
  return {
    registry,
    tick(outcome: string, now: Date) {
      ticks.inc({ ...env, outcome });
      lastOutcome.set({ ...env, outcome }, Math.floor(now.getTime() / 1000));
    },
    refused: (code: string) => refusals.inc({ ...env, code }),
    exec: (result: string) => execs.inc({ ...env, result }),
    accepted: (sequence: number) => accepted.set(env, sequence),
    deployed: (sequence: number) => deployed.set(env, sequence),
    issued: (at: Date) => issued.set(env, Math.floor(at.getTime() / 1000)),
    failures: (count: number) => failures.set(env, count),
  };
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;
