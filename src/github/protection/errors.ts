import { httpStatus } from "../octokit.js";

/**
 * Why protection facts could not be gathered. `FORBIDDEN`: the token lacks the permission to read
 * (or write) protection; `UNAVAILABLE`: any other API failure. Either way the branch's audit fails
 * closed with the message as its reason.
 */
export type ProtectionFactsErrorCode = "FORBIDDEN" | "UNAVAILABLE";

export class ProtectionFactsError extends Error {
  override readonly name = "ProtectionFactsError";
  constructor(
    readonly code: ProtectionFactsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Turns an Octokit error into a ProtectionFactsError whose message says what was being read and what to do. */
export function factsError(error: unknown, what: string, permission: string): ProtectionFactsError {
  if (error instanceof ProtectionFactsError) return error;
  const status = httpStatus(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (status === 403 || status === 401) {
    return new ProtectionFactsError(
      "FORBIDDEN",
      `cannot read ${what} (HTTP ${status}: ${detail}); the token needs the ${permission} permission`,
    );
  }
  return new ProtectionFactsError(
    "UNAVAILABLE",
    `cannot read ${what} (${status !== undefined ? `HTTP ${status}: ` : ""}${detail})`,
  );
}
