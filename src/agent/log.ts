/**
 * The agent's log: one structured event per line (docs/agents.md, "Logs and metrics"). `text` keeps
 * the historical "<time> pullgate agent <env>: <message>" shape; `json` prints one object per line for
 * log pipelines. Either way a message is ONE physical line: git's multi-line errors are joined, so a
 * log shipper never splits one event into several.
 */

import { oneLine } from "./git.js";

export type LogLevel = "info" | "warn" | "error";

export interface LogEvent {
  level: LogLevel;
  /** A stable name: accepted, deployed, unchanged-tree, refused, deploy-failed, exec-output, ... */
  event: string;
  message: string;
  fields?: Record<string, string | number | boolean | null>;
}

export type AgentLog = (event: LogEvent) => void;

export type LogFormat = "text" | "json";

export function formatLogLine(format: LogFormat, environment: string, time: Date, event: LogEvent): string {
  // Output lines of --exec keep their leading spaces ("  | ..."); everything else is trimmed.
  const message =
    event.event === "exec-output" ? event.message.replace(/[\r\n]+/g, " ") : oneLine(event.message);
  if (format === "json") {
    return JSON.stringify({
      time: time.toISOString(),
      level: event.level,
      event: event.event,
      environment,
      message,
      ...event.fields,
    });
  }
  return `${time.toISOString()} pullgate agent ${environment}: ${message}`;
}
