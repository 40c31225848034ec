/** Exit codes of the CLI contract (DESIGN.md §6). */
export const EXIT_OK = 0;
/** A verdict of failure: unverified, policy errors, drift. */
export const EXIT_FAILURE = 1;
/** Usage or I/O error. */
export const EXIT_USAGE = 2;

/** Bad arguments: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A file could not be read or written, a repository could not be reached: exit 2. */
export class IoError extends Error {
  override readonly name = "IoError";
}
