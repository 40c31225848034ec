import { describe, expect, it } from "vitest";
import { cachingFetch, cacheKey } from "./fetch.js";
import { MemoryHttpCache } from "./store.js";

interface Seen {
  method: string;
  url: string;
  headers: Headers;
}

/**
 * A stand-in for GitHub that keeps one representation per (credential, URL) and answers
 * conditional GETs the way GitHub does: 304 without a body when the validator still matches.
 */
function fakeGitHub() {
  const seen: Seen[] = [];
  const bodies = new Map<string, string>();
  const etag = (auth: string, body: string) => `W/"${auth.length}-${body.length}-${body.slice(0, 12)}"`;
  const base: typeof fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const headers = new Headers(init?.headers);
    const method = (init?.method ?? "GET").toUpperCase();
    seen.push({ method, url, headers });
    const auth = headers.get("authorization") ?? "";
    const body = bodies.get(`${auth} ${url}`) ?? JSON.stringify({ url, auth });
    const tag = etag(auth, body);
    const common = { "x-ratelimit-remaining": String(5000 - seen.length), "x-ratelimit-limit": "5000" };
    if (method === "GET" && headers.get("if-none-match") === tag) {
      return Promise.resolve(new Response(null, { status: 304, headers: { ...common, etag: tag } }));
    }
    return Promise.resolve(
      new Response(body, {
        status: 200,
        headers: {
          ...common,
          "content-type": "application/json",
          ...(method === "GET" ? { etag: tag } : {}),
        },
      }),
    );
  };
  return { base, seen, bodies };
}

const URL_A = "http://gh.test/repos/o/r";

describe("cachingFetch", () => {
  it("turns a 304 into the kept 200, with the 304's rate-limit headers", async () => {
    const gh = fakeGitHub();
    const outcomes: string[] = [];
    const f = cachingFetch(gh.base, { store: new MemoryHttpCache(), onCache: (o) => outcomes.push(o) });
    const init = { headers: { authorization: "token one", accept: "application/json" } };
    const first = await f(URL_A, init);
    const firstBody = await first.text();
    const second = await f(URL_A, init);
    expect(gh.seen).toHaveLength(2);
    expect(gh.seen[1]?.headers.get("if-none-match")).toBe(first.headers.get("etag"));
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(firstBody);
    expect(second.headers.get("x-pullgate-cache")).toBe("revalidated");
    // The 304's figures (one more request seen by GitHub), not the ones stored with the 200.
    expect(second.headers.get("x-ratelimit-remaining")).toBe("4998");
    expect(outcomes).toEqual(["miss", "stored", "hit"]);
  });

  it("serves a new body when GitHub says the representation changed (no 304)", async () => {
    const gh = fakeGitHub();
    const f = cachingFetch(gh.base, { store: new MemoryHttpCache() });
    const init = { headers: { authorization: "token one" } };
    await (await f(URL_A, init)).text();
    gh.bodies.set(`token one ${URL_A}`, '{"changed":true}');
    const after = await f(URL_A, init);
    expect(await after.json()).toEqual({ changed: true });
    expect(after.headers.get("x-pullgate-cache")).toBeNull();
  });

  it("never sends one credential's validator with another credential's request", async () => {
    const gh = fakeGitHub();
    const store = new MemoryHttpCache();
    const f = cachingFetch(gh.base, { store });
    await (await f(URL_A, { headers: { authorization: "token one" } })).text();
    const other = await f(URL_A, { headers: { authorization: "token two" } });
    // The second token's request went out unconditional and got its own body.
    expect(gh.seen[1]?.headers.get("if-none-match")).toBeNull();
    expect(await other.json()).toEqual({ url: URL_A, auth: "token two" });
    expect(other.headers.get("x-pullgate-cache")).toBeNull();
    expect(store.size).toBe(2);
    expect(cacheKey("token one", "", URL_A)).not.toBe(cacheKey("token two", "", URL_A));
    // The key holds a hash of the credential, never the credential.
    expect(cacheKey("token one", "", URL_A)).not.toContain("one");
  });

  it("keys by Accept: a raw media type is not served for a JSON request", async () => {
    const gh = fakeGitHub();
    const f = cachingFetch(gh.base, { store: new MemoryHttpCache() });
    await (
      await f(URL_A, { headers: { authorization: "token one", accept: "application/vnd.github.raw" } })
    ).text();
    await f(URL_A, { headers: { authorization: "token one", accept: "application/json" } });
    expect(gh.seen[1]?.headers.get("if-none-match")).toBeNull();
  });

  it("does not cache non-GET requests", async () => {
    const gh = fakeGitHub();
    const store = new MemoryHttpCache();
    const f = cachingFetch(gh.base, { store });
    for (const method of ["POST", "PATCH", "PUT", "DELETE"]) {
      await (await f(URL_A, { method, headers: { authorization: "token one" }, body: "{}" })).text();
    }
    await (await f(URL_A, { method: "POST", headers: { authorization: "token one" }, body: "{}" })).text();
    expect(store.size).toBe(0);
    expect(gh.seen.every((s) => !s.headers.has("if-none-match"))).toBe(true);
  });

  it("does not cache requests without a credential", async () => {
    const gh = fakeGitHub();
    const store = new MemoryHttpCache();
    const f = cachingFetch(gh.base, { store });
    await (await f(URL_A, {})).text();
    await (await f(URL_A, { headers: { authorization: "" } })).text();
    await (await f(URL_A, {})).text();
    expect(store.size).toBe(0);
    expect(gh.seen.every((s) => !s.headers.has("if-none-match"))).toBe(true);
  });

  it("passes a caller's own conditional request through untouched (its 304 stays a 304)", async () => {
    const gh = fakeGitHub();
    const store = new MemoryHttpCache();
    const f = cachingFetch(gh.base, { store });
    const first = await f(URL_A, { headers: { authorization: "token one" } });
    const tag = first.headers.get("etag") ?? "";
    const own = await f(URL_A, { headers: { authorization: "token one", "if-none-match": tag } });
    expect(own.status).toBe(304);
  });

  it("does not keep errors or 200s without a validator", async () => {
    const store = new MemoryHttpCache();
    const statuses = [404, 200];
    const base: typeof fetch = () =>
      Promise.resolve(
        new Response("{}", { status: statuses.shift() ?? 500, headers: { "x-ratelimit-remaining": "1" } }),
      );
    const f = cachingFetch(base, { store });
    expect((await f(URL_A, { headers: { authorization: "token one" } })).status).toBe(404);
    expect((await f(URL_A, { headers: { authorization: "token one" } })).status).toBe(200);
    expect(store.size).toBe(0);
  });

  it("reports every response to the observer, cached or not", async () => {
    const gh = fakeGitHub();
    const observed: number[] = [];
    const f = cachingFetch(gh.base, {
      store: new MemoryHttpCache(),
      observe: (status) => observed.push(status),
    });
    await (await f(URL_A, { headers: { authorization: "token one" } })).text();
    await (await f(URL_A, { headers: { authorization: "token one" } })).text();
    await (await f(URL_A, { method: "POST", headers: { authorization: "token one" } })).text();
    expect(observed).toEqual([200, 304, 200]);
  });
});

describe("MemoryHttpCache", () => {
  const entry = (body: string) => ({ etag: 'W/"x"', headers: {}, body });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const cache = new MemoryHttpCache({ maxEntries: 2 });
    await cache.set("a", entry("1"));
    await cache.set("b", entry("2"));
    await cache.get("a"); // a is now the most recently used
    await cache.set("c", entry("3"));
    expect(cache.size).toBe(2);
    expect(await cache.get("b")).toBeUndefined();
    expect((await cache.get("a"))?.body).toBe("1");
    expect((await cache.get("c"))?.body).toBe("3");
  });

  it("keeps the total size under maxBytes and refuses entries over maxEntryBytes", async () => {
    const cache = new MemoryHttpCache({ maxBytes: 100, maxEntryBytes: 60 });
    await cache.set("big", entry("x".repeat(80)));
    expect(cache.size).toBe(0);
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, entry("y".repeat(30)));
    expect(cache.totalBytes).toBeLessThanOrEqual(100);
    expect(cache.size).toBeGreaterThan(0);
    expect((await cache.get("k9"))?.body).toBe("y".repeat(30));
    expect(await cache.get("k0")).toBeUndefined();
  });

  it("replacing an entry does not count its old size twice", async () => {
    const cache = new MemoryHttpCache();
    await cache.set("a", entry("1234"));
    const once = cache.totalBytes;
    await cache.set("a", entry("1234"));
    expect(cache.totalBytes).toBe(once);
    expect(cache.size).toBe(1);
  });
});

describe("cachingFetch: the responses it builds", () => {
  it("carry the URL of the exchange (Octokit reads response.url), stored or replayed", async () => {
    const gh = fakeGitHub();
    // A Response from a real fetch has its URL; the fake's constructed ones do not, like replays.
    const base: typeof fetch = async (input, init) => {
      const response = await gh.base(input, init);
      Object.defineProperty(response, "url", { value: String(input) });
      return response;
    };
    const f = cachingFetch(base, { store: new MemoryHttpCache() });
    const stored = await f(URL_A, { headers: { authorization: "token one" } });
    const replayed = await f(URL_A, { headers: { authorization: "token one" } });
    expect(replayed.headers.get("x-pullgate-cache")).toBe("revalidated");
    expect(stored.url).toBe(URL_A);
    expect(replayed.url).toBe(URL_A);
  });
});
