import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SandboxCore } from "./core.js";
import { resolveActor, credentialFromHeader, newToken } from "./auth/tokens.js";
import type { Actor } from "./auth/actor.js";
import { HttpError } from "./http/errors.js";
import { Body, type ApiRequest, type ApiResponse } from "./http/request.js";
import { Router } from "./http/router.js";
import { RateLimiter, rateLimitHeaders } from "./http/ratelimit.js";
import { VARY, etagOf, lastModifiedOf, notModified } from "./http/conditional.js";
import { Instrumentation } from "./instrumentation.js";
import { WebFlowKey } from "./signing/webflow.js";
import { StateStore, isoNow } from "./state/store.js";
import { WebhookQueue } from "./webhooks/queue.js";
import { registerRoutes } from "./routes/index.js";
import { wakeQueue } from "./queue/engine.js";
import { GitSmartHttp } from "./git/smarthttp.js";
import { createUser } from "./routes/admin.js";
import { Contract } from "./contract/contract.js";
import { AppManifests, MAX_MANIFEST_FORM, manifestPagePath } from "./routes/app-manifests.js";

export interface SandboxOptions {
  /** Where state.json, the app key and the bare repositories live (created if missing). */
  dir: string;
  /** 0 or unset = any free port. */
  port?: number;
  /** Where the app's webhooks are POSTed; unset = logged, not sent (settable later). */
  appWebhookUrl?: string;
  /** Requests per hour per credential (GitHub: 5,000 for users, up to 15,000 for installations). */
  rateLimit?: number;
  /** The pre-registered app's slug (its bot is `<slug>[bot]`). */
  appSlug?: string;
  /**
   * 0 (default): state.json is rewritten after every mutating request. Above 0: at most once per
   * this many ms (large benchmark states; a SIGKILL may lose the last interval), and on close.
   */
  persistDebounceMs?: number;
  /**
   * Strict mode (default on; `PULLGATE_SANDBOX_STRICT=0` or `false` here turns it off): every API
   * request must be an operation of GitHub's description (else 404) with a valid query and body
   * (else 422), as GitHub answers. Needs the dev dependencies @octokit/openapi and
   * @octokit/openapi-webhooks; without them the sandbox runs non-strict and says so once.
   */
  strict?: boolean;
  /**
   * Also validate every response body and webhook payload against GitHub's schemas, recording
   * mismatches as violations (tests: costs validator compilation). Default off.
   */
  validateResponses?: boolean;
}

export interface Sandbox {
  /** `http://127.0.0.1:P/api/v3` (GHES layout). */
  apiUrl: string;
  /** `http://127.0.0.1:P/`: repositories at `{gitUrl}{owner}/{repo}.git`. */
  gitUrl: string;
  port: number;
  dir: string;
  /** A site administrator's token. */
  adminToken: string;
  app: { id: number; slug: string; privateKeyPath: string; privateKeyPem: string; webhookSecret: string };
  /** The armored public key of the sandbox's web-flow key (signs merge and squash commits). */
  webFlowPublicKey: string;
  webFlowPublicKeyPath: string;
  /** The live state (read-only by convention; mutate through the API). */
  state: SandboxCore["state"];
  instrumentation: Instrumentation;
  webhooks: WebhookQueue;
  /** The contract checks: `strict`, and the violations recorded (sandbox/src/contract/). */
  contract: Contract;
  /** Every route template the sandbox serves (`GET /repos/{owner}/{repo}`). */
  routes: string[];
  setWebhookUrl(url: string | undefined): void;
  /** Resolves when no webhook is queued or being delivered and no push is being processed. */
  idle(): Promise<void>;
  /** Writes state.json now (only needed with `persistDebounceMs`). */
  flush(): void;
  close(): Promise<void>;
}

function loadOrCreateAppKey(dir: string): { pem: string; path: string } {
  const path = join(dir, "app.pem");
  if (existsSync(path)) return { pem: readFileSync(path, "utf8"), path };
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { pem, path };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    ...headers,
  });
  res.end(text);
}

/** API request bodies above this are refused (GitHub's own limits are far lower for JSON). */
const MAX_API_BODY = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_API_BODY) throw new HttpError(413, "Request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the GitHub emulator on 127.0.0.1. */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const dir = resolve(options.dir);
  mkdirSync(join(dir, "repos"), { recursive: true });
  const appKey = loadOrCreateAppKey(dir);
  const store = new StateStore(
    dir,
    () => ({
      id: 1,
      slug: options.appSlug ?? "pullgate",
      name: options.appSlug ?? "pullgate",
      webhookSecret: randomBytes(20).toString("hex"),
      owner: "admin",
      created_at: isoNow(),
    }),
    options.persistDebounceMs ?? 0,
  );
  const webflow = await WebFlowKey.loadOrCreate(dir);
  const instrumentation = new Instrumentation();
  const envStrict = process.env.PULLGATE_SANDBOX_STRICT;
  const contract = new Contract({
    strict: options.strict ?? !(envStrict === "0" || envStrict === "false"),
    validateResponses: options.validateResponses ?? false,
  });
  let webhookUrl = options.appWebhookUrl;
  const webhooks = new WebhookQueue({
    url: () => webhookUrl,
    secret: store.state.app.webhookSecret,
    appId: store.state.app.id,
    nextId: () => store.nextId(),
    now: () => isoNow(),
    inspect: (event, payload) => {
      // What goes on the wire: undefined properties dropped.
      if (contract.validateResponses)
        contract.checkWebhook(event, JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);
    },
  });

  // Bootstrap: the site admin, its token, and the app's bot user.
  const state = store.state;
  let adminToken = Object.values(state.tokens).find((t) => t.kind === "admin")?.token;
  if (state.users.admin === undefined) {
    const fakeCore = { nextId: () => store.nextId(), now: () => isoNow(), state } as unknown as SandboxCore;
    createUser(fakeCore, "admin", "admin@sandbox.local", true);
  }
  if (adminToken === undefined) {
    adminToken = newToken("ghp");
    state.tokens[adminToken] = { kind: "admin", token: adminToken, login: "admin" };
  }
  const botLogin = `${state.app.slug}[bot]`;
  if (state.users[botLogin] === undefined) {
    state.users[botLogin] = {
      id: store.nextId(),
      login: botLogin,
      email: null,
      name: botLogin,
      type: "Bot",
      site_admin: false,
      created_at: isoNow(),
    };
  }
  store.persist();

  const router = new Router();
  const hookSecret = randomBytes(24).toString("hex");
  const rateLimiter = new RateLimiter(options.rateLimit ?? 15_000);
  const sockets = new Set<Socket>();
  // Assigned once the port is known (URLs depend on it); requests cannot arrive before.
  const ready: { core?: SandboxCore; git?: GitSmartHttp; manifests?: AppManifests } = {};

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      console.error("sandbox: unhandled error", error);
      if (!res.headersSent) sendJson(res, 500, { message: "Server Error" }, {});
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const core = new SandboxCore({
    dir,
    store,
    origin,
    appPublicKey: createPublicKey(appKey.pem),
    webflow,
    webhooks,
    instrumentation,
    rateLimit: options.rateLimit ?? 15_000,
    adminToken,
    wakeQueue,
  });
  const git = new GitSmartHttp(core, { hookSecret, hookUrl: `${origin}/api/v3/sandbox/hooks/pre-receive` });
  ready.core = core;
  ready.git = git;
  // What `sandbox.app` reports; a manifest registration (routes/app-manifests.ts) replaces it.
  const appInfo: Sandbox["app"] = {
    id: state.app.id,
    slug: state.app.slug,
    privateKeyPath: appKey.path,
    privateKeyPem: appKey.pem,
    webhookSecret: state.app.webhookSecret,
  };
  const manifests = new AppManifests(core, {
    setWebhookUrl: (url) => (webhookUrl = url),
    onRegistered: (app) => Object.assign(appInfo, app),
  });
  registerRoutes(router, core, {
    setWebhookUrl: (url) => (webhookUrl = url),
    webhookUrl: () => webhookUrl,
    git,
    rateLimiter,
    manifests,
  });
  ready.manifests = manifests;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const git = ready.git;
    if (url.pathname === "/api/v3/sandbox/hooks/pre-receive" && git !== undefined) {
      if (req.headers["x-sandbox-hook-secret"] !== hookSecret)
        return sendJson(res, 403, { message: "Forbidden" }, {});
      const body = JSON.parse((await readBody(req)).toString("utf8")) as unknown;
      return sendJson(res, 200, await git.preReceive(body), {});
    }
    if (url.pathname === "/api/v3" || url.pathname.startsWith("/api/v3/")) return handleApi(req, res, url);
    // The web UI's one page the sandbox has: registering an app from a manifest.
    const manifestOrg = manifestPagePath(url.pathname);
    const manifests = ready.manifests;
    if (manifestOrg !== undefined && manifests !== undefined) {
      const raw = await readBody(req);
      if (raw.length > MAX_MANIFEST_FORM)
        return sendJson(res, 413, { message: "Request body too large" }, {});
      const type = String(req.headers["content-type"] ?? "");
      const form = new URLSearchParams(
        type.startsWith("application/x-www-form-urlencoded") ? raw.toString("utf8") : "",
      );
      const page = manifests.handle((req.method ?? "GET").toUpperCase(), url, form, manifestOrg);
      if (req.method !== "GET") store.changed();
      res.writeHead(page.status, page.headers);
      res.end(page.body);
      return;
    }
    const gitMatch = /^\/([^/]+)\/([^/]+?)\.git(\/.*)?$/.exec(url.pathname);
    if (gitMatch !== null && git !== undefined) {
      return git.handle(
        req,
        res,
        decodeURIComponent(gitMatch[1] ?? ""),
        decodeURIComponent(gitMatch[2] ?? ""),
        gitMatch[3] ?? "/",
        url.search.slice(1),
      );
    }
    sendJson(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" }, {});
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const c = ready.core;
    if (c === undefined) return sendJson(res, 503, { message: "Starting" }, {});
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname.slice("/api/v3".length) || "/";
    const headers: Record<string, string> = {
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": randomUUID().toUpperCase(),
      "x-github-enterprise-version": "3.14.0",
      "x-github-api-version-selected": "2022-11-28",
      vary: VARY,
    };
    const credential = credentialFromHeader(req.headers.authorization);
    let actor: Actor | null;
    try {
      actor = resolveActor(c, credential);
    } catch (error) {
      await readBody(req);
      if (error instanceof HttpError) return sendJson(res, error.status, error.body(), headers);
      throw error;
    }
    // Budgets per credential; every JWT of the app shares the app's budget.
    const limitKey = actor?.kind === "app" ? `app:${actor.appId}` : (credential ?? null);
    const limit = rateLimiter.consume(limitKey);
    Object.assign(headers, rateLimitHeaders(limit));
    if (limit.exceeded) {
      await readBody(req);
      return sendJson(
        res,
        403,
        {
          message: `API rate limit exceeded for ${actor === null ? "127.0.0.1" : "this token"}.`,
          documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        },
        headers,
      );
    }
    const match = router.match(method, path);
    if (match === undefined) {
      await readBody(req);
      if (contract.strict)
        contract.record({
          kind: "unknown-route",
          subject: `${method} ${path}`,
          detail: ["no sandbox route serves this request"],
        });
      return sendJson(res, 404, new HttpError(404, "Not Found").body(), headers);
    }
    const routeContract = contract.route(match.template);
    if (contract.strict && routeContract.kind === "none") {
      // A sandbox route GitHub does not have: GitHub would answer 404 (sources.ts lists the exceptions).
      await readBody(req);
      contract.record({
        kind: "not-a-github-operation",
        subject: match.template,
        detail: ["no operation of GitHub's description has this method and path"],
      });
      return sendJson(res, 404, new HttpError(404, "Not Found").body(), headers);
    }
    const operation = routeContract.kind === "operation" ? routeContract.operation : undefined;
    c.instrumentation.record(match.template);
    const fault = c.instrumentation.take(match.template);
    if (fault?.spendRateLimit !== undefined)
      Object.assign(headers, rateLimitHeaders(rateLimiter.spend(limitKey, fault.spendRateLimit)));
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (error instanceof HttpError)
        return sendJson(res, error.status, error.body(), { ...headers, connection: "close" });
      throw error;
    }
    if (fault !== undefined) {
      if (fault.latencyMs !== undefined) await sleep(fault.latencyMs);
      if (fault.timeout === true) return; // hang: the client gives up; close() destroys the socket
      if (fault.secondaryRateLimit !== undefined) {
        return sendJson(
          res,
          fault.secondaryRateLimit,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " +
              headers["x-github-request-id"] +
              ".",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
          },
          { ...headers, "retry-after": String(fault.retryAfter ?? 1) },
        );
      }
      if (fault.status !== undefined) {
        return sendJson(
          res,
          fault.status,
          fault.status === 404
            ? { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }
            : fault.status === 500
              ? { message: "Server Error" }
              : { message: "Bad Gateway" },
          headers,
        );
      }
    }
    let json: Record<string, unknown> = {};
    let parsed: unknown;
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw.toString("utf8"));
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
          json = parsed as Record<string, unknown>;
        else if (Array.isArray(parsed)) json = { __array: parsed };
      } catch {
        return sendJson(res, 400, new HttpError(400, "Problems parsing JSON").body(), headers);
      }
    }
    if (operation !== undefined && contract.strict) {
      const refusal = contract.checkRequest(operation, url.searchParams, parsed, raw.length > 0);
      if (refusal !== null) {
        contract.checkResponse(operation, refusal.status, refusal.body());
        return sendJson(res, refusal.status, refusal.body(), headers);
      }
    }
    const apiReq: ApiRequest = {
      method,
      route: match.template,
      params: match.params,
      url: `${origin}${url.pathname}`,
      query: url.searchParams,
      body: new Body(json),
      headers: req.headers,
      actor,
    };
    let response: ApiResponse;
    try {
      response = await match.handler(apiReq);
    } catch (error) {
      if (error instanceof HttpError) {
        const body =
          operation === undefined ? error.body() : contract.shapeError(operation, error.status, error.body());
        if (operation !== undefined) contract.checkResponse(operation, error.status, body);
        return sendJson(res, error.status, body, { ...headers, ...(error.options.headers ?? {}) });
      }
      console.error(`sandbox: ${match.template} failed`, error);
      return sendJson(res, 500, { message: "Server Error" }, headers);
    } finally {
      if (method !== "GET" && method !== "HEAD") store.changed();
    }
    // A conditional GET whose representation did not change: 304 without a body, not counted
    // against the rate limit nor among the counted requests (src/sandbox/http/conditional.ts).
    const conditional = (text: Buffer | string, lastModified: string | undefined): boolean => {
      if (method !== "GET" || response.status !== 200) return false;
      const etag = etagOf(text, req.headers);
      headers.etag = etag;
      if (lastModified !== undefined) headers["last-modified"] = lastModified;
      if (!notModified(req.headers, etag, lastModified)) return false;
      Object.assign(headers, rateLimitHeaders(rateLimiter.refund(limitKey)));
      c.instrumentation.recordNotModified(match.template);
      res.writeHead(304, { ...headers, ...(response.headers ?? {}) });
      res.end();
      return true;
    };
    if (response.raw !== undefined) {
      if (conditional(response.raw, undefined)) return;
      res.writeHead(response.status, { ...headers, ...(response.headers ?? {}) });
      res.end(response.raw);
      return;
    }
    const body = response.status === 204 ? undefined : response.body;
    if (body !== undefined && conditional(JSON.stringify(body), lastModifiedOf(body))) return;
    // What goes on the wire (undefined properties dropped) is what GitHub's schema must accept.
    if (operation !== undefined && contract.validateResponses)
      contract.checkResponse(
        operation,
        response.status,
        body === undefined ? undefined : (JSON.parse(JSON.stringify(body)) as unknown),
      );
    sendJson(res, response.status, body, {
      ...headers,
      ...(response.headers ?? {}),
    });
  }

  const sandbox: Sandbox = {
    apiUrl: `${origin}/api/v3`,
    gitUrl: `${origin}/`,
    port,
    dir,
    adminToken,
    app: appInfo,
    webFlowPublicKey: webflow.publicArmored,
    webFlowPublicKeyPath: webflow.publicKeyPath,
    state,
    instrumentation,
    webhooks,
    contract,
    routes: router.templates(),
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    idle: () => webhooks.idle(),
    flush: () => store.flush(),
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await webhooks.idle();
      core.closeGit();
      store.flush();
    },
  };
  return sandbox;
}
