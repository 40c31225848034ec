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
  sandbox: {
    summary: "Serve a local GitHub emulator (REST API, git smart HTTP, one pre-registered app) until killed",
    load: () => import("./commands/sandbox.js"),
  },
};
