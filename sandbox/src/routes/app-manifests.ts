import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxCore } from "../core.js";
import { nodeId } from "../core.js";
import { HttpError } from "../http/errors.js";
import { created, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";

/**
 * GitHub's app-manifest flow (docs: "Registering a GitHub App from a manifest"): a page of the web
 * UI, `{web}/settings/apps/new` (or `/organizations/{org}/settings/apps/new`), receives a
 * `manifest` form field and a `state` from the app being set up; the user confirms; GitHub creates
 * the app and redirects to the manifest's `redirect_url` with `?code=…&state=…`; the app then
 * trades the code for its credentials with `POST /app-manifests/{code}/conversions` (no
 * authentication: the code is the credential). A code works once and for one hour.
 *
 * The sandbox hosts one GitHub App. Registering one from a manifest replaces the pre-registered
 * app, as deleting it and creating another would on GitHub: the old app's installations and their
 * tokens are gone, later JWTs must be signed with the new key, webhooks are signed with the new
 * secret and sent to the manifest's hook URL, new installations are of the new app. The key is
 * also written to the sandbox's `app.pem`, so a restarted sandbox is still the registered app.
 */

/** GitHub: "This code … expires after one hour." */
export const MANIFEST_CODE_TTL_MS = 60 * 60 * 1000;

/** Manifest pages answer forms no larger than this (GitHub's limits are far lower). */
export const MAX_MANIFEST_FORM = 256 * 1024;

const DOCS = "https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest";

/** The credentials the sandbox gives to whoever presents the app's code (once). */
export interface RegisteredApp {
  id: number;
  slug: string;
  privateKeyPem: string;
  privateKeyPath: string;
  webhookSecret: string;
}

export interface ManifestControl {
  setWebhookUrl(url: string | undefined): void;
  /** Told after the sandbox became a newly registered app (server.ts updates its `app`). */
  onRegistered(app: RegisteredApp): void;
}

/** The manifest fields the sandbox understands, validated. */
export interface AppManifest {
  name: string | undefined;
  url: string;
  description: string | null;
  hookUrl: string | undefined;
  hookActive: boolean;
  redirectUrl: string;
  public: boolean;
  permissions: Record<string, "read" | "write" | "admin">;
  events: string[];
}

interface PendingConversion {
  expiresAt: number;
  body: Record<string, unknown>;
}

export interface WebResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Validates a manifest as GitHub does before showing the confirmation; errors are the page's list. */
export function parseManifest(text: string): { manifest: AppManifest } | { errors: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { errors: ["The manifest is not valid JSON."] };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { errors: ["The manifest must be a JSON object."] };
  const m = raw as Record<string, unknown>;
  const errors: string[] = [];
  if (!isHttpUrl(m.url)) errors.push("url must be an http(s) URL (the app's homepage).");
  if (m.name !== undefined && (typeof m.name !== "string" || m.name.trim() === "" || m.name.length > 34))
    errors.push("name must be a non-empty string of at most 34 characters.");
  if (!isHttpUrl(m.redirect_url))
    errors.push("redirect_url must be an http(s) URL: it receives the code after the app is created.");
  const hook = m.hook_attributes;
  let hookUrl: string | undefined;
  let hookActive = false;
  if (hook !== undefined) {
    if (typeof hook !== "object" || hook === null || Array.isArray(hook)) {
      errors.push("hook_attributes must be an object.");
    } else {
      const h = hook as Record<string, unknown>;
      hookActive = h.active !== false;
      if (hookActive && !isHttpUrl(h.url)) errors.push("hook_attributes.url must be an http(s) URL.");
      if (isHttpUrl(h.url)) hookUrl = h.url;
    }
  }
  const permissions: AppManifest["permissions"] = {};
  const perms = m.default_permissions;
  if (perms !== undefined) {
    if (typeof perms !== "object" || perms === null || Array.isArray(perms)) {
      errors.push("default_permissions must be an object.");
    } else {
      for (const [name, level] of Object.entries(perms as Record<string, unknown>)) {
        if (level !== "read" && level !== "write" && level !== "admin")
          errors.push(`default_permissions.${name} must be read, write or admin.`);
        else permissions[name] = level;
      }
    }
  }
  const events = m.default_events ?? [];
  if (!Array.isArray(events) || events.some((e) => typeof e !== "string" || e === ""))
    errors.push("default_events must be an array of event names.");
  if (m.public !== undefined && typeof m.public !== "boolean") errors.push("public must be a boolean.");
  if (m.description !== undefined && m.description !== null && typeof m.description !== "string")
    errors.push("description must be a string.");
  if (errors.length > 0) return { errors };
  // GitHub grants every app metadata read.
  permissions.metadata ??= "read";
  return {
    manifest: {
      name: typeof m.name === "string" ? m.name.trim() : undefined,
      url: m.url as string,
      description: typeof m.description === "string" ? m.description : null,
      hookUrl,
      hookActive,
      redirectUrl: m.redirect_url as string,
      public: m.public === true,
      permissions,
      events: [...new Set(events as string[])],
    },
  };
}

/** GitHub's slug: lowercase, runs of anything but letters and digits become one dash. */
export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function page(status: number, title: string, inner: string): WebResponse {
  return {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The page runs no script and can be framed by nobody.
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${inner}</body></html>`,
  };
}

/** `{org}` of an org new-app page, "" for the user page, undefined for any other path. */
export function manifestPagePath(pathname: string): string | undefined {
  if (pathname === "/settings/apps/new") return "";
  const m = /^\/organizations\/([^/]+)\/settings\/apps\/new$/.exec(pathname);
  if (m === null) return undefined;
  try {
    const org = decodeURIComponent(m[1] ?? "");
    return org === "" ? undefined : org;
  } catch {
    return undefined;
  }
}

export class AppManifests {
  private readonly pending = new Map<string, PendingConversion>();

  constructor(
    private readonly core: SandboxCore,
    private readonly control: ManifestControl,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /**
   * The new-app page. GET (or a POST without a manifest) shows that a manifest is expected; a
   * POST with `manifest` shows the confirmation form (the name can be changed, as on GitHub); its
   * submission (`confirm`) creates the app and redirects to `redirect_url?code=…&state=…`.
   * `state` comes from the query (GitHub's documented place) or the form, and is passed back as is.
   */
  handle(method: string, url: URL, form: URLSearchParams, org: string): WebResponse {
    if (method !== "GET" && method !== "POST") return page(405, "Method not allowed", "");
    let owner = "admin";
    if (org !== "") {
      const record = this.core.org(org);
      if (record === undefined) return page(404, "Not Found", "<p>No such organization.</p>");
      owner = record.login;
    }
    const manifestText = method === "POST" ? form.get("manifest") : null;
    if (manifestText === null)
      return page(
        200,
        "Register new GitHub App",
        `<p>POST a <code>manifest</code> form field to this page to register an app from a manifest (<a href="${DOCS}">GitHub's docs</a>).</p>`,
      );
    const state = url.searchParams.get("state") ?? form.get("state") ?? "";
    const parsed = parseManifest(manifestText);
    if ("errors" in parsed)
      return page(
        422,
        "Invalid GitHub App manifest",
        `<ul>${parsed.errors.map((e) => `<li>${escapeHtml(e)}</li>`).join("")}</ul>`,
      );
    const { manifest } = parsed;
    if (form.get("confirm") !== "1") {
      const action = `${url.pathname}${state === "" ? "" : `?state=${encodeURIComponent(state)}`}`;
      return page(
        200,
        `Create GitHub App for ${owner}`,
        `<form method="post" action="${escapeHtml(action)}">` +
          `<input type="hidden" name="manifest" value="${escapeHtml(manifestText)}">` +
          `<input type="hidden" name="confirm" value="1">` +
          `<label>GitHub App name <input name="name" value="${escapeHtml(manifest.name ?? "")}" required maxlength="34"></label>` +
          `<p>Homepage: ${escapeHtml(manifest.url)}</p>` +
          `<p>Webhook: ${escapeHtml(manifest.hookActive ? (manifest.hookUrl ?? "") : "inactive")}</p>` +
          `<p>Permissions: ${escapeHtml(
            Object.entries(manifest.permissions)
              .map(([k, v]) => `${k}: ${v}`)
              .join(", "),
          )}</p>` +
          `<p>Events: ${escapeHtml(manifest.events.join(", "))}</p>` +
          `<button type="submit">Create GitHub App for ${escapeHtml(owner)}</button></form>`,
      );
    }
    const name = (form.get("name") ?? manifest.name ?? "").trim();
    if (name === "" || name.length > 34 || slugOf(name) === "")
      return page(422, "Invalid GitHub App manifest", "<ul><li>The app needs a name.</li></ul>");
    const code = this.register(manifest, name, owner);
    const target = new URL(manifest.redirectUrl);
    target.searchParams.set("code", code);
    if (state !== "") target.searchParams.set("state", state);
    return {
      status: 302,
      headers: { location: target.toString(), "cache-control": "no-store" },
      body: "",
    };
  }

  /** Creates the app (the sandbox becomes it) and returns the one-time code for its credentials. */
  private register(manifest: AppManifest, name: string, owner: string): string {
    const core = this.core;
    const now = core.now();
    const id = core.nextId();
    const slug = slugOf(name);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    // GitHub hands out PKCS#1 keys ("BEGIN RSA PRIVATE KEY").
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const webhookSecret = randomBytes(20).toString("hex");
    const clientSecret = randomBytes(20).toString("hex");

    // The previous app goes, with what was only its own.
    for (const key of Object.keys(core.state.installations)) delete core.state.installations[key];
    for (const [token, record] of Object.entries(core.state.tokens)) {
      if (record.kind === "installation") delete core.state.tokens[token];
    }
    core.state.app = { id, slug, name, webhookSecret, owner, created_at: now };
    const botLogin = `${slug}[bot]`;
    if (core.state.users[botLogin] === undefined) {
      core.state.users[botLogin] = {
        id: core.nextId(),
        login: botLogin,
        email: null,
        name: botLogin,
        type: "Bot",
        site_admin: false,
        created_at: now,
      };
    }
    core.appPublicKey = createPublicKey(pem);
    core.webhooks.setApp(id, webhookSecret);
    this.control.setWebhookUrl(manifest.hookActive ? manifest.hookUrl : undefined);
    const privateKeyPath = join(core.dir, "app.pem");
    // Replaced atomically: a crash leaves the old key or the new one, never half of one.
    const temporary = `${privateKeyPath}.${process.pid}.tmp`;
    writeFileSync(temporary, pem, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, privateKeyPath);
    core.store.changed();
    this.control.onRegistered({ id, slug, privateKeyPem: pem, privateKeyPath, webhookSecret });

    const body: Record<string, unknown> = {
      id,
      slug,
      node_id: nodeId("App", id),
      client_id: `Iv1.sandbox${id}`,
      owner: core.userJson(owner),
      name,
      description: manifest.description,
      external_url: manifest.url,
      html_url: `${core.origin}/apps/${slug}`,
      created_at: now,
      updated_at: now,
      permissions: manifest.permissions,
      events: manifest.events,
      installations_count: 0,
      client_secret: clientSecret,
      webhook_secret: webhookSecret,
      pem,
    };
    const nowMs = this.nowMs();
    for (const [code, entry] of this.pending) if (entry.expiresAt <= nowMs) this.pending.delete(code);
    const code = randomBytes(20).toString("hex");
    this.pending.set(code, { expiresAt: nowMs + MANIFEST_CODE_TTL_MS, body });
    return code;
  }

  /** The credentials for a code, once; undefined when unknown, used or expired. */
  convert(code: string): Record<string, unknown> | undefined {
    const entry = this.pending.get(code);
    if (entry === undefined) return undefined;
    this.pending.delete(code);
    return entry.expiresAt > this.nowMs() ? entry.body : undefined;
  }
}

export function registerAppManifestRoutes(router: Router, manifests: AppManifests): void {
  // No authentication: the code is the credential (a used or expired one is GitHub's 404).
  router.on("POST", "/app-manifests/{code}/conversions", (req: ApiRequest) => {
    const body = manifests.convert(req.params.code ?? "");
    if (body === undefined)
      throw new HttpError(404, "Not Found", {
        documentationUrl: "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest",
      });
    return created(body);
  });
}
