/** One client's budget for the current hour window. */
interface Window {
  used: number;
  reset: number;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  used: number;
  /** Unix seconds when the window resets. */
  reset: number;
  exceeded: boolean;
}

/**
 * GitHub's primary rate limit: a budget per credential per hour (anonymous clients share a small
 * one), reported in x-ratelimit-* headers; past it, 403 "API rate limit exceeded".
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly anonymousLimit = 60,
  ) {}

  consume(key: string | null, nowMs = Date.now()): RateLimitState {
    const id = key ?? "anonymous";
    const limit = key === null ? this.anonymousLimit : this.limit;
    const now = Math.floor(nowMs / 1000);
    let window = this.windows.get(id);
    if (window === undefined || window.reset <= now) {
      window = { used: 0, reset: now + 3600 };
      this.windows.set(id, window);
    }
    const exceeded = window.used >= limit;
    if (!exceeded) window.used++;
    return {
      limit,
      used: window.used,
      remaining: Math.max(0, limit - window.used),
      reset: window.reset,
      exceeded,
    };
  }

  /**
   * Gives back the request `consume` took: GitHub does not count a request answered
   * `304 Not Modified` against the primary rate limit.
   */
  refund(key: string | null, nowMs = Date.now()): RateLimitState {
    const window = this.windows.get(key ?? "anonymous");
    if (window !== undefined && window.used > 0 && window.reset > Math.floor(nowMs / 1000)) window.used--;
    return this.peek(key, nowMs);
  }

  /**
   * Spends `n` requests of this client's window at once (negative gives them back), clamped to
   * [0, limit]: other work sharing the installation's budget, for tests of what the app does when
   * a window runs low or out.
   */
  spend(key: string | null, n: number, nowMs = Date.now()): RateLimitState {
    const id = key ?? "anonymous";
    const limit = key === null ? this.anonymousLimit : this.limit;
    const now = Math.floor(nowMs / 1000);
    let window = this.windows.get(id);
    if (window === undefined || window.reset <= now) {
      window = { used: 0, reset: now + 3600 };
      this.windows.set(id, window);
    }
    window.used = Math.min(limit, Math.max(0, window.used + n));
    return this.peek(key, nowMs);
  }

  peek(key: string | null, nowMs = Date.now()): RateLimitState {
    const id = key ?? "anonymous";
    const limit = key === null ? this.anonymousLimit : this.limit;
    const window = this.windows.get(id);
    const now = Math.floor(nowMs / 1000);
    if (window === undefined || window.reset <= now)
      return { limit, used: 0, remaining: limit, reset: now + 3600, exceeded: false };
    return {
      limit,
      used: window.used,
      remaining: Math.max(0, limit - window.used),
      reset: window.reset,
      exceeded: false,
    };
  }
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "x-ratelimit-limit": String(state.limit),
    "x-ratelimit-remaining": String(state.remaining),
    "x-ratelimit-used": String(state.used),
    "x-ratelimit-reset": String(state.reset),
    "x-ratelimit-resource": "core",
  };
}
