/**
 * Cache entries are per installation token (docs/performance.md, "Conditional requests"). The
 * attack: installation B is not installed on acme's private repository; a cache keyed by URL alone
 * would answer B's request with the body installation A fetched (and a 304 GitHub sent for A's
 * ETag would "confirm" it). Against the real sandbox, through one shared cache: B's request goes
 * out unconditional, GitHub refuses it, and B never sees A's body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "@pullgate/sandbox";
import { cachingFetch } from "./fetch.js";
import { MemoryHttpCache } from "./store.js";
import { plumbedFetch } from "../octokit.js";
import { ApiBudget, installationScope } from "../budget/index.js";

describe("HTTP cache: one installation's cached body is never served to another", () => {
  let t: TestSandbox;
  let tokenA: string;
  let tokenB: string;
  let idA: number;
  let idB: number;

  beforeAll(async () => {
    t = await startTestSandbox();
    await t.createUser("alice");
    await t.createUser("bea");
    idA = (await t.createOrg("acme", "alice")).installationId;
    idB = (await t.createOrg("beta", "bea")).installationId;
    await t.createRepo("acme", "secret", { private: true });
    await t.createRepo("acme", "public");
    await t.createRepo("beta", "tools");
    tokenA = await t.installationToken("acme");
    tokenB = await t.installationToken("beta");
  });
  afterAll(async () => t?.close());

  /** A fetch that remembers the conditional header of each request it sends. */
  function recording() {
    const sent: { url: string; ifNoneMatch: string | null; status: number }[] = [];
    const base: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(init?.headers);
      sent.push({ url: String(input), ifNoneMatch: headers.get("if-none-match"), status: response.status });
      return response;
    };
    return { base, sent };
  }
  const as = (token: string) => ({
    headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
  });

  it("a private repository cached for A: B's request is sent unconditional and refused; A's is revalidated (304)", async () => {
    const store = new MemoryHttpCache();
    const { base, sent } = recording();
    const f = cachingFetch(base, { store });
    const url = `${t.sandbox.apiUrl}/repos/acme/secret`;

    const first = await f(url, as(tokenA));
    expect(first.status).toBe(200);
    const secret = (await first.json()) as { full_name: string; private: boolean };
    expect(secret).toMatchObject({ full_name: "acme/secret", private: true });
    expect(store.size).toBe(1);

    const forB = await f(url, as(tokenB));
    expect(forB.status).toBe(404);
    expect(await forB.text()).not.toContain("acme/secret");
    expect(forB.headers.get("x-pullgate-cache")).toBeNull();
    // Nothing of A's entry went with B's request: no validator to probe whether it changed.
    expect(sent[1]).toMatchObject({ ifNoneMatch: null, status: 404 });

    const again = await f(url, as(tokenA));
    expect(again.status).toBe(200);
    expect(again.headers.get("x-pullgate-cache")).toBe("revalidated");
    expect(sent[2]?.ifNoneMatch).toBe(first.headers.get("etag"));
    expect(sent[2]?.status).toBe(304);
  });

  it("a resource both may read is cached twice, once per token, each validated by its own ETag", async () => {
    const store = new MemoryHttpCache();
    const { base, sent } = recording();
    const f = cachingFetch(base, { store });
    const url = `${t.sandbox.apiUrl}/repos/acme/public`;
    const a = await f(url, as(tokenA));
    const b = await f(url, as(tokenB));
    expect([a.status, b.status]).toEqual([200, 200]);
    await Promise.all([a.text(), b.text()]);
    expect(store.size).toBe(2);
    // GitHub varies ETags on Authorization: the two tokens' validators differ.
    expect(a.headers.get("etag")).not.toBe(b.headers.get("etag"));
    expect(sent[1]?.ifNoneMatch).toBeNull();
    await f(url, as(tokenB));
    expect(sent[2]).toMatchObject({ ifNoneMatch: b.headers.get("etag"), status: 304 });
  });

  it("the server's plumbing (one cache for every installation) keeps scopes apart too, and charges each installation's budget with its own figures", async () => {
    const store = new MemoryHttpCache();
    const budget = new ApiBudget();
    const plumbing = { cache: store, budget };
    const fA = plumbedFetch(fetch, plumbing, installationScope(idA));
    const fB = plumbedFetch(fetch, plumbing, installationScope(idB));
    const url = `${t.sandbox.apiUrl}/repos/acme/secret`;
    expect((await fA(url, as(tokenA))).status).toBe(200);
    expect((await fB(url, as(tokenB))).status).toBe(404);
    expect((await fA(url, as(tokenA))).headers.get("x-pullgate-cache")).toBe("revalidated");
    expect(budget.snapshot(installationScope(idA))?.limit).toBeGreaterThan(0);
    expect(budget.snapshot(installationScope(idB))?.limit).toBeGreaterThan(0);
  });
});
