/**
 * Errors any layer under the CLI may raise about what it was asked to do (docs/architecture.md,
 * "Layers": this module sits below the agent and the CLI). The CLI maps them to exit code 2
 * (src/cli/errors.ts, src/cli/main.ts).
 */

/** Bad arguments: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A file could not be read or written, a repository could not be reached: exit 2. */
export class IoError extends Error {
  override readonly name = "IoError";
}
