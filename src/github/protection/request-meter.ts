import type { GitHub } from "../octokit.js";
import { readRateLimit, type RateLimitSnapshot } from "../budget/index.js";

/** Counts the requests an audit run makes and remembers what GitHub says about the rate limit. */
export interface RequestMeter {
  readonly count: number;
  /** `x-ratelimit-remaining` of the latest response, null before any. */
  readonly rateLimitRemaining: number | null;
  /** `x-ratelimit-reset` (epoch seconds) of the latest response. */
  readonly rateLimitReset: number | null;
  /** The latest response's rate-limit figures (limit included), for the budget's admission. */
  readonly rateLimit: RateLimitSnapshot | undefined;
  /** Removes the hooks; call once the run is over. */
  stop(): void;
}

export interface MeterOptions {
  /**
   * Answer repeated GETs under `/repos/{org}/.github/` from memory during the run. The org policy
   * is read by every repository's policy load; within one run it is one snapshot, read once.
   */
  memoizeOrgPolicyRepo?: string;
}

type RequestFn = (options: Parameters<GitHub["request"]>[1]) => Promise<unknown>;

/**
 * Hooks `gh` to count its requests. The counting hook sits outside Octokit's retry and throttling
 * plugins, so it counts requests asked for (a request retried after a 5xx counts once); the
 * memoizing hook sits outside the counter, so answers from memory are not counted.
 */
export function countRequests(gh: GitHub, options: MeterOptions = {}): RequestMeter {
  const state = {
    count: 0,
    remaining: null as number | null,
    reset: null as number | null,
    snapshot: undefined as RateLimitSnapshot | undefined,
  };
  const before = (): void => {
    state.count++;
  };
  const after = (response: { headers: Record<string, string | number | undefined> }): void => {
    const remaining = Number(response.headers["x-ratelimit-remaining"]);
    const reset = Number(response.headers["x-ratelimit-reset"]);
    if (Number.isFinite(remaining) && response.headers["x-ratelimit-remaining"] !== undefined) {
      state.remaining = remaining;
    }
    if (Number.isFinite(reset) && response.headers["x-ratelimit-reset"] !== undefined) state.reset = reset;
    const snapshot = readRateLimit({
      get: (name) => {
        const value = response.headers[name];
        return value === undefined ? null : String(value);
      },
    });
    if (snapshot !== undefined) state.snapshot = snapshot;
  };
  gh.hook.before("request", before);
  gh.hook.after("request", after);

  let wrap: ((request: RequestFn, opts: Parameters<GitHub["request"]>[1]) => Promise<unknown>) | null = null;
  const org = options.memoizeOrgPolicyRepo;
  if (org !== undefined) {
    const memo = new Map<string, Promise<unknown>>();
    const prefix = `/repos/${encodeURIComponent(org)}/.github/`.toLowerCase();
    wrap = (request, opts) => {
      const parsed = gh.request.endpoint.parse(opts as Parameters<typeof gh.request.endpoint.parse>[0]);
      const path = new URL(parsed.url).pathname.toLowerCase();
      // GitHub Enterprise paths start with /api/v3.
      const inOrgRepo = path.startsWith(prefix) || path.startsWith(`/api/v3${prefix}`);
      if (parsed.method !== "GET" || !inOrgRepo) return request(opts);
      const key = parsed.url;
      let pending = memo.get(key);
      if (!pending) {
        pending = request(opts);
        memo.set(key, pending);
      }
      return pending;
    };
    gh.hook.wrap("request", wrap as never);
  }

  return {
    get count() {
      return state.count;
    },
    get rateLimitRemaining() {
      return state.remaining;
    },
    get rateLimitReset() {
      return state.reset;
    },
    get rateLimit() {
      return state.snapshot;
    },
    stop() {
      gh.hook.remove("request", before as never);
      gh.hook.remove("request", after as never);
      if (wrap) gh.hook.remove("request", wrap as never);
    },
  };
}
