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
  policy: {
    summary:
      "Policy files: `policy lint FILE...` checks them, `policy show FILE` prints the effective policy",
    load: () => import("./commands/policy.js"),
  },
};
