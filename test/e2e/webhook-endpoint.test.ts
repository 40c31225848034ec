/**
 * End to end, the webhook endpoint under attack (issue 12, finding 4; docs/threat-model.md, "The
 * webhook endpoint"), through the real Probot server and the sandbox:
 *
 * - a captured genuine delivery replayed with its `X-GitHub-Delivery` id has no effect (the app
 *   makes no GitHub request), while the same body under another id is handled;
 * - a delivery whose handling failed stays redeliverable (GitHub's redelivery reuses the id), and
 *   once handled, a further redelivery is dropped;
 * - a 30 MiB body with a valid signature is answered 413 and not handled, whether it declares its
 *   length or streams chunked; the server stops reading and closes the connection;
 * - a lying Content-Length cannot smuggle a body past the limit or past the HMAC.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody, type Delivery } from "@pullgate/sandbox";
import { WEBHOOK_BODY_LIMIT_BYTES } from "../../src/webhook/body-limit.js";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { chunksOf, rawRequest } from "../helpers/raw-http.js";

const CHECK_RUNS = "POST /repos/{owner}/{repo}/check-runs";
const MiB = 1024 * 1024;

describe("e2e: the webhook endpoint refuses replays and oversized bodies", () => {
  let h: AppHarness;
  let secret: string;

  beforeAll(async () => {
    h = await startAppHarness();
    secret = h.t.sandbox.app.webhookSecret;
  });
  afterAll(async () => {
    await h?.close();
  });

  const metric = (name: string, labels: Record<string, string> = {}) =>
    h.server.metrics.registry.value(name, labels);

  const checkRuns = async (sha: string) =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        owner: ORG,
        repo: REPO,
        ref: sha,
        filter: "all",
      })
    ).data.check_runs.filter((r) => r.name === "pullgate");

  /** The genuine `pull_request.opened` delivery the sandbox sent for PR `number`. */
  const openedDelivery = (number: number): Delivery => {
    const d = h.t.sandbox.webhooks
      .deliveries()
      .find(
        (x) =>
          x.event === "pull_request" &&
          x.action === "opened" &&
          (x.payload.pull_request as { number?: number } | undefined)?.number === number &&
          !x.redelivery,
      );
    if (d === undefined) throw new Error(`no pull_request.opened delivery for #${number}`);
    return d;
  };

  /** POSTs `body` as GitHub would (headers of the delivery, HMAC of the body). */
  const post = async (event: string, guid: string, body: string) => {
    const response = await fetch(h.server.webhookUrl, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/sandbox",
        "x-github-event": event,
        "x-github-delivery": guid,
        "x-hub-signature-256": signWebhookBody(secret, body),
      },
    });
    const text = await response.text();
    await h.settle();
    return { status: response.status, text };
  };

  it("a captured delivery replayed with the same id has no effect; the same body under a new id is handled", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "replay", { "clusters/prod/app.yaml": "replicas: 7\n" });
    await h.settle();
    const genuine = openedDelivery(pr.number);
    expect(genuine.status_code).toBe(200);
    const before = (await checkRuns(pr.headSha)).length;
    expect(before).toBeGreaterThan(0);

    // The attacker replays the captured bytes and headers verbatim.
    h.t.sandbox.instrumentation.resetCounts();
    const replay = await post("pull_request", genuine.guid, JSON.stringify(genuine.payload));
    expect(replay.status).toBe(200);
    expect(replay.text).toContain("duplicate");
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect((await checkRuns(pr.headSha)).length).toBe(before);
    expect(metric("pullgate_webhook_replays_dropped_total", { state: "handled" })).toBe(1);

    // The id is not covered by the HMAC: under a fresh id the same body is a new delivery, and
    // it is handled (the handlers, not the ledger, keep that harmless: one more check run with
    // the same verdict, no comment).
    h.t.sandbox.instrumentation.resetCounts();
    const fresh = await post("pull_request", randomUUID(), JSON.stringify(genuine.payload));
    expect(fresh.status).toBe(200);
    expect(h.t.sandbox.instrumentation.count(CHECK_RUNS)).toBe(1);
    const after = await checkRuns(pr.headSha);
    expect(after.length).toBe(before + 1);
    expect(new Set(after.map((r) => r.conclusion))).toEqual(new Set([after[0]?.conclusion]));
  });

  it("an unsigned request cannot burn a delivery id: the genuine delivery with that id is still handled", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "poison", { "clusters/prod/app.yaml": "replicas: 8\n" });
    await h.settle();
    const genuine = openedDelivery(pr.number);
    const body = JSON.stringify(genuine.payload);
    const guid = randomUUID();
    const forged = await fetch(h.server.webhookUrl, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": guid,
        "x-hub-signature-256": signWebhookBody("not the secret", body),
      },
    });
    expect(forged.status).toBe(400);
    await forged.arrayBuffer();
    h.t.sandbox.instrumentation.resetCounts();
    expect((await post("pull_request", guid, body)).status).toBe(200);
    expect(h.t.sandbox.instrumentation.count(CHECK_RUNS)).toBe(1);
  });

  it("a delivery whose handling failed stays redeliverable under its id; once handled, a redelivery is dropped", async () => {
    const { alice } = h.people;
    // GitHub refuses to create check runs for a while: every handler that gates fails.
    h.t.sandbox.instrumentation.setFault(CHECK_RUNS, { status: 500 });
    let pr: { number: number; headSha: string };
    try {
      pr = await h.openPull(alice, "redeliver", { "clusters/prod/app.yaml": "replicas: 9\n" });
      await h.settle();
    } finally {
      h.t.sandbox.instrumentation.clearFaults();
    }
    const failed = openedDelivery(pr.number);
    expect(failed.status_code).toBe(500);
    expect(await checkRuns(pr.headSha)).toEqual([]);

    // GitHub's "Redeliver": same id, same body.
    const again = h.t.sandbox.webhooks.redeliver(failed.id);
    await h.settle();
    expect(again?.guid).toBe(failed.guid);
    expect(again?.status_code).toBe(200);
    const runs = await checkRuns(pr.headSha);
    expect(runs.length).toBe(1);

    // Handled now: another redelivery of the same id is acknowledged and does nothing.
    h.t.sandbox.instrumentation.resetCounts();
    const third = h.t.sandbox.webhooks.redeliver(failed.id);
    await h.settle();
    expect(third?.status_code).toBe(200);
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect((await checkRuns(pr.headSha)).length).toBe(1);
  });

  /** A genuine delivery padded to `size` bytes, validly signed: only its size is wrong. */
  const oversized = (genuine: Delivery, size: number) => {
    const base = JSON.stringify({ ...genuine.payload, padding: "" });
    const body = Buffer.from(JSON.stringify({ ...genuine.payload, padding: "x".repeat(size - base.length) }));
    expect(body.length).toBe(size);
    return {
      body,
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": randomUUID(),
        "X-Hub-Signature-256": signWebhookBody(secret, body.toString("utf8")),
      },
    };
  };

  it("a 30 MiB body with a valid signature and an honest Content-Length: 413 at once, not handled, connection closed", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "huge", { "clusters/prod/app.yaml": "replicas: 10\n" });
    await h.settle();
    const runs = (await checkRuns(pr.headSha)).length;
    const { body, headers } = oversized(openedDelivery(pr.number), 30 * MiB);
    h.t.sandbox.instrumentation.resetCounts();
    const response = await rawRequest({
      url: h.server.webhookUrl,
      headers: { ...headers, "Content-Length": String(body.length) },
      chunks: chunksOf(body),
    });
    await h.settle();
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe("close");
    expect(JSON.parse(response.body)).toEqual({
      error: expect.stringContaining(String(WEBHOOK_BODY_LIMIT_BYTES)),
    });
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect((await checkRuns(pr.headSha)).length).toBe(runs);
    expect(metric("pullgate_webhook_bodies_refused_total", { reason: "declared" })).toBe(1);
  });

  it("a chunked body is cut off as it passes the limit: 413 before the client finished sending, not handled", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "chunked", { "clusters/prod/app.yaml": "replicas: 11\n" });
    await h.settle();
    const runs = (await checkRuns(pr.headSha)).length;
    // 64 MiB on offer: the server must answer long before the end (socket buffers hold a few MiB).
    const { body, headers } = oversized(openedDelivery(pr.number), 64 * MiB);
    h.t.sandbox.instrumentation.resetCounts();
    const response = await rawRequest({
      url: h.server.webhookUrl,
      headers,
      chunks: chunksOf(body),
      chunked: true,
    });
    await h.settle();
    expect(response.status).toBe(413);
    expect(response.bytesSent).toBeGreaterThan(WEBHOOK_BODY_LIMIT_BYTES - 16 * MiB);
    expect(response.bytesSent).toBeLessThan(body.length);
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect((await checkRuns(pr.headSha)).length).toBe(runs);
    expect(metric("pullgate_webhook_bodies_refused_total", { reason: "streamed" })).toBe(1);
  });

  it("Content-Length lies: over the limit but no body is refused at once; under-declared is cut at the declared length and fails the HMAC", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "lies", { "clusters/prod/app.yaml": "replicas: 12\n" });
    await h.settle();
    const runs = (await checkRuns(pr.headSha)).length;
    const genuine = openedDelivery(pr.number);
    h.t.sandbox.instrumentation.resetCounts();

    // Declares 30 MiB, sends a small genuine body and waits: answered 413 without waiting for the rest.
    const small = Buffer.from(JSON.stringify(genuine.payload));
    const declaredBig = await rawRequest({
      url: h.server.webhookUrl,
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": randomUUID(),
        "X-Hub-Signature-256": signWebhookBody(secret, small.toString("utf8")),
        "Content-Length": String(30 * MiB),
      },
      chunks: [small],
    });
    expect(declaredBig.status).toBe(413);

    // "Expect: 100-continue" with an oversized length: 413 instead of "100 Continue".
    const expecting = await rawRequest({
      url: h.server.webhookUrl,
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": randomUUID(),
        "X-Hub-Signature-256": signWebhookBody(secret, small.toString("utf8")),
        "Content-Length": String(30 * MiB),
        Expect: "100-continue",
      },
      chunks: [small],
      waitBeforeBody: true,
    });
    expect(expecting.status).toBe(413);
    expect(expecting.raw).not.toContain("100 Continue");
    expect(expecting.bytesSent).toBe(0);

    // Declares 1,000 bytes and sends 30 MiB validly signed: the server reads 1,000 bytes, whose
    // HMAC does not match (400); the rest is not a request.
    const { body, headers } = oversized(genuine, 30 * MiB);
    const underDeclared = await rawRequest({
      url: h.server.webhookUrl,
      headers: { ...headers, "Content-Length": "1000" },
      chunks: chunksOf(body),
    });
    expect(underDeclared.status).toBe(400);

    // Both framings at once (request smuggling): Node's parser refuses it before pullgate runs.
    const both = await rawRequest({
      url: h.server.webhookUrl,
      headers: { ...headers, "Content-Length": "1000" },
      chunks: chunksOf(body.subarray(0, 4 * MiB)),
      chunked: true,
    });
    expect(both.status).toBe(400);

    await h.settle();
    expect(h.t.sandbox.instrumentation.totalRequests()).toBe(0);
    expect((await checkRuns(pr.headSha)).length).toBe(runs);
  });
});
