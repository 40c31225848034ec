import type { SandboxCore } from "../core.js";
import { notFound } from "../http/errors.js";
import { ok } from "../http/request.js";
import type { Router } from "../http/router.js";
import { accountProfileJson } from "./admin.js";
import { appJson } from "./app.js";

/**
 * Lookups pullgate makes to name things in protection audits (docs/protection.md): a ruleset bypass
 * actor is an id, so the audit asks GitHub who user 42 is, which app has a slug, and which custom
 * repository roles the org defines. Registered last: `/user/{account_id}` must not shadow the
 * literal `/user/...` routes.
 */
export function registerLookupRoutes(router: Router, core: SandboxCore): void {
  // GitHub: "Provides publicly available information about a GitHub account" by its numeric id.
  router.on("GET", "/user/{account_id}", (req) => {
    if (!/^\d+$/.test(req.params.account_id ?? "")) throw notFound();
    const id = Number(req.params.account_id);
    const account =
      Object.values(core.state.users).find((u) => u.id === id) ??
      Object.values(core.state.orgs).find((o) => o.id === id);
    return ok(accountProfileJson(core, account?.login ?? ""));
  });

  // Public: any client may look an app up by its slug.
  router.on("GET", "/apps/{app_slug}", (req) => {
    if (req.params.app_slug !== core.state.app.slug) throw notFound();
    return ok(appJson(core));
  });

  // The sandbox models no custom repository roles (README: simplified): an org has none.
  router.on("GET", "/orgs/{org}/custom-repository-roles", (req) => {
    if (core.org(req.params.org ?? "") === undefined) throw notFound();
    return ok({ total_count: 0, custom_roles: [] });
  });
}
