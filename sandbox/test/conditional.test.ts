/**
 * Conditional requests (src/sandbox/http/conditional.ts): GitHub answers a GET whose validator
 * still matches with 304 and no body, does not count it against the rate limit, and varies its
 * ETags with the credential, so one token's ETag never validates another token's request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

const REPO_ROUTE = "GET /repos/{owner}/{repo}";

describe("sandbox: conditional requests (ETag, Last-Modified, 304)", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    await t.admin.request("PUT /orgs/{org}/memberships/{username}", {
      org: "acme",
      username: "bob",
      role: "member",
    });
  });
  afterAll(async () => t.close());

  const get = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${t.sandbox.apiUrl}/repos/acme/deploy`, {
      headers: { authorization: `token ${token}`, accept: "application/vnd.github+json", ...headers },
    });

  it("sends a weak ETag, Last-Modified and Vary on Authorization with a 200", async () => {
    const res = await get(alice.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toMatch(/^W\/"[0-9a-f]+"$/);
    const body = (await res.json()) as { updated_at: string };
    expect(res.headers.get("last-modified")).toBe(new Date(body.updated_at).toUTCString());
    expect(res.headers.get("vary")).toMatch(/Authorization/);
  });

  it("If-None-Match with the current ETag: 304, no body, not counted, not charged", async () => {
    const first = await get(alice.token);
    await first.text();
    const etag = first.headers.get("etag") ?? "";
    const usedBefore = Number(first.headers.get("x-ratelimit-used"));
    t.sandbox.instrumentation.resetCounts();
    const again = await get(alice.token, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    // Not charged: the window's use is what it was after the 200.
    expect(Number(again.headers.get("x-ratelimit-used"))).toBe(usedBefore);
    expect(t.sandbox.instrumentation.count(REPO_ROUTE)).toBe(0);
    const counts = (await t.admin.request("GET /sandbox/requests")).data as {
      counts: Record<string, number>;
      total: number;
      not_modified: Record<string, number>;
      not_modified_total: number;
    };
    expect(counts.counts[REPO_ROUTE]).toBeUndefined();
    expect(counts.not_modified).toEqual({ [REPO_ROUTE]: 1 });
    expect(counts.not_modified_total).toBe(1);
    // A strong form of the same tag matches too (weak comparison).
    expect((await get(alice.token, { "if-none-match": etag.replace(/^W\//, "") })).status).toBe(304);
  });

  it("If-None-Match that does not match: an ordinary, counted and charged 200", async () => {
    const first = await get(alice.token);
    await first.text();
    const used = Number(first.headers.get("x-ratelimit-used"));
    t.sandbox.instrumentation.resetCounts();
    const res = await get(alice.token, { "if-none-match": 'W/"0000"' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe("deploy");
    expect(Number(res.headers.get("x-ratelimit-used"))).toBe(used + 1);
    expect(t.sandbox.instrumentation.count(REPO_ROUTE)).toBe(1);
  });

  it("If-None-Match: * is answered 304 for an existing representation", async () => {
    const res = await get(alice.token, { "if-none-match": "*" });
    expect(res.status).toBe(304);
  });

  it("the ETag differs per token: one token's ETag does not validate another's request", async () => {
    const a = await get(alice.token);
    const b = await get(bob.token);
    expect(b.status).toBe(200);
    const etagA = a.headers.get("etag") ?? "";
    expect(etagA).not.toBe(b.headers.get("etag"));
    const replayed = await get(bob.token, { "if-none-match": etagA });
    expect(replayed.status).toBe(200);
    expect(((await replayed.json()) as { name: string }).name).toBe("deploy");
  });

  it("a change to the resource invalidates the ETag and Last-Modified", async () => {
    const before = await get(alice.token);
    await before.text();
    const etag = before.headers.get("etag") ?? "";
    const lastModified = before.headers.get("last-modified") ?? "";
    // Last-Modified has one-second resolution: make sure the update lands in a later second.
    await new Promise((r) => setTimeout(r, 1100));
    await alice.octokit.request("PATCH /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "deploy",
      description: "changed",
    });
    const after = await get(alice.token, { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { description: string }).description).toBe("changed");
    const since = await get(alice.token, { "if-modified-since": lastModified });
    expect(since.status).toBe(200);
    await since.text();
  });

  it("If-Modified-Since at or after Last-Modified: 304; If-None-Match takes precedence over it", async () => {
    const first = await get(alice.token);
    await first.text();
    const lastModified = first.headers.get("last-modified") ?? "";
    expect((await get(alice.token, { "if-modified-since": lastModified })).status).toBe(304);
    const both = await get(alice.token, { "if-modified-since": lastModified, "if-none-match": 'W/"0000"' });
    expect(both.status).toBe(200);
    await both.text();
  });

  it("a write is never answered 304", async () => {
    const first = await get(alice.token);
    await first.text();
    const res = await fetch(`${t.sandbox.apiUrl}/repos/acme/deploy`, {
      method: "PATCH",
      headers: {
        authorization: `token ${alice.token}`,
        "if-none-match": "*",
        "content-type": "application/json",
      },
      body: JSON.stringify({ description: "again" }),
    });
    expect(res.status).toBe(200);
    await res.text();
  });
});
