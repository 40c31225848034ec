import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit } from "probot";
import { pullgateApp, type AppOptions } from "./app.js";
import type { RecordSigner } from "./github/records/publish.js";
import { pullgateMetrics, type PullgateMetrics } from "./metrics.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, fetchWithDeadline } from "./github/request-timeout.js";
import { createWebhookEndpoint } from "./webhook/endpoint.js";
import { DeliveryLedger, MemoryLedgerStore, type LedgerStore } from "./webhook/delivery-ledger.js";
import { connectRedisLedger } from "./webhook/redis-ledger.js";
import { startReconcileLoop, type ReconcileLoop } from "./github/reconcile/loop.js";
import { plumbedFetch, retryAfterSecondaryLimit, type RequestPlumbing } from "./github/octokit.js";
import { ApiBudget, attachBudget, installationScope } from "./github/budget/index.js";
import { MemoryHttpCache, RedisHttpCache, type HttpCacheStore } from "./github/http-cache/index.js";

export const WEBHOOK_PATH = "/api/github/webhooks";

export interface ServerConfig {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  /** GitHub API base URL, e.g. https://ghe.example.com/api/v3; default api.github.com. */
  baseUrl?: string;
  port?: number;
  host?: string;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  redisUrl?: string;
  /** Armored OpenPGP private key that signs records, and its passphrase when encrypted. */
  signingKey?: string;
  signingPassphrase?: string;
  /**
   * Base of Octokit's retry backoff for 5xx answers, in ms: retries wait 1, 4 and 9 times it
   * (Octokit's default base is 1,000). Tests shrink it so a failing route fails in milliseconds.
   */
  retryBaseMs?: number;
  /**
   * false turns off Octokit's request throttling (at most one write per second per installation,
   * GitHub's guidance for content-creating requests). Only for tests against the local sandbox.
   */
  throttle?: boolean;
  /** The deadline of one GitHub request, in ms (default DEFAULT_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /**
   * How long a handled webhook delivery id is remembered, so a replay of it is acknowledged
   * without effect (default 72 h). Shared by replicas through `redisUrl` when set.
   */
  replayWindowMs?: number;
  /** How long a replica's claim on a delivery holds without renewal (default 60 s). */
  deliveryLeaseMs?: number;
  /**
   * Conditional requests (docs/performance.md): false turns the ETag cache off (every GET is sent
   * unconditionally). Default on; shared by replicas through `redisUrl` when set.
   */
  httpCache?: boolean;
  app?: Partial<AppOptions>;
  /**
   * Period of the reconciliation sweep in ms (docs/operations.md, "Outages and recovery"; `pullgate
   * serve` sets PULLGATE_RECONCILE_INTERVAL, default 5 minutes; here the default is 0 = no timer,
   * sweeps only when asked). The first timed sweep runs right after start.
   */
  reconcileIntervalMs?: number;
  /** Requests one sweep may start new work within (default 2,000). */
  reconcileBudget?: number;
}

/** Loads the record signer; the bot identity is what record commits name as author and committer. */
export async function loadSigner(armored: string, passphrase?: string): Promise<RecordSigner> {
  const { loadSigningKey, fingerprintOf } = await import("./record/index.js");
  const key = await loadSigningKey(armored, passphrase);
  return {
    key,
    fingerprint: fingerprintOf(key),
    identity: { name: "pullgate[bot]", email: "pullgate[bot]@users.noreply.github.com" },
  };
}

/**
 * Probot's Octokit with a deadline on every request, and optionally a different retry backoff
 * and/or no throttling. A function default, because Probot passes its own `throttle` object in
 * every instance's options and a plain object default would be overwritten by it.
 */
function tunedOctokit(
  retryBaseMs: number | undefined,
  throttle: boolean,
  requestTimeoutMs: number,
  plumbing: RequestPlumbing = {},
): typeof ProbotOctokit {
  const scopeOf = (options: Record<string, unknown>): string =>
    installationScope((options.auth as { installationId?: number } | undefined)?.installationId);
  const defaults = ProbotOctokit.defaults((instance: Record<string, unknown>) => ({
    ...instance,
    request: {
      ...(instance.request as object | undefined),
      fetch: plumbedFetch(fetchWithDeadline(requestTimeoutMs), plumbing, scopeOf(instance)),
    },
    ...(retryBaseMs !== undefined ? { retry: { retryAfterBaseValue: retryBaseMs } } : {}),
    throttle: throttle
      ? {
          ...(instance.throttle as object | undefined),
          // Probot's handler logs and never retries; keep its log line, then wait out retry-after
          // (bounded) instead of failing the request (docs/operations.md, "Rate limits").
          onSecondaryRateLimit: (
            retryAfter: number,
            options: object,
            octokit: unknown,
            retryCount: number,
          ) => {
            const logOnly = (
              instance.throttle as { onSecondaryRateLimit?: (...a: unknown[]) => unknown } | undefined
            )?.onSecondaryRateLimit;
            logOnly?.(retryAfter, options, octokit, retryCount);
            return retryAfterSecondaryLimit(retryAfter, retryCount);
          },
        }
      : { ...(instance.throttle as object | undefined), enabled: false },
  }));
  const budget = plumbing.budget;
  if (budget === undefined) return defaults;
  // So the audit (and a reconciler's sweep) can ask `budgetFor(gh)` about its installation.
  return defaults.plugin((octokit: object, options: Record<string, unknown>) => {
    attachBudget(octokit, budget, scopeOf(options));
    return {};
  });
}

/** The reconcile sweep's lease in Redis, shared by every replica of one app (docs/operations.md). */
export function connectReconcileLease(redisUrl: string, appId: number, probot: Probot): Promise<LedgerStore> {
  return connectRedisLedger(redisUrl, `pullgate:reconcile:${appId}:`, (error) =>
    probot.log.warn({ err: error }, "reconcile lease: redis connection error"),
  );
}

export interface RunningServer {
  url: string;
  webhookUrl: string;
  port: number;
  probot: Probot;
  metrics: PullgateMetrics;
  signer: RecordSigner | null;
  /** The reconciler: `sweep()` runs one now (sweeps never overlap; with Redis, across replicas). */
  reconciler: ReconcileLoop;
  /** Rate-limit figures per installation (`budgetFor(gh)` gives an instance's scope of it). */
  budget: ApiBudget;
  close(): Promise<void>;
}

/**
 * The real Probot app behind a node:http server: the webhook path (src/webhook/endpoint.ts: body
 * limit, HMAC, replayed delivery ids, then Probot's handlers), /healthz and Prometheus /metrics. Used by `pullgate serve`, the demo and end-to-end tests alike.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const metrics = pullgateMetrics();
  const signer = config.signingKey ? await loadSigner(config.signingKey, config.signingPassphrase) : null;
  const budget = new ApiBudget();
  budget.onObserve((scope, snapshot) => {
    const labels = { scope, resource: snapshot.resource };
    metrics.rateLimitRemaining.set(labels, snapshot.remaining);
    metrics.rateLimitLimit.set(labels, snapshot.limit);
    metrics.rateLimitReset.set(labels, snapshot.reset);
  });
  let cacheRedis: { quit(): Promise<unknown> } | undefined;
  let httpCache: HttpCacheStore | undefined;
  if (config.httpCache !== false) {
    if (config.redisUrl) {
      const { Redis } = await import("ioredis");
      const redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
      // A Redis that cannot answer is a cache miss (an ordinary request), never an error.
      redis.on("error", () => undefined);
      cacheRedis = redis;
      httpCache = new RedisHttpCache(redis, { prefix: `pullgate:http-cache:${config.appId}:` });
    } else httpCache = new MemoryHttpCache();
  }
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    ...(config.redisUrl ? { redisConfig: config.redisUrl } : {}),
    logLevel: config.logLevel ?? "info",
    Octokit: tunedOctokit(
      config.retryBaseMs,
      config.throttle ?? true,
      config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      {
        budget,
        ...(httpCache !== undefined ? { cache: httpCache } : {}),
        onCache: (outcome) => metrics.httpCache.inc({ outcome }),
      },
    ),
  });
  await probot.load(pullgateApp({ signer, ...config.app, appId: config.appId, metrics }), {
    cwd: process.cwd(),
    addHandler: () => {
      throw new Error("pullgate serves no routes of a Probot app's own");
    },
  });
  // Delivery ids already handled (docs/operations.md, "Webhook endpoint"): per process, or shared
  // by every replica through the same Redis as Probot's throttling.
  const store: LedgerStore = config.redisUrl
    ? await connectRedisLedger(config.redisUrl, `pullgate:webhook-delivery:${config.appId}:`, (error) =>
        probot.log.warn({ err: error }, "delivery ledger: redis connection error"),
      )
    : new MemoryLedgerStore();
  const ledger = new DeliveryLedger(store, {
    ...(config.replayWindowMs !== undefined ? { windowMs: config.replayWindowMs } : {}),
    ...(config.deliveryLeaseMs !== undefined ? { leaseMs: config.deliveryLeaseMs } : {}),
    onRenewError: (error, id) =>
      probot.log.warn({ err: error, id }, "delivery ledger: could not renew a claim"),
  });
  const webhooks = createWebhookEndpoint({ probot, path: WEBHOOK_PATH, ledger, metrics });

  const reconciler = await startReconcileLoop({
    probot,
    appId: config.appId,
    signer,
    metrics,
    evaluationTimeoutMs: config.app?.evaluationTimeoutMs ?? 60_000,
    intervalMs: config.reconcileIntervalMs ?? 0,
    requestBudget: config.reconcileBudget ?? 2_000,
    ...(config.app?.appSlug ? { appSlug: config.app.appSlug } : {}),
    ...(config.redisUrl ? { lease: await connectReconcileLease(config.redisUrl, config.appId, probot) } : {}),
    ...(config.app?.now ? { now: config.app.now } : {}),
  });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/readyz") {
      // Ready only while GitHub answers the app (one cheap JWT request, cached a few seconds):
      // a load balancer then stops sending webhooks that could only fail closed.
      void reconciler.githubReachable().then((reachable) => {
        res.writeHead(reachable.ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify(reachable));
      });
      return;
    }
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(metrics.registry.render());
      return;
    }
    void webhooks
      .handle(req, res)
      .then((handled) => {
        if (handled) return;
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Not Found" }));
      })
      .catch((error: unknown) => {
        probot.log.error({ err: error }, "request failed");
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  // A client that sends "Expect: 100-continue" is told 413 before it sends an oversized body.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!webhooks.checkContinue(req, res)) server.emit("request", req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port ?? 3000, config.host ?? "127.0.0.1", () => resolve());
    });
  } catch (error) {
    await reconciler.close();
    await ledger.close();
    await cacheRedis?.quit().catch(() => undefined);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    webhookUrl: `${url}${WEBHOOK_PATH}`,
    port,
    probot,
    metrics,
    signer,
    reconciler,
    budget,
    close: async () => {
      await reconciler.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          void ledger
            .close()
            .then(async () => void (await cacheRedis?.quit()))
            .then(resolve, resolve);
        });
      });
    },
  };
}
