/**
 * End to end, the readiness probe (docs/operations.md, "Outages and recovery"): /readyz answers
 * 200 only while GitHub answers the app's own JWT request, so a load balancer stops sending
 * webhooks that could only fail closed; /healthz stays 200 (the process lives), so Kubernetes
 * does not restart a replica for GitHub's outage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../helpers/app-harness.js";

const APP_ROUTE = "GET /app";
// The probe caches GitHub's answer this long (src/github/reconcile/loop.ts, REACHABLE_CACHE_MS).
const PROBE_CACHE_MS = 5_000;

async function probe(h: AppHarness, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${h.server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

describe("e2e: /readyz follows GitHub's reachability, /healthz does not", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is ready while GitHub answers the app", async () => {
    expect(await probe(h, "/readyz")).toEqual({ status: 200, body: { ok: true } });
    expect(await probe(h, "/healthz")).toEqual({ status: 200, body: { ok: true } });
  });

  it("is not ready while GitHub refuses the app, says why, and is ready again once it answers", async () => {
    h.t.sandbox.instrumentation.setFault(APP_ROUTE, { status: 404 });
    await new Promise((resolve) => setTimeout(resolve, PROBE_CACHE_MS + 200));
    const down = await probe(h, "/readyz");
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false });
    expect((down.body as { reason: string }).reason).toMatch(/^GitHub did not answer the app: /);
    expect(await probe(h, "/healthz")).toEqual({ status: 200, body: { ok: true } });

    h.t.sandbox.instrumentation.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, PROBE_CACHE_MS + 200));
    expect(await probe(h, "/readyz")).toEqual({ status: 200, body: { ok: true } });
  }, 30_000);
});
