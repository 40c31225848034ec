import type { SandboxCore } from "../core.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { noContent, ok, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";
import type { Fault } from "../instrumentation.js";

/** The sandbox's own endpoints (not GitHub's): delivery log, redelivery, request counts, faults. */
export function registerSandboxRoutes(
  router: Router,
  core: SandboxCore,
  control: { setWebhookUrl(url: string | undefined): void; webhookUrl(): string | undefined },
): void {
  const admin = (req: ApiRequest) => core.requireSiteAdmin(req);

  router.on("GET", "/sandbox/deliveries", (req) => {
    admin(req);
    const event = req.query.get("event");
    return ok(
      core.webhooks
        .deliveries()
        .filter((d) => event === null || d.event === event)
        .map((d) => ({ ...d, payload: req.query.get("payloads") === "false" ? undefined : d.payload })),
    );
  });

  router.on("POST", "/sandbox/deliveries/{delivery_id}/redeliver", (req) => {
    admin(req);
    const delivery = core.webhooks.redeliver(Number(req.params.delivery_id));
    if (delivery === undefined) throw notFound();
    return { status: 202, body: { id: delivery.id, guid: delivery.guid } };
  });

  router.on("POST", "/sandbox/idle", async (req) => {
    admin(req);
    await core.webhooks.idle();
    return noContent();
  });

  router.on("GET", "/sandbox/app", (req) => {
    admin(req);
    return ok({
      id: core.state.app.id,
      slug: core.state.app.slug,
      webhook_url: control.webhookUrl() ?? null,
      web_flow_public_key: core.webflow.publicArmored,
    });
  });

  router.on("PATCH", "/sandbox/app", (req) => {
    admin(req);
    const url = req.body.nullableString("webhook_url");
    if (url !== undefined) control.setWebhookUrl(url ?? undefined);
    return ok({ webhook_url: control.webhookUrl() ?? null });
  });

  router.on("GET", "/sandbox/requests", (req) => {
    admin(req);
    return ok({
      counts: core.instrumentation.requestCounts(),
      total: core.instrumentation.totalRequests(),
      // Answered 304 Not Modified: not in counts/total (GitHub does not count them against the limit).
      not_modified: core.instrumentation.notModifiedRequestCounts(),
      not_modified_total: core.instrumentation.totalNotModified(),
    });
  });

  router.on("DELETE", "/sandbox/requests", (req) => {
    admin(req);
    core.instrumentation.resetCounts();
    return noContent();
  });

  router.on("GET", "/sandbox/faults", (req) => {
    admin(req);
    return ok(core.instrumentation.listFaults());
  });

  router.on("POST", "/sandbox/faults", (req) => {
    admin(req);
    const route = req.body.string("route");
    const fault: Fault = {};
    const latency = req.body.optInt("latency_ms");
    if (latency !== undefined) fault.latencyMs = latency;
    const status = req.body.optInt("status");
    if (status !== undefined) {
      if (status !== 404 && status !== 500 && status !== 502 && status !== 503)
        throw validationFailed({ resource: "Fault", field: "status", code: "invalid" });
      fault.status = status;
    }
    const secondary = req.body.optInt("secondary_rate_limit");
    if (secondary !== undefined) {
      if (secondary !== 403 && secondary !== 429)
        throw validationFailed({ resource: "Fault", field: "secondary_rate_limit", code: "invalid" });
      fault.secondaryRateLimit = secondary;
    }
    const retryAfter = req.body.optInt("retry_after");
    if (retryAfter !== undefined) fault.retryAfter = retryAfter;
    if (req.body.optBool("timeout") === true) fault.timeout = true;
    const times = req.body.optInt("times");
    if (times !== undefined) fault.times = times;
    if (Object.keys(fault).length === 0)
      throw new HttpError(422, "A fault needs latency_ms, status, secondary_rate_limit or timeout");
    core.instrumentation.setFault(route, fault);
    return { status: 201, body: { route, ...fault } };
  });

  router.on("DELETE", "/sandbox/faults", (req) => {
    admin(req);
    core.instrumentation.clearFaults(req.query.get("route") ?? undefined);
    return noContent();
  });
}
