import type { Command } from "./command.js";

/**
 * The command table. Each entry loads its module lazily, so `pullgate owners` does not pay for
 * openpgp or Probot. Summaries live here too, so `pullgate --help` loads nothing.
 */
export interface CommandEntry {
  summary: string;
  load: () => Promise<{ command: Command }>;
}

export const commands: Record<string, CommandEntry> = {
  keygen: {
    summary: "Generate the app's record-signing OpenPGP key pair (private.asc, public.asc)",
    load: () => import("./commands/keygen.js"),
  },
  verify: {
    summary: "Fetch and verify the newest approved-revision record of an environment",
    load: () => import("./commands/verify.js"),
  },
  agent: {
    summary: "Pull-based deploy loop: verify each new record, check its tree out, run a command",
    load: () => import("./commands/agent.js"),
  },
};
