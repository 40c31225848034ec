/**
 * Runs the reconciler inside the app (`pullgate serve`): one sweep right after start, then one per
 * interval, never two at once. With several replicas, a sweep first takes a lease in Redis
 * (REDIS_URL, the same store as the delivery ledger): only the holder sweeps, the others skip
 * that period; a replica that dies mid-sweep loses the lease when it expires. Without Redis the
 * lease is per process, and duplicate sweeps by replicas are harmless (every write is a
 * compare-and-swap or keyed once) but not free: docs/operations.md says so.
 */
import { randomUUID } from "node:crypto";
import type { Probot } from "probot";
import type { PullgateMetrics } from "../../metrics.js";
import type { GitHub } from "../octokit.js";
import type { RecordSigner } from "../records/publish.js";
import { Reconciler, type SweepReport, type SweepScope } from "./sweep.js";

export interface ReconcileLoopOptions {
  probot: Probot;
  appId: number;
  signer: RecordSigner | null;
  metrics: PullgateMetrics;
  evaluationTimeoutMs: number;
  /** 0: no timer (sweeps run only when asked). */
  intervalMs: number;
  requestBudget: number;
  appSlug?: string;
  /**
   * Where the sweep lease lives. The server passes the Redis store when REDIS_URL is set (shared by
   * all replicas); without one, a lease in this process only keeps its own sweeps from overlapping.
   */
  lease?: LeaseStore;
  now?: () => Date;
  /** Ask GitHub to redeliver failed deliveries on each sweep (default true). */
  redeliver?: boolean;
}

/** The part of a claim store the lease needs (the webhook delivery ledger's stores fit it). */
export interface LeaseStore {
  tryClaim(id: string, token: string, leaseMs: number): Promise<"claimed" | "handled" | "in-flight">;
  /** Extends the holder's lease; false when `token` no longer holds it. */
  renew?(id: string, token: string, leaseMs: number): Promise<boolean>;
  release(id: string, token: string): Promise<void>;
  close(): Promise<void>;
}

/** A lease held in this process only. */
export function memoryLease(now: () => number = Date.now): LeaseStore {
  const held = new Map<string, { token: string; until: number }>();
  return {
    tryClaim(id, token, leaseMs) {
      const current = held.get(id);
      if (current && current.until > now()) return Promise.resolve("in-flight");
      held.set(id, { token, until: now() + leaseMs });
      return Promise.resolve("claimed");
    },
    renew(id, token, leaseMs) {
      const current = held.get(id);
      if (!current || current.token !== token || current.until <= now()) return Promise.resolve(false);
      current.until = now() + leaseMs;
      return Promise.resolve(true);
    },
    release(id, token) {
      if (held.get(id)?.token === token) held.delete(id);
      return Promise.resolve();
    },
    close() {
      held.clear();
      return Promise.resolve();
    },
  };
}

export interface ReconcileLoop {
  /** One sweep now; null when another sweep (here or, with Redis, on another replica) holds the lease. */
  sweep(scope?: SweepScope): Promise<SweepReport | null>;
  /** Whether GitHub answers the app (GET /app with its JWT); an answer is cached for a few seconds. */
  githubReachable(): Promise<{ ok: boolean; reason?: string }>;
  close(): Promise<void>;
}

const LEASE_ID = "sweep";
/** The sweep lease when the store renews it (every third of it while the sweep runs). */
const LEASE_MS = 30_000;
const REACHABLE_CACHE_MS = 5_000;

export async function startReconcileLoop(options: ReconcileLoopOptions): Promise<ReconcileLoop> {
  const { probot } = options;
  const now = options.now ?? (() => new Date());
  let slug: Promise<string> | null = options.appSlug ? Promise.resolve(options.appSlug) : null;
  const appSlug = (): Promise<string> => {
    slug ??= probot
      .auth()
      .then((gh) => gh.rest.apps.getAuthenticated())
      .then(({ data }) => data?.slug ?? "pullgate")
      .catch((error: unknown) => {
        slug = null;
        throw error;
      });
    return slug;
  };
  const lease = options.lease ?? memoryLease();
  // A store that can renew gets a short lease, renewed while the sweep runs: a replica killed
  // mid-sweep (SIGKILL: no release) then blocks the others' sweeps for LEASE_MS, not for ten
  // minutes. Without renewal the lease must outlive the longest sweep we expect. Either way it is
  // released as soon as the sweep ends.
  const leaseMs = lease.renew ? LEASE_MS : Math.max(options.intervalMs, 10 * 60_000);
  const reconciler = new Reconciler({
    appId: options.appId,
    auth: (id?: number) => probot.auth(id) as Promise<GitHub>,
    signer: options.signer,
    log: probot.log,
    metrics: options.metrics,
    evaluationTimeoutMs: options.evaluationTimeoutMs,
    appSlug,
    now,
    requestBudget: options.requestBudget,
    redeliver: options.redeliver ?? true,
  });

  let running: Promise<SweepReport | null> | null = null;
  const sweep = (scope?: SweepScope): Promise<SweepReport | null> => {
    if (running) return running.then(() => null);
    running = (async () => {
      const token = randomUUID();
      const claim = await lease.tryClaim(LEASE_ID, token, leaseMs);
      if (claim !== "claimed") return null;
      // A lost renewal only risks a second sweep at once, which is harmless (see the top).
      const renewal = lease.renew
        ? setInterval(() => void lease.renew?.(LEASE_ID, token, leaseMs).catch(() => false), leaseMs / 3)
        : null;
      try {
        return await reconciler.sweep(scope);
      } finally {
        if (renewal) clearInterval(renewal);
        await lease.release(LEASE_ID, token).catch(() => undefined);
      }
    })().finally(() => {
      running = null;
    });
    return running;
  };

  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const tick = () => {
    timer = null;
    if (closed) return;
    void sweep()
      .then((report) => {
        if (report) probot.log.info(summary(report), "reconcile sweep done");
      })
      .catch((error: unknown) => probot.log.warn({ err: error }, "reconcile sweep failed"))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, options.intervalMs);
      });
  };
  if (options.intervalMs > 0) timer = setTimeout(tick, 0);

  let reachable: { at: number; result: Promise<{ ok: boolean; reason?: string }> } | null = null;
  return {
    sweep,
    githubReachable() {
      const t = Date.now();
      if (reachable && t - reachable.at < REACHABLE_CACHE_MS) return reachable.result;
      const result = probot
        .auth()
        .then((gh) => gh.rest.apps.getAuthenticated())
        .then(
          () => ({ ok: true }),
          (error: unknown) => ({
            ok: false,
            reason: `GitHub did not answer the app: ${error instanceof Error ? error.message : String(error)}`,
          }),
        );
      // Only an answer is cached: while GitHub is away every probe asks again.
      reachable = { at: t, result };
      void result.then((r) => {
        if (!r.ok && reachable?.result === result) reachable = null;
      });
      return result;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      await lease.close();
    },
  };
}

function summary(report: SweepReport): Record<string, unknown> {
  return {
    complete: report.complete,
    requests: report.requests,
    repositories: report.repositories,
    published: report.published.length,
    alerted: report.alerted.length,
    refreshed: report.refreshed.length,
    refreshesDropped: report.refreshesDropped.length,
    reevaluated: report.reevaluated.length,
    redeliveries: report.redeliveriesRequested,
    errors: report.errors.length,
  };
}
