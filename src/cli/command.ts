import type { CliIo } from "./io.js";

/** One CLI command. Modules under commands/ export `command: Command`; main.ts loads only the one invoked. */
export interface Command {
  /** e.g. "owners --codeowners FILE [--json] PATH..." */
  usage: string;
  /** One line for `pullgate --help`. */
  summary: string;
  /** Returns the process exit code (see errors.ts). Throws UsageError / IoError for exit 2. */
  run(argv: string[], io: CliIo): Promise<number>;
}
