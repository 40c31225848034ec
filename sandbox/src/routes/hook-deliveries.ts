import type { SandboxCore } from "../core.js";
import { HttpError } from "../http/errors.js";
import { ok, type ApiRequest } from "../http/request.js";
import type { Router } from "../http/router.js";
import type { Delivery } from "../webhooks/queue.js";

/**
 * The app's webhook delivery log (GitHub's "Webhooks" endpoints for apps, app JWT only): the list,
 * newest first with cursor pagination, and a redelivery request. Every delivery the sandbox made is
 * in the log, with the failure when the app could not be reached (status_code 0, as GitHub reports
 * a connection that never answered), so an app can find and redeliver what it missed.
 */
function requireAppJwt(req: ApiRequest): void {
  if (req.actor?.kind !== "app") {
    throw new HttpError(401, "A JSON web token could not be decoded", {
      documentationUrl: "https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook",
    });
  }
}

function itemJson(d: Delivery): Record<string, unknown> {
  return {
    id: d.id,
    guid: d.guid,
    delivered_at: d.delivered_at ?? new Date(0).toISOString(),
    redelivery: d.redelivery,
    // GitHub reports seconds.
    duration: d.duration_ms === null ? 0 : d.duration_ms / 1000,
    status: d.status,
    status_code: d.status_code ?? 0,
    event: d.event,
    action: d.action,
    installation_id: d.installation_id,
    repository_id: d.repository_id,
    throttled_at: null,
  };
}

export function registerHookDeliveryRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/app/hook/deliveries", (req) => {
    requireAppJwt(req);
    const perPage = Math.min(Math.max(Number(req.query.get("per_page") ?? 30) || 30, 1), 100);
    // Only deliveries already attempted are listed (a queued one has no attempt yet).
    const all = core.webhooks
      .deliveries()
      .filter((d) => d.delivered_at !== null)
      .slice()
      .sort((a, b) => b.id - a.id);
    const cursor = req.query.get("cursor");
    let start = 0;
    if (cursor !== null && cursor !== "") {
      const from = Number(cursor);
      if (!Number.isSafeInteger(from)) throw new HttpError(400, "Invalid cursor");
      start = all.findIndex((d) => d.id <= from);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + perPage);
    const next = all[start + perPage];
    const headers: Record<string, string> = {};
    if (next !== undefined) {
      const url = new URL(req.url);
      url.searchParams.set("per_page", String(perPage));
      url.searchParams.set("cursor", String(next.id));
      headers.link = `<${url.toString()}>; rel="next"`;
    }
    return { status: 200, body: page.map(itemJson), headers };
  });

  router.on("POST", "/app/hook/deliveries/{delivery_id}/attempts", (req) => {
    requireAppJwt(req);
    const id = Number(req.params.delivery_id);
    const copy = Number.isSafeInteger(id) ? core.webhooks.redeliver(id) : undefined;
    if (copy === undefined) throw new HttpError(404, "Not Found");
    return ok({}, 202);
  });
}
