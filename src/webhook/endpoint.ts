import type { IncomingMessage, ServerResponse } from "node:http";
import type { Probot } from "probot";
import type { PullgateMetrics } from "../metrics.js";
import { declaredOverLimit, readBodyWithin, WEBHOOK_BODY_LIMIT_BYTES } from "./body-limit.js";
import type { DeliveryLedger } from "./delivery-ledger.js";

/**
 * pullgate's webhook endpoint, in this order (docs/threat-model.md, "The webhook endpoint"):
 *
 * 1. cheap refusals: method, content type, GitHub's headers (as @octokit/webhooks answers them);
 * 2. the body limit, **before** the HMAC: a Content-Length over it is answered 413 without reading
 *    a byte, a body that grows past it is answered 413 the moment it does, never buffered further,
 *    and the connection is closed;
 * 3. the HMAC (X-Hub-Signature-256) with Probot's own timing-safe check;
 * 4. the delivery id is claimed in the ledger (only now: an unsigned request must not be able to
 *    poison ids); an id handled inside the window is acknowledged 200 without effect, one being
 *    handled right now is answered 409 (nothing done; redeliver later if the first attempt fails);
 * 5. the handlers run (Probot's `receive`); success remembers the id, failure releases it so
 *    GitHub's redelivery of the failed delivery (same id) is handled again.
 *
 * This replaces Probot's own webhook middleware, which reads the whole body into memory before it
 * verifies anything (@octokit/webhooks `getPayload`) and gives no hook between the HMAC check and
 * the handlers. Its answers are kept: 200 "ok", 202 "still processing" after `answerTimeoutMs`
 * (GitHub waits 10 s), a handler's error status or 500.
 */

export interface WebhookEndpointOptions {
  probot: Probot;
  path: string;
  ledger: DeliveryLedger;
  metrics: PullgateMetrics;
  bodyLimitBytes?: number;
  /** Answer 202 when the handlers take longer than this (Probot's 9 s); they keep running. */
  answerTimeoutMs?: number;
}

const JSON_CONTENT_TYPE = /^\s*(application\/json)\s*(?:;|$)/u;
const REQUIRED_HEADERS = ["x-github-event", "x-hub-signature-256", "x-github-delivery"] as const;
/** GitHub's delivery ids are GUIDs; anything much longer is not one (and would be a Redis key). */
const MAX_DELIVERY_ID_LENGTH = 128;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function answer(res: ServerResponse, status: number, body: string, json = true): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, {
    "content-type": json ? "application/json" : "text/plain",
    "content-length": Buffer.byteLength(body).toString(),
  });
  res.end(body);
}

/**
 * Answers and closes the connection: the rest of an oversized body is neither read into memory nor
 * waited for (Node drains the socket into nothing until the FIN, then destroys it).
 */
function refuseAndClose(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (!res.headersSent) {
    const body = JSON.stringify({ error: message });
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body).toString(),
      connection: "close",
    });
    res.end(body, () => req.socket.destroy());
  } else {
    req.socket.destroy();
  }
}

function errorStatus(error: unknown): number {
  const first = error instanceof AggregateError ? (error.errors[0] as unknown) : error;
  const status = (first as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
}

function errorMessage(error: unknown): string {
  const first = error instanceof AggregateError ? (error.errors[0] as unknown) : error;
  return first instanceof Error ? `${first.name}: ${first.message}` : "Error: An Unspecified error occurred";
}

export type WebhookEndpoint = {
  /** Handles the request if it is for the webhook path (true), else leaves it alone (false). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /**
   * Node's `checkContinue`: a client that asks before sending a body over the limit gets its 413
   * instead of a "100 Continue".
   */
  checkContinue(req: IncomingMessage, res: ServerResponse): boolean;
};

export function createWebhookEndpoint(options: WebhookEndpointOptions): WebhookEndpoint {
  const { probot, path, ledger, metrics } = options;
  const limit = options.bodyLimitBytes ?? WEBHOOK_BODY_LIMIT_BYTES;
  const answerTimeoutMs = options.answerTimeoutMs ?? 9_000;

  const isWebhookPath = (req: IncomingMessage): boolean => {
    try {
      return new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") === path;
    } catch {
      return false;
    }
  };

  const refuseBody = (req: IncomingMessage, res: ServerResponse, reason: "declared" | "streamed") => {
    metrics.webhookBodiesRefused.inc({ reason });
    probot.log.warn(
      { reason, contentLength: header(req, "content-length") ?? null, limit },
      "webhook body over the limit refused before its signature was checked",
    );
    refuseAndClose(req, res, 413, `Payload too large: webhook bodies are capped at ${limit} bytes`);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!isWebhookPath(req)) return false;
    if (req.method !== "POST") {
      answer(res, 404, JSON.stringify({ error: `Unknown route: ${req.method ?? "?"} ${path}` }));
      return true;
    }
    const contentType = header(req, "content-type");
    if (contentType === undefined || !JSON_CONTENT_TYPE.test(contentType)) {
      answer(
        res,
        415,
        JSON.stringify({ error: 'Unsupported "Content-Type" header value. Must be "application/json"' }),
      );
      return true;
    }
    const missing = REQUIRED_HEADERS.filter((h) => header(req, h) === undefined);
    if (missing.length > 0) {
      answer(res, 400, JSON.stringify({ error: `Required headers missing: ${missing.join(", ")}` }));
      return true;
    }
    const name = header(req, "x-github-event") ?? "";
    const signature = header(req, "x-hub-signature-256") ?? "";
    const id = header(req, "x-github-delivery") ?? "";

    const read = await readBodyWithin(req, limit);
    if (!read.ok) {
      if (read.reason === "aborted") req.socket.destroy();
      else refuseBody(req, res, read.reason);
      return true;
    }
    // Probot's decoding (UTF-8, not fatal): the HMAC is over the bytes GitHub sent, re-encoded.
    const payload = new TextDecoder("utf-8", { fatal: false }).decode(read.body);
    const verified = await probot.webhooks.verify(payload, signature).catch(() => false);
    if (!verified) {
      answer(
        res,
        400,
        JSON.stringify({
          error: "Error: [@octokit/webhooks] signature does not match event payload and secret",
        }),
      );
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      answer(res, 400, JSON.stringify({ error: "SyntaxError: Invalid JSON" }));
      return true;
    }
    if (id.length === 0 || id.length > MAX_DELIVERY_ID_LENGTH) {
      answer(res, 400, JSON.stringify({ error: "X-GitHub-Delivery is not a delivery id" }));
      return true;
    }

    let claim;
    try {
      claim = await ledger.claim(id);
    } catch (error) {
      // Not knowing whether it was handled: do nothing, and say so, so GitHub marks the delivery
      // failed and it can be redelivered once the ledger is back.
      metrics.webhookLedgerErrors.inc();
      probot.log.error(
        { err: error, id, event: name },
        "webhook delivery ledger unavailable; delivery not handled",
      );
      answer(res, 503, JSON.stringify({ error: "delivery ledger unavailable; redeliver later" }));
      return true;
    }
    if (claim.kind !== "claimed") {
      const state = claim.kind === "handled" ? "handled" : "in_flight";
      metrics.webhookReplaysDropped.inc({ state });
      probot.log.warn(
        { id, event: name, state },
        "replayed webhook delivery id: acknowledged without effect",
      );
      if (claim.kind === "handled") answer(res, 200, "duplicate delivery: already handled\n", false);
      else
        answer(
          res,
          409,
          JSON.stringify({
            error: "this delivery is being handled now; redeliver later if that attempt fails",
          }),
        );
      return true;
    }

    const lease = claim.lease;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), answerTimeoutMs);
    });
    const work = probot
      // The payload is GitHub's, verified above; Probot's types want the event union by name.
      .receive({ id, name, payload: parsed } as unknown as Parameters<Probot["receive"]>[0])
      .then(
        async () => {
          await lease
            .complete()
            .catch((error: unknown) =>
              probot.log.warn({ err: error, id }, "could not record a handled delivery id"),
            );
          return { ok: true as const };
        },
        async (error: unknown) => {
          await lease
            .release()
            .catch((releaseError: unknown) =>
              probot.log.warn(
                { err: releaseError, id },
                "could not release a failed delivery id; it is redeliverable once its lease lapses",
              ),
            );
          probot.log.error(
            { err: error, id, event: name },
            "webhook handler failed; the delivery stays redeliverable",
          );
          return { ok: false as const, error };
        },
      );
    const first = await Promise.race([work, timeout]);
    clearTimeout(timer);
    if (first === "timeout") {
      answer(res, 202, "still processing\n", false);
      await work;
      return true;
    }
    if (first.ok) answer(res, 200, "ok\n", false);
    else answer(res, errorStatus(first.error), JSON.stringify({ error: errorMessage(first.error) }));
    return true;
  }

  function checkContinue(req: IncomingMessage, res: ServerResponse): boolean {
    if (isWebhookPath(req) && req.method === "POST" && declaredOverLimit(req, limit)) {
      refuseBody(req, res, "declared");
      return true;
    }
    res.writeContinue();
    return false;
  }

  return { handle, checkContinue };
}
