/** Exit codes of the CLI contract (docs/architecture.md, "CLI contract"). */
export const EXIT_OK = 0;
/** A verdict of failure: unverified, policy errors, drift. */
export const EXIT_FAILURE = 1;
/** Usage or I/O error. */
export const EXIT_USAGE = 2;

// Defined below the agent, which raises them too; every command imports them from here.
export { IoError, UsageError } from "../errors.js";
