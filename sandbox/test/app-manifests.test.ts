/**
 * GitHub's app-manifest flow in the sandbox: the new-app page takes a manifest and a state, shows
 * the confirmation, creates the app and redirects with a one-time code; the code converts once
 * (GitHub's response shape, checked against its schema by the strict sandbox on every response)
 * and the created app is the sandbox's app afterwards: its JWT (signed with the returned key)
 * authenticates, the old key's does not, installations are of the new app, and webhooks are signed
 * with the returned secret and sent to the manifest's hook URL.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { settle, startTestSandbox, type TestSandbox } from "../src/testing/harness.js";
import { MANIFEST_CODE_TTL_MS, parseManifest, slugOf } from "../src/routes/app-manifests.js";

interface Hook {
  event: string;
  signature: string | undefined;
  body: string;
}

/** The hidden and visible inputs of the first form of a page (the confirmation form). */
function formFields(html: string): { action: string; fields: URLSearchParams } {
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in ${html}`);
  const unescape = (v: string) =>
    v
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input (?:type="hidden" )?name="([^"]+)" value="([^"]*)"/g))
    fields.set(m[1] ?? "", unescape(m[2] ?? ""));
  return { action: unescape(action), fields };
}

describe("sandbox: app-manifest flow", () => {
  let t: TestSandbox;
  let web: string;
  let receiver: Server;
  let hookUrl: string;
  const hooks: Hook[] = [];

  const manifest = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      name: "Gate Keeper",
      url: "https://example.test/gate",
      hook_attributes: { url: hookUrl },
      redirect_url: "http://127.0.0.1:9/setup/callback",
      public: false,
      default_permissions: { checks: "write", contents: "read" },
      default_events: ["pull_request", "push"],
      ...over,
    });

  const post = (path: string, form: Record<string, string>) =>
    fetch(`${web}${path}`, {
      method: "POST",
      body: new URLSearchParams(form),
      redirect: "manual",
    });

  /** The whole browser side: manifest POST, confirmation POST; returns the redirect. */
  async function createApp(path: string, text: string, state: string): Promise<URL> {
    const first = await post(`${path}?state=${encodeURIComponent(state)}`, { manifest: text });
    expect(first.status).toBe(200);
    const { action, fields } = formFields(await first.text());
    const second = await post(action, Object.fromEntries(fields));
    expect(second.status).toBe(302);
    return new URL(second.headers.get("location") ?? "");
  }

  const convert = (code: string) =>
    settle(t.octokit("").request("POST /app-manifests/{code}/conversions", { code }));

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        hooks.push({
          event: String(req.headers["x-github-event"]),
          signature: req.headers["x-hub-signature-256"] as string | undefined,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    t = await startTestSandbox();
    web = t.sandbox.gitUrl.replace(/\/$/, "");
    const owner = await t.createUser("olivia");
    await t.createOrgWithoutApp("acme", owner.login);
    await t.createRepo("acme", "deploy");
  });

  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it("validates manifests as the confirmation page does", () => {
    expect(parseManifest("{")).toEqual({ errors: ["The manifest is not valid JSON."] });
    const bad = parseManifest(
      JSON.stringify({ url: "ftp://x", default_permissions: { checks: "owner" }, hook_attributes: {} }),
    );
    expect("errors" in bad && bad.errors).toEqual([
      "url must be an http(s) URL (the app's homepage).",
      "redirect_url must be an http(s) URL: it receives the code after the app is created.",
      "hook_attributes.url must be an http(s) URL.",
      "default_permissions.checks must be read, write or admin.",
    ]);
    expect(slugOf("  Gate Keeper (prod)! ")).toBe("gate-keeper-prod");
  });

  it("refuses an invalid manifest and an unknown org with GitHub's pages", async () => {
    const invalid = await post("/settings/apps/new", { manifest: manifest({ url: "not a url" }) });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain("url must be an http(s) URL");
    const noOrg = await post("/organizations/nobody/settings/apps/new", { manifest: manifest() });
    expect(noOrg.status).toBe(404);
    // A page without a manifest only says what it expects.
    const plain = await fetch(`${web}/settings/apps/new`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("escapes the manifest into the confirmation page (no markup injection)", async () => {
    const res = await post("/settings/apps/new?state=s", {
      manifest: manifest({ name: '"><script>x</script>' }),
    });
    const html = await res.text();
    expect(html).not.toContain("<script>");
    const { fields } = formFields(html);
    expect(JSON.parse(fields.get("manifest") ?? "{}")).toMatchObject({ name: '"><script>x</script>' });
  });

  it("creates the app, converts its code once, and the sandbox is that app afterwards", async () => {
    const oldPem = t.sandbox.app.privateKeyPem;
    const oldId = t.sandbox.app.id;
    const redirect = await createApp("/organizations/acme/settings/apps/new", manifest(), "st&te=1");
    expect(`${redirect.origin}${redirect.pathname}`).toBe("http://127.0.0.1:9/setup/callback");
    expect(redirect.searchParams.get("state")).toBe("st&te=1");
    const code = redirect.searchParams.get("code") ?? "";
    expect(code).toMatch(/^[0-9a-f]{40}$/);

    const converted = await convert(code);
    expect(converted.status).toBe(201);
    const app = converted.data as Record<string, unknown>;
    expect(app).toMatchObject({
      slug: "gate-keeper",
      name: "Gate Keeper",
      external_url: "https://example.test/gate",
      owner: { login: "acme", type: "Organization" },
      permissions: { checks: "write", contents: "read", metadata: "read" },
      events: ["pull_request", "push"],
      html_url: `${web}/apps/gate-keeper`,
    });
    expect(app.id).not.toBe(oldId);
    expect(String(app.pem)).toContain("-----BEGIN RSA PRIVATE KEY-----");
    expect(String(app.webhook_secret)).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof app.client_secret).toBe("string");

    // Replayed: GitHub's 404.
    const replay = await convert(code);
    expect(replay.status).toBe(404);

    // The returned key signs the app's JWTs; the replaced app's key no longer does.
    const pem = String(app.pem);
    const jwt = t.appJwt({ iss: app.id as number }, pem);
    const me = await settle(t.octokit(jwt).request("GET /app"));
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: app.id, slug: "gate-keeper" });
    const stale = await settle(t.octokit(t.appJwt({ iss: oldId }, oldPem)).request("GET /app"));
    expect(stale.status).toBe(401);
    expect(
      (await settle(t.octokit("").request("GET /apps/{app_slug}", { app_slug: "gate-keeper" }))).status,
    ).toBe(200);

    // Installations are the new app's; its tokens work; its webhooks are signed with its secret.
    const installationId = await t.installApp("acme");
    const tokenRes = await settle(
      t.octokit(jwt).request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
      }),
    );
    expect(tokenRes.status).toBe(201);
    const token = (tokenRes.data as { token: string }).token;
    const repo = await settle(
      t.octokit(token).request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "deploy" }),
    );
    expect(repo.status).toBe(200);
    await t.idle();
    const installed = hooks.find((h) => h.event === "installation");
    expect(installed).toBeDefined();
    const expected = `sha256=${createHmac("sha256", String(app.webhook_secret))
      .update(installed?.body ?? "")
      .digest("hex")}`;
    expect(installed?.signature).toBe(expected);
    expect(JSON.parse(installed?.body ?? "{}")).toMatchObject({
      action: "created",
      installation: { app_id: app.id, app_slug: "gate-keeper" },
    });
  });

  it("a code expires after an hour", async () => {
    const redirect = await createApp("/settings/apps/new", manifest({ name: "Late App" }), "late");
    const code = redirect.searchParams.get("code") ?? "";
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, "now").mockImplementation(() => realNow() + MANIFEST_CODE_TTL_MS + 1_000);
    try {
      const expired = await convert(code);
      expect(expired.status).toBe(404);
    } finally {
      spy.mockRestore();
    }
    // And the owner of a user-page registration is the (only) signed-in user: the site admin.
    const fresh = await createApp("/settings/apps/new", manifest({ name: "Late App" }), "late");
    const ok = await convert(fresh.searchParams.get("code") ?? "");
    expect(ok.status).toBe(201);
    expect(ok.data).toMatchObject({ owner: { login: "admin" }, slug: "late-app" });
  });

  it("a code that was never issued is 404", async () => {
    expect((await convert("0".repeat(40))).status).toBe(404);
  });
});
