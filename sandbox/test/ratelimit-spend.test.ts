/**
 * The `spendRateLimit` fault (src/instrumentation.ts): other work spending one credential's
 * rate-limit window. The window itself moves (every later answer reports it, and an empty one is
 * refused with GitHub's 403), and only the caller's window: another credential's is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

const REPO_ROUTE = "GET /repos/{owner}/{repo}";

describe("sandbox: spending a credential's rate-limit window", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
  });
  afterAll(async () => t.close());

  const get = (token: string) =>
    fetch(`${t.sandbox.apiUrl}/repos/acme/deploy`, {
      headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    });
  const remaining = (res: Response) => Number(res.headers.get("x-ratelimit-remaining"));

  it("spends the caller's window only, reports it on this and later answers, and gives it back", async () => {
    const before = remaining(await get(alice.token));
    const bobBefore = remaining(await get(bob.token));
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { spendRateLimit: 1000, times: 1 });
    const spent = await get(alice.token);
    expect(spent.status).toBe(200);
    expect(remaining(spent)).toBe(before - 1 - 1000);
    expect(remaining(await get(alice.token))).toBe(before - 2 - 1000);
    expect(remaining(await get(bob.token))).toBe(bobBefore - 1);
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { spendRateLimit: -1000, times: 1 });
    expect(remaining(await get(alice.token))).toBe(before - 3);
  });

  it("spending the whole limit: the next request is GitHub's 403 'API rate limit exceeded'", async () => {
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { spendRateLimit: 1_000_000, times: 1 });
    const last = await get(bob.token);
    expect(last.status).toBe(200);
    expect(remaining(last)).toBe(0);
    const refused = await get(bob.token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/API rate limit exceeded/);
    expect(remaining(refused)).toBe(0);
    expect(remaining(await get(alice.token))).toBeGreaterThan(0);
  });
});
