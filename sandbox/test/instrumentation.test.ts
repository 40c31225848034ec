import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

const REPO_ROUTE = "GET /repos/{owner}/{repo}";

describe("sandbox: instrumentation, fault injection, webhook deliveries", () => {
  let t: TestSandbox;
  let alice: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
  });
  afterAll(async () => t.close());

  const getRepo = () =>
    settle(alice.octokit.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "deploy" }));

  it("counts requests per route template (JS API and /sandbox/requests)", async () => {
    t.sandbox.instrumentation.resetCounts();
    await getRepo();
    await getRepo();
    await alice.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: "acme",
      repo: "deploy",
      ref: "heads/main",
    });
    expect(t.sandbox.instrumentation.count(REPO_ROUTE)).toBe(2);
    expect(t.sandbox.instrumentation.count("GET /repos/{owner}/{repo}/git/ref/{ref}")).toBe(1);
    const remote = await t.admin.request("GET /sandbox/requests");
    expect((remote.data as { counts: Record<string, number> }).counts[REPO_ROUTE]).toBe(2);
    const denied = await settle(alice.octokit.request("GET /sandbox/requests"));
    expect(denied.status).toBe(403);
  });

  it("injects 500/502, secondary rate limits (403 and 429 with retry-after), for N requests", async () => {
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { status: 502, times: 1 });
    expect((await getRepo()).status).toBe(502);
    expect((await getRepo()).status).toBe(200);

    await t.admin.request("POST /sandbox/faults", {
      route: REPO_ROUTE,
      secondary_rate_limit: 403,
      retry_after: 7,
      times: 1,
    });
    const limited = await getRepo();
    expect(limited.status).toBe(403);
    expect((limited.data as { message: string }).message).toMatch(/secondary rate limit/);
    expect(limited.headers["retry-after"]).toBe("7");
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { secondaryRateLimit: 429, times: 1 });
    expect((await getRepo()).status).toBe(429);
    t.sandbox.instrumentation.setFault("*", { status: 500, times: 1 });
    expect((await getRepo()).status).toBe(500);
    expect((await getRepo()).status).toBe(200);
  });

  it("latency delays and timeout hangs until the client gives up", async () => {
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { latencyMs: 50, times: 1 });
    expect((await getRepo()).status).toBe(200);
    t.sandbox.instrumentation.setFault(REPO_ROUTE, { timeout: true, times: 1 });
    const hung = fetch(`${t.sandbox.apiUrl}/repos/acme/deploy`, {
      headers: { authorization: `token ${alice.token}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(hung).rejects.toThrow();
    expect((await getRepo()).status).toBe(200);
    await t.admin.request("DELETE /sandbox/faults");
    expect(t.sandbox.instrumentation.listFaults()).toEqual({});
  });

  it("logs deliveries with GitHub's headers and HMAC; redelivery resends the same payload", async () => {
    await alice.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      title: "alert",
    });
    await t.idle();
    const received = t.webhooks.filter((w) => w.event === "issues");
    expect(received).toHaveLength(1);
    expect(received[0]?.signatureValid).toBe(true);
    const log = await t.admin.request("GET /sandbox/deliveries", { event: "issues" });
    const deliveries = log.data as { id: number; guid: string; status_code: number; payload: unknown }[];
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.status_code).toBe(202);
    expect(deliveries[0]?.guid).toBe(received[0]?.deliveryId);
    await t.admin.request("POST /sandbox/deliveries/{delivery_id}/redeliver", {
      delivery_id: deliveries[0]?.id ?? 0,
    });
    await t.idle();
    const again = t.webhooks.filter((w) => w.event === "issues");
    expect(again).toHaveLength(2);
    expect(again[1]?.payload).toEqual(again[0]?.payload);
    expect(again[1]?.signatureValid).toBe(true);
  });

  it("a receiver that is down is logged as failed, not retried forever", async () => {
    t.sandbox.setWebhookUrl("http://127.0.0.1:9/unreachable");
    await alice.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: "acme",
      repo: "deploy",
      title: "lost",
    });
    await t.idle();
    const last = t.sandbox.webhooks.deliveries().at(-1);
    expect(last?.status_code).toBeNull();
    expect(last?.status).toMatch(/^failed/);
  });
});
