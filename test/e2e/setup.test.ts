/**
 * `pullgate serve` without credentials (docs/setup.md): the setup page registers the app from
 * app.yml through GitHub's app-manifest flow against the sandbox, over HTTP as a browser would
 * (forms, the cookie, each redirect), stores the credentials in `.env` (0600, never over an existing
 * one), generates the record-signing key, prints the install link; then a normal `pullgate serve`
 * started from that `.env` gates a pull request on webhooks signed with the stored secret. The
 * callback's refusals (forged, foreign, replayed state; a code that no longer converts) each have
 * their attack.
 */
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import { parseEnvFile } from "../../src/setup/env-file.js";
import { startSetupServer, type SetupServer } from "../../src/setup/server.js";
import { freePort, registerApp, spawnServe, type ServeProcess } from "./setup-flow.js";

describe("setup: registering the GitHub App from app.yml", () => {
  let t: TestSandbox;
  let olivia: TestUser;
  let web: string;
  let ghe: { GHE_HOST: string; GHE_PROTOCOL: string };
  const dirs: string[] = [];
  const servers: SetupServer[] = [];
  const processes: ServeProcess[] = [];

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "pullgate-setup-"));
    dirs.push(dir);
    return dir;
  };
  async function setupServer(dir: string, hasSigningKey = true): Promise<SetupServer> {
    const server = await startSetupServer({
      webUrl: web,
      apiUrl: t.sandbox.apiUrl,
      host: "127.0.0.1",
      port: 0,
      dir,
      carryEnv: ghe,
      hasSigningKey,
    });
    servers.push(server);
    return server;
  }
  const withCookie = (url: URL, cookie: string | undefined) =>
    fetch(url, { redirect: "manual", ...(cookie === undefined ? {} : { headers: { cookie } }) });

  beforeAll(async () => {
    t = await startTestSandbox();
    web = t.sandbox.gitUrl.replace(/\/$/, "");
    const host = new URL(web).host;
    ghe = { GHE_HOST: host, GHE_PROTOCOL: "http" };
    olivia = await t.createUser("olivia");
    await t.createOrgWithoutApp("acme", olivia.login);
    await t.createRepo("acme", "gitops");
  });

  afterAll(async () => {
    for (const p of processes) await p.stop();
    for (const s of servers) await s.close();
    await t?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses forged and foreign callbacks, accepts the real one once, and leaves an existing .env alone", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".env"), "PORT=4000\n", { mode: 0o600 });
    const server = await setupServer(dir);
    const { callback, cookie } = await registerApp(server.url, {
      name: "Gate Once",
      webhookUrl: "http://127.0.0.1:9/api/github/webhooks",
      org: "acme",
    });
    expect(`${callback.origin}${callback.pathname}`).toBe(`${server.url}/setup/callback`);

    // An attacker's own registration: a state this server never issued.
    const forged = new URL(callback);
    forged.searchParams.set("state", "0".repeat(64));
    expect((await withCookie(forged, cookie)).status).toBe(403);
    // The real state from another browser (no cookie, or another one): login CSRF.
    expect((await withCookie(callback, undefined)).status).toBe(403);
    expect((await withCookie(callback, `pullgate_setup=${"1".repeat(64)}`)).status).toBe(403);
    // None of these used the state up: the operator's own callback still works.
    const ok = await withCookie(callback, cookie);
    expect(ok.status).toBe(200);
    const page = await ok.text();
    expect(page).toContain(`${web}/apps/gate-once/installations/new`);
    expect(ok.headers.get("referrer-policy")).toBe("no-referrer");
    // Once: a replay (even with the right cookie) is refused.
    expect((await withCookie(callback, cookie)).status).toBe(410);

    const result = await server.done;
    expect(result).toMatchObject({
      slug: "gate-once",
      envExisted: true,
      envPath: join(dir, `.env.pullgate-${result.appId}`),
    });
    expect(readFileSync(join(dir, ".env"), "utf8")).toBe("PORT=4000\n");
    expect(statSync(result.envPath).mode & 0o777).toBe(0o600);
    const stored = parseEnvFile(readFileSync(result.envPath, "utf8"));
    expect(stored).toMatchObject({ APP_ID: String(result.appId), ...ghe });
    expect(Buffer.from(stored.PRIVATE_KEY ?? "", "base64").toString("utf8")).toBe(
      t.sandbox.app.privateKeyPem,
    );
    expect(stored.WEBHOOK_SECRET).toBe(t.sandbox.app.webhookSecret);
    // A signing key was configured already: none generated.
    expect(stored.PULLGATE_SIGNING_KEY_FILE).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.startsWith("pullgate-record-key"))).toEqual([]);
  });

  it("stores nothing when the code no longer converts (someone else used it)", async () => {
    const dir = tempDir();
    const server = await setupServer(dir);
    const { callback, cookie } = await registerApp(server.url, {
      name: "Gate Stolen",
      webhookUrl: "http://127.0.0.1:9/api/github/webhooks",
    });
    const stolen = await fetch(
      `${t.sandbox.apiUrl}/app-manifests/${callback.searchParams.get("code")}/conversions`,
      {
        method: "POST",
      },
    );
    expect(stolen.status).toBe(201);
    const res = await withCookie(callback, cookie);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("GitHub refused the code (HTTP 404)");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("answers only to loopback host names (a DNS-rebinding page cannot read a state)", async () => {
    const server = await setupServer(tempDir());
    const { port } = new URL(server.url);
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString("utf8")));
          res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    const rebound = await get(`attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain("<form");
    expect((await get(`localhost:${port}`)).status).toBe(200);
    expect((await get(`127.0.0.1:${port}`)).status).toBe(200);
  });

  it("refuses a manifest page that would send GitHub a bad webhook URL", async () => {
    const server = await setupServer(tempDir());
    const res = await fetch(`${server.url}/setup/manifest`, {
      method: "POST",
      body: new URLSearchParams({ name: "x", webhook_url: "javascript:alert(1)", org: "" }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("pullgate serve: setup page, .env, record key, install link; then serve from .env gates a PR", async () => {
    const dir = tempDir();
    const servePort = await freePort();
    const webhookUrl = `http://127.0.0.1:${servePort}/api/github/webhooks`;
    const setup = spawnServe(dir, { ...ghe, PORT: "0", PULLGATE_WEBHOOK_URL: webhookUrl });
    processes.push(setup);
    const [, setupUrl] = await setup.waitFor(/open (http:\/\/127\.0\.0\.1:[0-9]+)\/ to register/);
    // The start page carries the configured webhook URL.
    expect(await (await fetch(`${setupUrl}/`)).text()).toContain(`value="${webhookUrl}"`);
    const { callback, cookie } = await registerApp(setupUrl ?? "", {
      name: "Pullgate E2E",
      webhookUrl,
      org: "acme",
    });
    const done = await withCookie(callback, cookie);
    expect(done.status).toBe(200);
    expect(await setup.exited).toBe(0);
    const log = setup.stderr();
    expect(log).toContain(`install the app: ${web}/apps/pullgate-e2e/installations/new`);
    expect(log).toMatch(/generated record-signing key [0-9A-F]{40}/);

    const envPath = join(dir, ".env");
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const stored = parseEnvFile(readFileSync(envPath, "utf8"));
    const keyFile = stored.PULLGATE_SIGNING_KEY_FILE ?? "";
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toContain("BEGIN PGP PRIVATE KEY BLOCK");

    // Normal mode: nothing but .env says who the app is.
    const serve = spawnServe(dir, { PORT: String(servePort), HOST: "127.0.0.1" });
    processes.push(serve);
    await serve.waitFor(/listening on/);
    expect(serve.stderr()).toMatch(/signing approved-revision records with key [0-9A-F]{40}/);

    // A webhook is accepted when signed with the stored secret, refused with any other.
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const deliver = (secret: string, id: string) =>
      fetch(webhookUrl, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": id,
          "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
        },
      });
    const forged = await deliver("not-the-secret", "00000000-0000-4000-8000-000000000001");
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("signature does not match");
    const signed = await deliver(stored.WEBHOOK_SECRET ?? "", "00000000-0000-4000-8000-000000000002");
    expect(signed.status).toBe(200);

    // The sandbox's webhooks, signed with the secret it handed out, make pullgate act on the PR.
    await t.installApp("acme");
    const pr = await t.openPullRequest({
      owner: "acme",
      repo: "gitops",
      user: olivia,
      branch: "change",
      files: { "apps/web.yaml": "replicas: 2\n" },
    });
    let names: string[] = [];
    for (let attempt = 0; attempt < 300 && !names.includes("pullgate"); attempt++) {
      await t.idle();
      const { data } = await t.admin.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        owner: "acme",
        repo: "gitops",
        ref: pr.headSha,
      });
      names = data.check_runs.map((c) => c.name);
      if (!names.includes("pullgate")) await new Promise((r) => setTimeout(r, 100));
    }
    expect(names).toContain("pullgate");
    const { data: deliveries } = await t.admin.request("GET /sandbox/deliveries");
    const sent = (deliveries as { event: string; status_code: number | null }[]).filter(
      (d) => d.event === "pull_request",
    );
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((d) => d.status_code !== null && d.status_code >= 200 && d.status_code < 300)).toBe(
      true,
    );
  });
});
