import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join, resolve } from "node:path";
import { generateRecordKey } from "../record/keys.js";
import { createFileAtomic, formatEnvFile } from "./env-file.js";
import { MAX_APP_NAME, readAppYml, renderManifest, isHttpUrl } from "./manifest.js";

/**
 * The setup `pullgate serve` offers when it has no GitHub App credentials (docs/setup.md): a local
 * page registers the app from app.yml through GitHub's app-manifest flow, and the credentials
 * GitHub returns are written to `.env` for the next start.
 *
 * 1. `GET /`: the operator chooses the app's name, its public webhook URL and, optionally, the
 *    organization that owns it.
 * 2. `POST /setup/manifest`: renders app.yml into a manifest and a form that posts it to GitHub's
 *    new-app page, with a fresh `state`; a cookie binds that state to this browser.
 * 3. GitHub creates the app and redirects to `GET /setup/callback?code=…&state=…`: the state must
 *    be one this server issued, unexpired, unused, and the browser's; the code is converted
 *    (`POST /app-manifests/{code}/conversions`), and id, key and webhook secret are stored.
 *    One callback succeeds, ever: every later one is refused.
 */

export interface SetupOptions {
  /** GitHub's web UI: `https://github.com`, or `http(s)://GHE_HOST`. */
  webUrl: string;
  /** GitHub's REST API: `https://api.github.com`, or `http(s)://GHE_HOST/api/v3`. */
  apiUrl: string;
  host: string;
  port: number;
  /** Where `.env` (and the generated record key) are written. */
  dir: string;
  /** Written to `.env` as they are (GHE_HOST, GHE_PROTOCOL: what the normal start needs as well). */
  carryEnv?: Record<string, string>;
  /** The record-signing key is already configured: none is generated. */
  hasSigningKey: boolean;
  /** Pre-filled webhook URL (PULLGATE_WEBHOOK_URL). */
  webhookUrl?: string;
  appYml?: Record<string, unknown>;
  /** Default one hour, GitHub's lifetime of a manifest code. */
  stateTtlMs?: number;
  /**
   * Host names the page answers to (the browser's `Host`), besides the loopback names. Any other
   * is refused: a DNS-rebinding page (a foreign name resolving to 127.0.0.1) could otherwise read
   * a state and its cookie and deliver an attacker's own app code to the callback.
   */
  allowedHosts?: string[];
}

export interface SetupResult {
  appId: number;
  slug: string;
  htmlUrl: string;
  installUrl: string;
  /** The env file written: `.env`, or `.env.pullgate-<id>` when `.env` already existed. */
  envPath: string;
  envExisted: boolean;
  signingKey?: { fingerprint: string; privateKeyPath: string; publicKeyPath: string };
}

export interface SetupServer {
  url: string;
  /** Resolves once the app is registered and its credentials are stored. */
  done: Promise<SetupResult>;
  close(): Promise<void>;
}

const COOKIE = "pullgate_setup";
const MAX_FORM = 16 * 1024;
const ORG_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

class PageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers["content-type"] ?? "");
  if (!type.startsWith("application/x-www-form-urlencoded")) throw new PageError(415, "Expected a form.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM) throw new PageError(413, "Form too large.");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Conversion {
  id: number;
  slug: string;
  html_url: string;
  pem: string;
  webhook_secret: string;
}

function asConversion(value: unknown): Conversion {
  const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (
    !Number.isSafeInteger(v.id) ||
    (v.id as number) <= 0 ||
    typeof v.slug !== "string" ||
    typeof v.html_url !== "string" ||
    !isHttpUrl(v.html_url) ||
    typeof v.pem !== "string" ||
    !v.pem.includes("-----BEGIN") ||
    typeof v.webhook_secret !== "string" ||
    v.webhook_secret === ""
  )
    // Never stored half: without a webhook secret pullgate would have to accept unsigned webhooks.
    throw new PageError(502, "GitHub's answer lacks the app's id, slug, key or webhook secret.");
  return v as unknown as Conversion;
}

export async function startSetupServer(options: SetupOptions): Promise<SetupServer> {
  const appYml = options.appYml ?? readAppYml();
  const webOrigin = new URL(options.webUrl).origin;
  const stateTtlMs = options.stateTtlMs ?? 60 * 60 * 1000;
  const states = new Map<string, { nonce: string; expiresAt: number }>();
  let phase: "open" | "converting" | "done" = "open";
  let resolveDone!: (result: SetupResult) => void;
  const done = new Promise<SetupResult>((r) => (resolveDone = r));
  const sockets = new Set<Socket>();
  let boundUrl = "";

  const send = (
    res: ServerResponse,
    status: number,
    title: string,
    inner: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      // No script, no external resource, no framing; forms go here or to GitHub only. No referrer:
      // the callback's URL carries the code.
      "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${webOrigin}; frame-ancestors 'none'; base-uri 'none'`,
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...extra,
    });
    res.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pullgate setup: ${escapeHtml(title)}</title></head>` +
        `<body><h1>${escapeHtml(title)}</h1>${inner}</body></html>`,
    );
  };

  const allowedHosts = new Set(
    ["127.0.0.1", "localhost", "[::1]", ...(options.allowedHosts ?? [])].map((h) => h.toLowerCase()),
  );
  /** The browser's host name when it is one the page answers to; undefined otherwise. */
  const hostOf = (req: IncomingMessage): string | undefined => {
    const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/.exec(String(req.headers.host ?? ""));
    return m?.[1] !== undefined && allowedHosts.has(m[1].toLowerCase()) ? m[0] : undefined;
  };
  /** The origin the operator's browser uses (cookies and the redirect must come back to it). */
  const originOf = (req: IncomingMessage): string => {
    const host = hostOf(req);
    return host === undefined ? boundUrl : `http://${host}`;
  };

  function startPage(res: ServerResponse): void {
    const name = typeof appYml.name === "string" ? appYml.name : "pullgate";
    send(
      res,
      200,
      "Register the GitHub App",
      `<p>pullgate has no GitHub App credentials yet. This page registers one from app.yml on ${escapeHtml(webOrigin)}, with app.yml's permissions and events.</p>` +
        `<form method="post" action="/setup/manifest">` +
        `<p><label>App name (unique on GitHub) <input name="name" value="${escapeHtml(name)}" required maxlength="${MAX_APP_NAME}"></label></p>` +
        `<p><label>Webhook URL (where GitHub reaches this server's /api/github/webhooks) <input name="webhook_url" type="url" value="${escapeHtml(options.webhookUrl ?? "")}" required size="60"></label></p>` +
        `<p><label>Organization (empty: your personal account) <input name="org" value=""></label></p>` +
        `<p><button type="submit">Continue</button></p></form>`,
    );
  }

  async function manifestPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (phase === "done") throw new PageError(410, "The app is already registered: restart pullgate serve.");
    const form = await readForm(req);
    const org = (form.get("org") ?? "").trim();
    if (org !== "" && !ORG_LOGIN.test(org)) throw new PageError(422, "That is not an organization login.");
    const origin = originOf(req);
    let manifest;
    try {
      manifest = renderManifest(appYml, {
        name: form.get("name") ?? "",
        webhookUrl: (form.get("webhook_url") ?? "").trim(),
        redirectUrl: `${origin}/setup/callback`,
      });
    } catch (error) {
      throw new PageError(422, (error as Error).message);
    }
    const now = Date.now();
    for (const [key, entry] of states) if (entry.expiresAt <= now) states.delete(key);
    const state = randomBytes(32).toString("hex");
    const nonce = randomBytes(32).toString("hex");
    states.set(state, { nonce, expiresAt: now + stateTtlMs });
    const target = `${webOrigin}${org === "" ? "" : `/organizations/${encodeURIComponent(org)}`}/settings/apps/new?state=${state}`;
    send(
      res,
      200,
      "Create the app on GitHub",
      `<p>GitHub will show the app for confirmation, then send you back here.</p>` +
        `<form method="post" action="${escapeHtml(target)}">` +
        `<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">` +
        `<p><button type="submit">Create on GitHub</button></p></form>`,
      // Lax: sent on GitHub's top-level redirect back, not on a cross-site subrequest.
      {
        "set-cookie": `${COOKIE}=${nonce}; HttpOnly; SameSite=Lax; Path=/setup; Max-Age=${Math.ceil(stateTtlMs / 1000)}`,
      },
    );
  }

  async function store(app: Conversion): Promise<SetupResult> {
    const dir = resolve(options.dir);
    let signingKey: SetupResult["signingKey"];
    const entries: [string, string][] = [
      ["APP_ID", String(app.id)],
      ["WEBHOOK_SECRET", app.webhook_secret],
      // base64: one line, which every env-file reader takes (serve decodes it).
      ["PRIVATE_KEY", Buffer.from(app.pem, "utf8").toString("base64")],
      ...Object.entries(options.carryEnv ?? {}),
    ];
    if (!options.hasSigningKey) {
      const keyDir = join(dir, `pullgate-record-key-${app.id}`);
      // Fails when it exists: a key is never silently replaced.
      await mkdir(keyDir, { mode: 0o700 });
      const host = new URL(webOrigin).hostname;
      const pair = await generateRecordKey({
        name: `${app.slug}[bot]`,
        email: `${app.slug}[bot]@users.noreply.${host}`,
      });
      const privateKeyPath = join(keyDir, "private.asc");
      const publicKeyPath = join(keyDir, "public.asc");
      await createFileAtomic(privateKeyPath, pair.privateKey, 0o600);
      await createFileAtomic(publicKeyPath, pair.publicKey, 0o644);
      entries.push(["PULLGATE_SIGNING_KEY_FILE", privateKeyPath]);
      signingKey = { fingerprint: pair.fingerprint, privateKeyPath, publicKeyPath };
    }
    const text = formatEnvFile(entries, [
      `GitHub App ${app.slug} (id ${app.id}), registered by pullgate's setup on ${new Date().toISOString()}.`,
      "Secrets: keep this file private (mode 0600) and out of version control.",
    ]);
    let envPath = join(dir, ".env");
    let envExisted = false;
    try {
      await createFileAtomic(envPath, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // Never overwritten: the credentials go beside it, and the operator is told.
      envExisted = true;
      envPath = join(dir, `.env.pullgate-${app.id}`);
      await createFileAtomic(envPath, text);
    }
    return {
      appId: app.id,
      slug: app.slug,
      htmlUrl: app.html_url,
      installUrl: `${app.html_url.replace(/\/+$/, "")}/installations/new`,
      envPath,
      envExisted,
      ...(signingKey ? { signingKey } : {}),
    };
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (phase === "done")
      throw new PageError(410, "The app is already registered: this callback is not accepted again.");
    if (phase === "converting") throw new PageError(409, "A registration is being completed.");
    const state = url.searchParams.get("state") ?? "";
    const code = url.searchParams.get("code") ?? "";
    const issued = states.get(state);
    const nonce = cookieValue(req, COOKIE);
    // A state this server did not issue (or issued to another browser, or long ago) is a forged
    // callback: an attacker's app must never be stored as this server's.
    if (
      issued === undefined ||
      issued.expiresAt <= Date.now() ||
      nonce === undefined ||
      !sameSecret(nonce, issued.nonce)
    )
      throw new PageError(403, "Unknown, expired or foreign setup state: start again from the setup page.");
    states.delete(state);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(code))
      throw new PageError(400, "GitHub's callback has no valid code.");
    phase = "converting";
    let result: SetupResult;
    try {
      const response = await fetch(
        `${options.apiUrl.replace(/\/+$/, "")}/app-manifests/${code}/conversions`,
        {
          method: "POST",
          headers: {
            accept: "application/vnd.github+json",
            "user-agent": "pullgate-setup",
            "x-github-api-version": "2022-11-28",
          },
          signal: AbortSignal.timeout(30_000),
        },
      );
      if (response.status !== 201)
        throw new PageError(502, `GitHub refused the code (HTTP ${response.status}): start again.`);
      result = await store(asConversion(await response.json()));
    } catch (error) {
      phase = "open";
      throw error instanceof PageError
        ? error
        : new PageError(500, `Storing the app failed: ${(error as Error).message}`);
    }
    phase = "done";
    send(
      res,
      200,
      `GitHub App ${result.slug} registered`,
      `<p>Credentials stored in <code>${escapeHtml(result.envPath)}</code>${result.envExisted ? " (your existing .env was left untouched: merge this file into it)" : ""}.</p>` +
        (result.signingKey
          ? `<p>Record-signing key ${escapeHtml(result.signingKey.fingerprint)}: public key for agents at <code>${escapeHtml(result.signingKey.publicKeyPath)}</code>.</p>`
          : "") +
        `<p><a href="${escapeHtml(result.installUrl)}">Install the app</a> on the repositories it gates, then restart <code>pullgate serve</code>.</p>`,
      { "set-cookie": `${COOKIE}=; HttpOnly; SameSite=Lax; Path=/setup; Max-Age=0` },
    );
    resolveDone(result);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    const route = `${req.method ?? "GET"} ${url.pathname}`;
    const handle = async () => {
      if (hostOf(req) === undefined)
        throw new PageError(421, "Open the setup page as 127.0.0.1 or localhost (or a name in HOST).");
      if (route === "GET /") return startPage(res);
      if (route === "POST /setup/manifest") return manifestPage(req, res);
      if (route === "GET /setup/callback") return callback(req, res, url);
      throw new PageError(404, "Not found.");
    };
    handle().catch((error: unknown) => {
      const status = error instanceof PageError ? error.status : 500;
      const message = error instanceof PageError ? error.message : "Internal error.";
      if (!res.headersSent)
        send(
          res,
          status,
          status === 404 ? "Not found" : "Setup failed",
          `<p>${escapeHtml(message)}</p><p><a href="/">Setup page</a></p>`,
        );
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  boundUrl = `http://${hostForUrl === "0.0.0.0" || hostForUrl === "[::]" ? "127.0.0.1" : hostForUrl}:${address.port}`;
  return {
    url: boundUrl,
    done,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Lets the last answer (the success page) finish before the sockets go.
      for (const socket of sockets) socket.end();
      setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1_000).unref();
      await closed;
    },
  };
}
