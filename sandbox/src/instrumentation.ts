/** A fault injected on a route (or every route with "*"). */
export interface Fault {
  /** Delay before answering (combined with the others). */
  latencyMs?: number;
  /**
   * Answer this server error instead of running the handler; 404 plays an endpoint this GitHub does
   * not have (e.g. `GET /orgs/{org}/custom-repository-roles` on github.com, GHEC/GHES only).
   */
  status?: 404 | 500 | 502 | 503;
  /** GitHub's secondary rate limit: 403 (with its message) or 429, with `retry-after`. */
  secondaryRateLimit?: 403 | 429;
  /** Seconds for the `retry-after` header (default 1). */
  retryAfter?: number;
  /** Never answer: the client has to give up (its timeout). */
  timeout?: boolean;
  /**
   * Before answering (normally), spend this many requests of the caller's rate-limit window, as
   * other work sharing its budget would (negative gives them back); the answer's `x-ratelimit-*`
   * headers, and every later request's, report the window as spent. Spending the whole limit makes
   * the caller's next requests 403 "API rate limit exceeded", as GitHub answers.
   */
  spendRateLimit?: number;
  /** Only the next N requests; unset = until cleared. */
  times?: number;
}

/**
 * Request counts per route template (`GET /repos/{owner}/{repo}/pulls/{pull_number}/files`) and
 * per-route fault injection, for tests and benchmarks.
 */
export class Instrumentation {
  private readonly counts = new Map<string, number>();
  private readonly faults = new Map<string, Fault>();
  private readonly notModifiedCounts = new Map<string, number>();

  record(route: string): void {
    this.counts.set(route, (this.counts.get(route) ?? 0) + 1);
  }

  /**
   * The request `record` counted was answered `304 Not Modified`: GitHub does not count it
   * against the rate limit, so it moves from the counted requests to the 304s.
   */
  recordNotModified(route: string): void {
    const counted = this.counts.get(route) ?? 0;
    if (counted <= 1) this.counts.delete(route);
    else this.counts.set(route, counted - 1);
    this.notModifiedCounts.set(route, (this.notModifiedCounts.get(route) ?? 0) + 1);
  }

  /** Requests answered 304 per route template since the last reset (not in `requestCounts`). */
  notModifiedRequestCounts(): Record<string, number> {
    return Object.fromEntries([...this.notModifiedCounts].sort(([a], [b]) => a.localeCompare(b)));
  }

  totalNotModified(): number {
    let total = 0;
    for (const n of this.notModifiedCounts.values()) total += n;
    return total;
  }

  /** Counted requests served per route template since the last reset (304s are apart). */
  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Every request served per route template since the last reset: counted ones plus those answered
   * 304. What the app asked for, whatever it cost; a test that proves a read happened (a roster was
   * revalidated, a verdict was read) asserts on this, and on `requestCounts` for what it cost.
   */
  servedRequestCounts(): Record<string, number> {
    const served = new Map(this.counts);
    for (const [route, n] of this.notModifiedCounts) served.set(route, (served.get(route) ?? 0) + n);
    return Object.fromEntries([...served].sort(([a], [b]) => a.localeCompare(b)));
  }

  count(route: string): number {
    return this.counts.get(route) ?? 0;
  }

  totalRequests(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  resetCounts(): void {
    this.counts.clear();
    this.notModifiedCounts.clear();
  }

  /** `route` is a template key like `GET /repos/{owner}/{repo}`, or "*" for every API route. */
  setFault(route: string, fault: Fault): void {
    this.faults.set(route, { ...fault });
  }

  clearFaults(route?: string): void {
    if (route === undefined) this.faults.clear();
    else this.faults.delete(route);
  }

  listFaults(): Record<string, Fault> {
    return Object.fromEntries(this.faults);
  }

  /** The fault to apply to this request, consuming one use of a counted fault. */
  take(route: string): Fault | undefined {
    for (const key of [route, "*"]) {
      const fault = this.faults.get(key);
      if (fault === undefined) continue;
      if (fault.times !== undefined) {
        fault.times--;
        if (fault.times <= 0) this.faults.delete(key);
      }
      return fault;
    }
    return undefined;
  }
}
