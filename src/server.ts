import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit, createNodeMiddleware } from "probot";
import { pullgateApp, type AppOptions } from "./app.js";
import type { RecordSigner } from "./github/records/publish.js";
import { pullgateMetrics, type PullgateMetrics } from "./metrics.js";

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
  /**
   * Octokit's write throttle (one write per second per installation, GitHub's secondary-limit
   * guidance). Keep it on against GitHub; the local sandbox turns it off.
   */
  throttleWrites?: boolean;
  /** Armored OpenPGP private key that signs records, and its passphrase when encrypted. */
  signingKey?: string;
  signingPassphrase?: string;
  app?: Partial<AppOptions>;
}

/**
 * Probot layers its own throttle settings over object defaults, so the throttle is turned off with
 * a function that edits the final options.
 */
function withoutThrottle(options: Record<string, unknown>): Record<string, unknown> {
  const throttle = (options.throttle ?? {}) as Record<string, unknown>;
  return { ...options, throttle: { ...throttle, enabled: false } };
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

export interface RunningServer {
  url: string;
  webhookUrl: string;
  port: number;
  probot: Probot;
  metrics: PullgateMetrics;
  signer: RecordSigner | null;
  close(): Promise<void>;
}

/**
 * The real Probot app behind a node:http server: the webhook path (HMAC-verified by Probot),
 * /healthz and Prometheus /metrics. Used by `pullgate serve`, the demo and end-to-end tests alike.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const metrics = pullgateMetrics();
  const signer = config.signingKey ? await loadSigner(config.signingKey, config.signingPassphrase) : null;
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    ...(config.redisUrl ? { redisConfig: config.redisUrl } : {}),
    logLevel: config.logLevel ?? "info",
    ...(config.throttleWrites === false ? { Octokit: ProbotOctokit.defaults(withoutThrottle) } : {}),
  });
  const middleware = await createNodeMiddleware(
    pullgateApp({ signer, ...config.app, appId: config.appId, metrics }),
    {
      probot,
      webhooksPath: WEBHOOK_PATH,
    },
  );

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
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
    void Promise.resolve(
      middleware(req, res, () => {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Not Found" }));
      }),
    ).catch((error: unknown) => {
      probot.log.error({ err: error }, "request failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port ?? 3000, config.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    webhookUrl: `${url}${WEBHOOK_PATH}`,
    port,
    probot,
    metrics,
    signer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
