import type { ProbotOctokit } from "probot";
import { cachingFetch, type HttpCacheStore } from "./http-cache/index.js";
import type { ApiBudget } from "./budget/index.js";

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

/** At most this many retries of one request after a secondary rate limit (docs/operations.md, "Rate limits"). */
export const SECONDARY_LIMIT_RETRIES = 2;
/** A `retry-after` longer than this is not waited out: the evaluation fails closed instead. */
export const SECONDARY_LIMIT_MAX_WAIT_S = 60;

/**
 * Octokit's throttling plugin asks this whether to retry a request GitHub answered with a
 * secondary rate limit (403 or 429 whose message says "secondary rate limit"; `retryAfter` is
 * its `retry-after` header in seconds, 60 when absent). Probot's own handler only logs and never
 * retries, so one such answer on any read failed the whole evaluation (closed, but for nothing).
 * GitHub asks clients to wait `retry-after` and try again: pullgate does, a bounded number of times
 * and only for a bounded wait, so a persistent limit still ends in a failing check with the reason,
 * never in a pass.
 */
export function retryAfterSecondaryLimit(retryAfter: number, retryCount: number): boolean {
  return retryCount < SECONDARY_LIMIT_RETRIES && retryAfter <= SECONDARY_LIMIT_MAX_WAIT_S;
}

/** What every GitHub request of the server goes through besides Octokit's own plugins. */
export interface RequestPlumbing {
  /** Conditional-request cache (src/github/http-cache); undefined = none. */
  cache?: HttpCacheStore;
  /** Rate-limit figures of every response, per scope (src/github/budget). */
  budget?: ApiBudget;
  /** Counts the cache's outcomes (metrics). */
  onCache?: (outcome: "hit" | "miss" | "stored") => void;
}

/**
 * The `fetch` of one Octokit instance speaking for `scope` (`installation:<id>` or `app`): its GETs
 * are conditional through the cache (keyed by the credential, so scopes never share a body) and
 * every response's rate-limit headers reach the budget.
 */
export function plumbedFetch(base: typeof fetch, plumbing: RequestPlumbing, scope: string): typeof fetch {
  const budget = plumbing.budget;
  return cachingFetch(base, {
    ...(plumbing.cache !== undefined ? { store: plumbing.cache } : {}),
    ...(plumbing.onCache !== undefined ? { onCache: plumbing.onCache } : {}),
    ...(budget !== undefined
      ? { observe: (_status: number, headers: Headers) => budget.observe(scope, headers) }
      : {}),
  });
}
