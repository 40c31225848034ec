import type { ProbotOctokit } from "probot";

/** The Octokit the adapter talks through: Probot's (installation-authenticated) or one built for the CLI. */
export type GitHub = ProbotOctokit;

export interface RepoRef {
  owner: string;
  repo: string;
}

/** A fact could not be gathered completely: the evaluation fails closed with this reason. */
export class FactsError extends Error {
  override readonly name = "FactsError";
  /** What the PR's author can do about it, when re-running alone will not help (e.g. split the PR). */
  readonly fix: string | undefined;

  constructor(message: string, options: { fix?: string } = {}) {
    super(message);
    this.fix = options.fix;
  }
}

/** Octokit's RequestError carries `status`; anything else is treated as a transport failure. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error) {
    const status = (error as { status: unknown }).status;
    return typeof status === "number" ? status : undefined;
  }
  return undefined;
}
