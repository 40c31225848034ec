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
  "verify-commit": {
    summary:
      "Verify commit signatures against OpenPGP keys and/or an SSH allowed_signers file, as git verify-commit does",
    load: () => import("./commands/verify-commit.js"),
  },
};
