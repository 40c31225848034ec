import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "../command.js";
import { parseCommandArgs } from "../args.js";
import { IoError, UsageError } from "../errors.js";
import type { CliIo } from "../io.js";

/** PRIVATE_KEY may be the PEM itself or its base64 (for platforms without multi-line variables). */
function decodePem(value: string): string {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n");
  const decoded = Buffer.from(value, "base64").toString("utf8");
  if (decoded.includes("-----BEGIN")) return decoded;
  throw new UsageError("PRIVATE_KEY is neither a PEM key nor base64 of one");
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new IoError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** A duration like `300`, `300s`, `5m` or `1h` (plain numbers are seconds), in ms; 0 = off. */
export function parseInterval(value: string, name: string): number {
  const m = /^([0-9]{1,9})(ms|s|m|h)?$/.exec(value.trim());
  if (!m || m[1] === undefined) throw new UsageError(`${name} ${value} is not a duration like 300s, 5m or 0`);
  const unit = m[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1_000 : unit === "m" ? 60_000 : 3_600_000;
  return Number(m[1]) * factor;
}

export function serveConfigFromEnv(env: CliIo["env"]) {
  const appId = Number(env.APP_ID);
  if (!Number.isInteger(appId) || appId <= 0)
    throw new UsageError("APP_ID must be the GitHub App's numeric id");
  const privateKey = env.PRIVATE_KEY
    ? decodePem(env.PRIVATE_KEY)
    : env.PRIVATE_KEY_PATH
      ? readSecretFile(env.PRIVATE_KEY_PATH, "PRIVATE_KEY_PATH")
      : undefined;
  if (!privateKey) throw new UsageError("PRIVATE_KEY or PRIVATE_KEY_PATH is required");
  const webhookSecret = env.WEBHOOK_SECRET;
  if (!webhookSecret)
    throw new UsageError("WEBHOOK_SECRET is required: pullgate never accepts unsigned webhooks");
  const baseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL || "https"}://${env.GHE_HOST}/api/v3` : undefined;
  const signingKey = env.PULLGATE_SIGNING_KEY
    ? env.PULLGATE_SIGNING_KEY
    : env.PULLGATE_SIGNING_KEY_FILE
      ? readSecretFile(env.PULLGATE_SIGNING_KEY_FILE, "PULLGATE_SIGNING_KEY_FILE")
      : undefined;
  const requestTimeoutMs = env.PULLGATE_REQUEST_TIMEOUT_MS
    ? Number(env.PULLGATE_REQUEST_TIMEOUT_MS)
    : undefined;
  if (requestTimeoutMs !== undefined && !(Number.isInteger(requestTimeoutMs) && requestTimeoutMs > 0))
    throw new UsageError(
      `PULLGATE_REQUEST_TIMEOUT_MS ${env.PULLGATE_REQUEST_TIMEOUT_MS} is not a positive number of milliseconds`,
    );
  const replayWindowMs = env.PULLGATE_REPLAY_WINDOW_MS ? Number(env.PULLGATE_REPLAY_WINDOW_MS) : undefined;
  if (replayWindowMs !== undefined && !(Number.isInteger(replayWindowMs) && replayWindowMs > 0))
    throw new UsageError(
      `PULLGATE_REPLAY_WINDOW_MS ${env.PULLGATE_REPLAY_WINDOW_MS} is not a positive number of milliseconds`,
    );
  const reconcileIntervalMs = env.PULLGATE_RECONCILE_INTERVAL
    ? parseInterval(env.PULLGATE_RECONCILE_INTERVAL, "PULLGATE_RECONCILE_INTERVAL")
    : 5 * 60_000;
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`PORT ${env.PORT} is not a port number`);
  return {
    appId,
    privateKey,
    webhookSecret,
    baseUrl,
    port,
    host: env.HOST || "0.0.0.0",
    redisUrl: env.REDIS_URL || undefined,
    signingKey,
    signingPassphrase: env.PULLGATE_SIGNING_PASSPHRASE || undefined,
    logLevel: (env.LOG_LEVEL as "info" | undefined) ?? "info",
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    ...(replayWindowMs !== undefined ? { replayWindowMs } : {}),
    reconcileIntervalMs,
  };
}

/** No App credential at all: `serve` offers the setup (docs/setup.md) instead of failing. */
export function needsSetup(env: CliIo["env"]): boolean {
  return !env.APP_ID && !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH && !env.WEBHOOK_SECRET;
}

/**
 * The environment `serve` runs with: the process's, over `.env` in the working directory when
 * there is one (where the setup stores the app's credentials; the process's variables win).
 */
export async function serveEnv(io: CliIo): Promise<CliIo["env"]> {
  const { readEnvFile } = await import("../../setup/env-file.js");
  let file: Record<string, string> | undefined;
  try {
    file = await readEnvFile(join(io.cwd, ".env"));
  } catch (error) {
    throw new IoError(`cannot use .env: ${(error as Error).message}`);
  }
  if (file === undefined) return io.env;
  const merged: Record<string, string | undefined> = { ...file };
  for (const [key, value] of Object.entries(io.env)) if (value !== undefined) merged[key] = value;
  return merged;
}

/** Registers the app from app.yml through GitHub's app-manifest flow, then asks for a restart. */
async function runSetup(io: CliIo, env: CliIo["env"]): Promise<number> {
  const { startSetupServer } = await import("../../setup/server.js");
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`PORT ${env.PORT} is not a port number`);
  const protocol = env.GHE_PROTOCOL || "https";
  const webUrl = env.GHE_HOST ? `${protocol}://${env.GHE_HOST}` : "https://github.com";
  const carryEnv: Record<string, string> = {};
  if (env.GHE_HOST) carryEnv.GHE_HOST = env.GHE_HOST;
  if (env.GHE_PROTOCOL) carryEnv.GHE_PROTOCOL = env.GHE_PROTOCOL;
  // Loopback unless told otherwise: the page hands out a GitHub App's credentials.
  const host = env.HOST || "127.0.0.1";
  const setup = await startSetupServer({
    webUrl,
    apiUrl: env.GHE_HOST ? `${webUrl}/api/v3` : "https://api.github.com",
    host,
    port,
    dir: io.cwd,
    carryEnv,
    hasSigningKey: Boolean(env.PULLGATE_SIGNING_KEY || env.PULLGATE_SIGNING_KEY_FILE),
    // A specific HOST is a name the page may be reached by; a wildcard is not one.
    ...(["0.0.0.0", "::"].includes(host) ? {} : { allowedHosts: [host.includes(":") ? `[${host}]` : host] }),
    ...(env.PULLGATE_WEBHOOK_URL ? { webhookUrl: env.PULLGATE_WEBHOOK_URL } : {}),
  });
  if (!["127.0.0.1", "::1", "localhost"].includes(host))
    io.stderr(
      `pullgate: warning: the setup page listens on ${host}, not loopback: anyone who reaches it can register the app`,
    );
  io.stderr(`pullgate: no GitHub App credentials (APP_ID, PRIVATE_KEY(_PATH), WEBHOOK_SECRET)`);
  io.stderr(`pullgate: open ${setup.url}/ to register the app from app.yml on ${webUrl}`);
  let stop: () => void = () => undefined;
  const stopped = new Promise<undefined>((resolve) => {
    stop = () => resolve(undefined);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const result = await Promise.race([setup.done, stopped]);
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  await setup.close();
  if (result === undefined) {
    io.stderr("pullgate: setup stopped; nothing was registered by this run");
    return 1;
  }
  io.stderr(
    `pullgate: registered GitHub App ${result.slug} (id ${result.appId}); credentials in ${result.envPath} (mode 0600)`,
  );
  if (result.envExisted)
    io.stderr(`pullgate: .env already existed and was not changed: merge ${result.envPath} into it`);
  if (result.signingKey)
    io.stderr(
      `pullgate: generated record-signing key ${result.signingKey.fingerprint} (private ${result.signingKey.privateKeyPath}, public ${result.signingKey.publicKeyPath} for agents)`,
    );
  io.stderr(`pullgate: install the app: ${result.installUrl}`);
  io.stderr("pullgate: then restart `pullgate serve`: it reads .env and starts gating");
  return 0;
}

export const command: Command = {
  usage: "serve",
  summary:
    "Run the GitHub App (APP_ID, PRIVATE_KEY(_PATH), WEBHOOK_SECRET, GHE_HOST, PORT, PULLGATE_SIGNING_KEY(_FILE), REDIS_URL, PULLGATE_RECONCILE_INTERVAL; also read from ./.env); serves /healthz, /readyz and /metrics; without any credential, serves the setup page that registers the app (docs/setup.md)",
  async run(argv, io) {
    parseCommandArgs(argv, {}, false);
    const env = await serveEnv(io);
    if (needsSetup(env)) return runSetup(io, env);
    const config = serveConfigFromEnv(env);
    const { startServer } = await import("../../server.js");
    const server = await startServer({
      appId: config.appId,
      privateKey: config.privateKey,
      webhookSecret: config.webhookSecret,
      port: config.port,
      host: config.host,
      logLevel: config.logLevel,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      ...(config.signingKey ? { signingKey: config.signingKey } : {}),
      ...(config.signingPassphrase ? { signingPassphrase: config.signingPassphrase } : {}),
      ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
      ...(config.replayWindowMs !== undefined ? { replayWindowMs: config.replayWindowMs } : {}),
      reconcileIntervalMs: config.reconcileIntervalMs,
    });
    if (server.signer) {
      io.stderr(`pullgate: signing approved-revision records with key ${server.signer.fingerprint}`);
    } else {
      io.stderr(
        "pullgate: no PULLGATE_SIGNING_KEY(_FILE): pull requests are gated, but no approved-revision records are published",
      );
    }
    io.stderr(`pullgate: listening on ${server.url} (webhooks at ${server.webhookUrl})`);
    io.stderr(
      config.reconcileIntervalMs > 0
        ? `pullgate: reconciling every ${config.reconcileIntervalMs / 1000}s (PULLGATE_RECONCILE_INTERVAL)`
        : "pullgate: PULLGATE_RECONCILE_INTERVAL=0: no reconciliation sweeps (missed webhooks stay missed)",
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    io.stderr("pullgate: shutting down");
    await server.close();
    return 0;
  },
};
