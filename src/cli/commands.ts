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
  audit: {
    summary: "Audit (and with --fix, enforce) branch protection of governed branches against the policy",
    load: () => import("./commands/audit.js"),
  },
};
