import type { SandboxCore } from "../core.js";
import type { GitSmartHttp } from "../git/smarthttp.js";
import type { RateLimiter } from "../http/ratelimit.js";
import type { Router } from "../http/router.js";
import { ok } from "../http/request.js";
import { credentialFromHeader } from "../auth/tokens.js";
import { registerAdminRoutes } from "./admin.js";
import { registerAppRoutes } from "./app.js";
import { registerAppManifestRoutes, type AppManifests } from "./app-manifests.js";
import { registerHookDeliveryRoutes } from "./hook-deliveries.js";
import { registerInstallationRoutes } from "./installations.js";
import { registerOrgRoutes } from "./orgs.js";
import { registerRepoRoutes } from "./repos.js";
import { registerSandboxRoutes } from "./sandbox.js";
import { registerGitDbRoutes } from "./gitdb.js";
import { registerCommitRoutes } from "./commits.js";
import { registerPullRoutes } from "./pulls.js";
import { registerMergeRoutes } from "./merge.js";
import { registerCheckRoutes } from "./checks.js";
import { registerIssueRoutes } from "./issues.js";
import { registerProtectionRoutes } from "./protection.js";
import { registerLookupRoutes } from "./lookups.js";
import { registerUpdateBranchRoutes } from "./update-branch.js";
import { registerQueueRoutes } from "./queue.js";
import { registerForkRoutes } from "./forks.js";

export interface RouteControl {
  setWebhookUrl(url: string | undefined): void;
  webhookUrl(): string | undefined;
  git: GitSmartHttp;
  rateLimiter: RateLimiter;
  /** The app-manifest flow's pending codes (its web page is served by server.ts). */
  manifests: AppManifests;
}

/** Every endpoint the sandbox serves. Order matters only where templates overlap (first match wins). */
export function registerRoutes(router: Router, core: SandboxCore, control: RouteControl): void {
  registerSandboxRoutes(router, core, control);
  router.on("GET", "/rate_limit", (req) => {
    // Reading the rate limit does not count against it on GitHub; here it reports the state after this request.
    const credential = credentialFromHeader(req.headers.authorization);
    const state = control.rateLimiter.peek(
      req.actor?.kind === "app" ? `app:${req.actor.appId}` : (credential ?? null),
    );
    const core_ = {
      limit: state.limit,
      remaining: state.remaining,
      reset: state.reset,
      used: state.used,
      resource: "core",
    };
    // GitHub reports every resource; the sandbox limits only the REST API ("core"), so the others
    // are reported with their GitHub defaults and never used up.
    const unused = (resource: string, limit: number) => ({
      limit,
      remaining: limit,
      reset: state.reset,
      used: 0,
      resource,
    });
    return ok({
      resources: { core: core_, search: unused("search", 30), graphql: unused("graphql", 5000) },
      rate: core_,
    });
  });
  registerAdminRoutes(router, core);
  registerAppRoutes(router, core);
  registerAppManifestRoutes(router, control.manifests);
  registerHookDeliveryRoutes(router, core);
  registerInstallationRoutes(router, core);
  registerOrgRoutes(router, core);
  registerRepoRoutes(router, core);
  registerForkRoutes(router, core);
  registerGitDbRoutes(router, core);
  registerPullRoutes(router, core);
  registerUpdateBranchRoutes(router, core);
  registerMergeRoutes(router, core);
  registerCheckRoutes(router, core);
  registerIssueRoutes(router, core);
  registerProtectionRoutes(router, core);
  registerQueueRoutes(router, core);
  // Last: its greedy {ref+} / {branch+} templates would swallow the more specific routes above.
  registerCommitRoutes(router, core);
  registerLookupRoutes(router, core);
}
