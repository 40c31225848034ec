import { generateKeyPairSync } from "node:crypto";
import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  settle as status,
  startTestSandbox,
  type TestSandbox,
  type TestUser,
} from "../src/testing/harness.js";
import { startSandbox } from "../src/index.js";

describe("sandbox: server, auth, admin API, orgs, teams, collaborators", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createUser("carol");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
  });
  afterAll(async () => t.close());

  it("answers unknown routes with GitHub's 404 body and rate-limit headers", async () => {
    const res = await fetch(`${t.sandbox.apiUrl}/no/such/thing`, {
      headers: { authorization: `token ${alice.token}` },
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.message).toBe("Not Found");
    expect(body.documentation_url).toMatch(/^https:\/\/docs\.github\.com\//);
    expect(Number(res.headers.get("x-ratelimit-limit"))).toBeGreaterThan(0);
    expect(res.headers.get("x-ratelimit-resource")).toBe("core");
    expect(t.takeViolations()).toMatchObject([{ kind: "unknown-route", subject: "GET /no/such/thing" }]);
    const used = Number(res.headers.get("x-ratelimit-used"));
    const again = await fetch(`${t.sandbox.apiUrl}/user`, {
      headers: { authorization: `token ${alice.token}` },
    });
    expect(Number(again.headers.get("x-ratelimit-used"))).toBe(used + 1);
    expect(Number(again.headers.get("x-ratelimit-remaining"))).toBe(
      Number(again.headers.get("x-ratelimit-limit")) - used - 1,
    );
  });

  it("refuses bad tokens with 401 Bad credentials", async () => {
    const res = await status(t.octokit("ghp_notatoken").request("GET /user"));
    expect(res.status).toBe(401);
    expect((res.data as { message: string }).message).toBe("Bad credentials");
  });

  it("user tokens act as their user; admin endpoints need a site admin", async () => {
    const me = await alice.octokit.request("GET /user");
    expect(me.data.login).toBe("alice");
    expect(me.data.site_admin).toBe(false);
    const denied = await status(
      alice.octokit.request("POST /admin/users", { login: "mallory", email: "m@x" }),
    );
    expect(denied.status).toBe(403);
    const dup = await status(t.admin.request("POST /admin/users", { login: "alice", email: "a@x" }));
    expect(dup.status).toBe(422);
    expect((dup.data as { errors: unknown[] }).errors[0]).toMatchObject({ resource: "User", field: "login" });
  });

  it("creating an org installs the app and sends an installation webhook", async () => {
    await t.idle();
    const hook = t.webhooks.find((w) => w.event === "installation" && w.action === "created");
    expect(hook?.signatureValid).toBe(true);
    expect((hook?.payload.installation as { account: { login: string } }).account.login).toBe("acme");
    const installation = await t.octokit(t.appJwt()).request("GET /orgs/{org}/installation", { org: "acme" });
    expect((installation.data.account as { login?: string } | null)?.login).toBe("acme");
    const byRepo = await t
      .octokit(t.appJwt())
      .request("GET /repos/{owner}/{repo}/installation", { owner: "acme", repo: "deploy" });
    expect(byRepo.data.id).toBe(installation.data.id);
  });

  it("app JWTs: GET /app works, a JWT signed by another key or expired is refused", async () => {
    const app = await t.octokit(t.appJwt()).request("GET /app");
    expect(app.data?.id).toBe(t.sandbox.app.id);
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs1", format: "pem" })
      .toString();
    const forged = await status(t.octokit(t.appJwt({}, other)).request("GET /app"));
    expect(forged.status).toBe(401);
    expect((forged.data as { message: string }).message).toBe("A JSON web token could not be decoded");
    const now = Math.floor(Date.now() / 1000);
    const expired = await status(
      t.octokit(t.appJwt({ iat: now - 1200, exp: now - 600 })).request("GET /app"),
    );
    expect(expired.status).toBe(401);
    const tooLong = await status(t.octokit(t.appJwt({ iat: now, exp: now + 3600 })).request("GET /app"));
    expect(tooLong.status).toBe(401);
    const wrongIss = await status(t.octokit(t.appJwt({ iss: 999 })).request("GET /app"));
    expect(wrongIss.status).toBe(401);
    const userOnApp = await status(alice.octokit.request("GET /app"));
    expect(userOnApp.status).toBe(401);
  });

  it("installation tokens are scoped to their org and expire in an hour", async () => {
    const jwt = t.octokit(t.appJwt());
    const installation = await jwt.request("GET /orgs/{org}/installation", { org: "acme" });
    const token = await jwt.request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installation.data.id,
    });
    expect(token.status).toBe(201);
    expect(token.data.token).toMatch(/^ghs_/);
    const ttl = Date.parse(token.data.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(59 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(60 * 60 * 1000);
    const inst = t.octokit(token.data.token);
    const repos = await inst.request("GET /installation/repositories");
    expect(repos.data.repositories.map((r) => r.full_name)).toEqual(["acme/deploy"]);
    await t.createUser("zed");
    await t.createOrg("other", "zed");
    await t.admin.request("POST /orgs/{org}/repos", { org: "other", name: "secret", private: true });
    const outside = await status(
      inst.request("GET /repos/{owner}/{repo}", { owner: "other", repo: "secret" }),
    );
    expect(outside.status).toBe(404);
  });

  it("teams, memberships and collaborator permissions follow GitHub's shapes", async () => {
    const owner = alice.octokit;
    await owner.request("POST /orgs/{org}/teams", { org: "acme", name: "Platform Team" });
    await owner.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: "acme",
      team_slug: "platform-team",
      username: "bob",
    });
    const membership = await owner.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: "acme",
      team_slug: "platform-team",
      username: "bob",
    });
    expect(membership.data).toMatchObject({ role: "member", state: "active" });
    const members = await owner.request("GET /orgs/{org}/teams/{team_slug}/members", {
      org: "acme",
      team_slug: "platform-team",
    });
    expect(members.data.map((m) => m.login)).toEqual(["bob"]);
    const missing = await status(
      owner.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: "acme",
        team_slug: "platform-team",
        username: "carol",
      }),
    );
    expect(missing.status).toBe(404);

    const perm = (username: string) =>
      owner.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
        owner: "acme",
        repo: "deploy",
        username,
      });
    expect((await perm("alice")).data).toMatchObject({ permission: "admin", role_name: "admin" });
    expect((await perm("bob")).data).toMatchObject({ permission: "read" });
    expect((await perm("carol")).data).toMatchObject({ permission: "read" }); // public repo
    await owner.request("PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
      org: "acme",
      team_slug: "platform-team",
      owner: "acme",
      repo: "deploy",
      permission: "push",
    });
    expect((await perm("bob")).data).toMatchObject({ permission: "write", role_name: "write" });
    await owner.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: "acme",
      repo: "deploy",
      username: "carol",
      permission: "maintain",
    });
    const carolPerm = await perm("carol");
    expect(carolPerm.data).toMatchObject({ permission: "write", role_name: "maintain" });
    expect(carolPerm.data.user?.login).toBe("carol");
    await owner.request("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org: "acme",
      team_slug: "platform-team",
      username: "bob",
    });
    expect((await perm("bob")).data).toMatchObject({ permission: "read" });
    const notOwner = await status(bob.octokit.request("POST /orgs/{org}/teams", { org: "acme", name: "x" }));
    expect(notOwner.status).toBe(403);
  });

  it("paginates with Link headers like GitHub", async () => {
    for (let i = 0; i < 5; i++)
      await t.admin.request("POST /orgs/{org}/repos", { org: "acme", name: `svc-${i}` });
    const first = await t.admin.request("GET /orgs/{org}/repos", { org: "acme", per_page: 2 });
    expect(first.data).toHaveLength(2);
    const link = String(first.headers.link);
    expect(link).toMatch(/<[^>]*[?&]page=2[^>]*>; rel="next"/);
    expect(link).toMatch(/<[^>]*[?&]page=3[^>]*>; rel="last"/);
    expect(link).toContain("per_page=2");
    const all = await t.admin.paginate("GET /orgs/{org}/repos", { org: "acme", per_page: 2 });
    expect(all.map((r) => r.name).sort()).toEqual(["deploy", "svc-0", "svc-1", "svc-2", "svc-3", "svc-4"]);
    const last = await t.admin.request("GET /orgs/{org}/repos", { org: "acme", per_page: 2, page: 3 });
    expect(String(last.headers.link)).toMatch(/rel="prev"/);
    expect(String(last.headers.link)).not.toMatch(/rel="next"/);
    const capped = await t.admin.request("GET /orgs/{org}/repos", { org: "acme", per_page: 1000 });
    expect(capped.data).toHaveLength(6);
  });

  it("writes the app key with mode 0600 and keeps state across restarts", async () => {
    expect(statSync(t.sandbox.app.privateKeyPath).mode & 0o777).toBe(0o600);
    const dir = `${t.root}/restart`;
    const first = await startSandbox({ dir });
    const res = await fetch(`${first.apiUrl}/admin/users`, {
      method: "POST",
      headers: { authorization: `token ${first.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ login: "persisted", email: "p@x" }),
    });
    expect(res.status).toBe(201);
    await first.close();
    const second = await startSandbox({ dir });
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.app.privateKeyPem).toBe(first.app.privateKeyPem);
    const user = await fetch(`${second.apiUrl}/users/persisted`, {
      headers: { authorization: `token ${second.adminToken}` },
    });
    expect(user.status).toBe(200);
    await second.close();

    // Debounced persistence still writes everything on close.
    const debounced = await startSandbox({ dir, persistDebounceMs: 60_000 });
    await fetch(`${debounced.apiUrl}/admin/users`, {
      method: "POST",
      headers: { authorization: `token ${debounced.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ login: "late", email: "l@x" }),
    });
    await debounced.close();
    const third = await startSandbox({ dir });
    const late = await fetch(`${third.apiUrl}/users/late`, {
      headers: { authorization: `token ${third.adminToken}` },
    });
    expect(late.status).toBe(200);
    await third.close();
  });

  it("enforces the primary rate limit per credential with GitHub's 403 and reports it in /rate_limit", async () => {
    const limited = await startSandbox({ dir: `${t.root}/limited`, rateLimit: 3 });
    try {
      const get = (path: string) =>
        fetch(`${limited.apiUrl}${path}`, { headers: { authorization: `token ${limited.adminToken}` } });
      for (let i = 0; i < 3; i++) expect((await get("/user")).status).toBe(200);
      const over = await get("/user");
      expect(over.status).toBe(403);
      expect(over.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(((await over.json()) as { message: string }).message).toMatch(/^API rate limit exceeded/);
      const anonymous = await fetch(`${limited.apiUrl}/rate_limit`);
      const body = (await anonymous.json()) as { rate: { limit: number; used: number } };
      expect(body.rate.limit).toBe(60);
    } finally {
      await limited.close();
    }
  });

  it("rejects malformed JSON with 400 and wrong types with 422", async () => {
    const bad = await fetch(`${t.sandbox.apiUrl}/admin/users`, {
      method: "POST",
      headers: { authorization: `token ${t.sandbox.adminToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe("Problems parsing JSON");
    const wrong = await status(t.admin.request("POST /admin/users", { login: 42 as unknown as string }));
    expect(wrong.status).toBe(422);
    // Strict mode refused it against GHES's description of the admin API, and recorded why.
    expect(t.takeViolations()).toEqual([
      {
        kind: "request-body",
        subject: "POST /admin/users",
        detail: ["For 'properties/login', 42 is not a string."],
      },
    ]);
  });
});
