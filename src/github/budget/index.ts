/**
 * Rate-limit budget awareness (docs/operations.md, "Rate limits"; docs/performance.md). Every
 * GitHub response says how much of the window is left (`x-ratelimit-remaining`, `-limit`,
 * `-reset`); the budget remembers it per scope (an installation, or the app itself) and says which
 * work may start now.
 *
 * Degrade order, as the budget runs low: **sweeps wait first, then audits; PR checks and records
 * are never held back** by the budget (they are what reviewers and deployments wait for). Work that
 * waits is reported as not done (an audit's repositories as "not audited", errors), never as
 * passed; a check that cannot get its facts because GitHub refuses fails closed as it always did.
 * The budget only ever delays work; it never turns a check into a pass.
 */

/** The kinds of work that spend the budget, in the order they are held back when it runs low. */
export type WorkKind = "sweep" | "audit" | "check" | "record";

/** First to wait, last to wait. */
export const DEGRADE_ORDER: readonly WorkKind[] = ["sweep", "audit", "check", "record"];

/**
 * The share of the window's limit each kind leaves untouched for the kinds after it: a sweep
 * starts only while more than 30% of the limit is left, an audit while more than 15% is; checks and
 * records run down to what GitHub allows.
 */
export const RESERVE_SHARE: Readonly<Record<WorkKind, number>> = {
  sweep: 0.3,
  audit: 0.15,
  check: 0,
  record: 0,
};

export interface RateLimitSnapshot {
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets. */
  reset: number;
  /** `x-ratelimit-resource`: "core", "graphql", … */
  resource: string;
  /** When this was observed (epoch ms). */
  observedAt: number;
}

export type Admission =
  | { go: true }
  | {
      go: false;
      /** Why, in words for a report ("only 512 of 5000 requests left …"). */
      reason: string;
      /** When to ask again (epoch ms): the window's reset. */
      retryAt: number;
    };

/** Reads GitHub's rate-limit headers; undefined when the response had none (e.g. a transport error). */
export function readRateLimit(
  headers: { get(name: string): string | null },
  now = Date.now(),
): RateLimitSnapshot | undefined {
  const limit = Number(headers.get("x-ratelimit-limit"));
  const remaining = Number(headers.get("x-ratelimit-remaining"));
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (headers.get("x-ratelimit-remaining") === null || !Number.isFinite(remaining)) return undefined;
  return {
    limit: Number.isFinite(limit) && limit > 0 ? limit : remaining,
    remaining,
    reset: Number.isFinite(reset) ? reset : Math.floor(now / 1000) + 3600,
    resource: headers.get("x-ratelimit-resource") ?? "core",
    observedAt: now,
  };
}

/**
 * Whether `kind` may start now given `snapshot` (pure). No snapshot, or one from a window that has
 * reset since, admits: nothing is known to be spent. `extraReserve` is a floor of requests the
 * caller wants left (e.g. an audit's `rateLimitReserve`).
 */
export function admit(
  kind: WorkKind,
  snapshot: RateLimitSnapshot | undefined,
  now = Date.now(),
  extraReserve = 0,
): Admission {
  if (snapshot === undefined || snapshot.reset * 1000 <= now) return { go: true };
  const reserve = Math.max(Math.ceil(snapshot.limit * RESERVE_SHARE[kind]), extraReserve);
  if (kind === "check" || kind === "record") {
    // Held back only by what GitHub itself refuses; the caller fails closed on that refusal.
    if (snapshot.remaining > 0) return { go: true };
  } else if (snapshot.remaining > reserve) return { go: true };
  const resetAt = new Date(snapshot.reset * 1000).toISOString();
  return {
    go: false,
    reason:
      `only ${snapshot.remaining} of ${snapshot.limit} API requests left in this rate-limit window ` +
      `(resets ${resetAt}); ${kind}s wait below ${reserve}`,
    retryAt: snapshot.reset * 1000,
  };
}

export interface BudgetListener {
  (scope: string, snapshot: RateLimitSnapshot): void;
}

/**
 * The latest rate-limit figures per scope. Scopes are opaque strings; the server uses
 * `installation:<id>` for installation tokens and `app` for the app's JWT (docs/performance.md).
 * Bounded: at most `maxScopes` scopes are remembered (the oldest observation is forgotten first;
 * forgetting admits, which is the state of a budget nothing is known about).
 */
export class ApiBudget {
  private readonly scopes = new Map<string, Map<string, RateLimitSnapshot>>();
  private readonly listeners: BudgetListener[] = [];

  constructor(
    private readonly maxScopes = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records what a response said (call with every response's headers). */
  observe(scope: string, headers: { get(name: string): string | null }): void {
    const snapshot = readRateLimit(headers, this.clock());
    if (snapshot === undefined) return;
    let byResource = this.scopes.get(scope);
    if (byResource === undefined) {
      byResource = new Map();
      if (this.scopes.size >= this.maxScopes) {
        const oldest = this.scopes.keys().next().value;
        if (oldest !== undefined) this.scopes.delete(oldest);
      }
    } else this.scopes.delete(scope);
    this.scopes.set(scope, byResource);
    byResource.set(snapshot.resource, snapshot);
    for (const listener of this.listeners) listener(scope, snapshot);
  }

  /** Hears every observation (the server exports them on /metrics). */
  onObserve(listener: BudgetListener): void {
    this.listeners.push(listener);
  }

  /** The latest figures of `scope` for `resource` (default "core"). */
  snapshot(scope: string, resource = "core"): RateLimitSnapshot | undefined {
    return this.scopes.get(scope)?.get(resource);
  }

  /** Whether `kind` may start now in `scope` (see DEGRADE_ORDER and RESERVE_SHARE). */
  admit(kind: WorkKind, scope: string, options: { resource?: string; reserve?: number } = {}): Admission {
    return admit(kind, this.snapshot(scope, options.resource), this.clock(), options.reserve ?? 0);
  }
}

/** The scope of an Octokit instance's requests: its installation, or the app itself. */
export function installationScope(installationId: number | string | undefined): string {
  return installationId === undefined ? "app" : `installation:${installationId}`;
}

/** What a client's budget answers: the figures of its scope and whether work may start. */
export interface ScopedBudget {
  readonly scope: string;
  snapshot(resource?: string): RateLimitSnapshot | undefined;
  admit(kind: WorkKind, options?: { resource?: string; reserve?: number }): Admission;
}

const attached = new WeakMap<object, ScopedBudget>();

/** Ties an Octokit instance to its scope of `budget` (the server does this for every instance). */
export function attachBudget(client: object, budget: ApiBudget, scope: string): ScopedBudget {
  const scoped: ScopedBudget = {
    scope,
    snapshot: (resource) => budget.snapshot(scope, resource),
    admit: (kind, options) => budget.admit(kind, scope, options),
  };
  attached.set(client, scoped);
  return scoped;
}

/**
 * The budget of the installation this Octokit instance speaks for, when the server attached one
 * (undefined for clients built elsewhere: the CLI, tests). A sweep asks `budgetFor(gh)?.admit("sweep")`.
 */
export function budgetFor(client: object): ScopedBudget | undefined {
  return attached.get(client);
}
