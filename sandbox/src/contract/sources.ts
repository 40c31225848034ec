/**
 * Which description each sandbox route is checked against. The default is api.github.com's REST
 * description (@octokit/openapi `generated/api.github.com.json`). pullgate also targets GitHub
 * Enterprise Server (GHE_HOST, docs/architecture.md), and the sandbox serves a few routes that exist
 * only there, or only in the sandbox: each is listed here, by its route template, with where it
 * comes from. A sandbox route in neither list that has no api.github.com operation is answered 404
 * in strict mode, as GitHub would.
 */

/** Descriptions of @octokit/openapi other than api.github.com that the index takes operations from. */
export const EXTRA_SOURCES = ["ghes-3.19", "ghec"] as const;
export type ExtraSource = (typeof EXTRA_SOURCES)[number];

/** Routes served by the sandbox that api.github.com does not have, with the description they come from. */
export const NON_DOTCOM_ROUTES: Readonly<Record<string, ExtraSource>> = {
  // GHES site-admin API: how the sandbox (a GHES layout) creates users, orgs and user tokens.
  "POST /admin/users": "ghes-3.19",
  "POST /admin/organizations": "ghes-3.19",
  "POST /admin/users/{username}/authorizations": "ghes-3.19",
  "DELETE /admin/users/{username}/authorizations": "ghes-3.19",
  // Custom repository roles: GHEC and GHES only (api.github.com answers 404; the app handles it,
  // src/github/protection/fetch.ts).
  "GET /orgs/{org}/custom-repository-roles": "ghes-3.19",
};

/**
 * The sandbox's own routes (test and demo control, the merge queue GitHub drives through GraphQL):
 * not GitHub operations, exempt from the contract. The pre-receive hook callback is internal to the
 * server and never reaches the router.
 */
export const SANDBOX_ONLY_ROUTES: ReadonlySet<string> = new Set([
  "POST /sandbox/installations",
  "PATCH /sandbox/installations/{installation_id}",
  "GET /sandbox/deliveries",
  "POST /sandbox/deliveries/{delivery_id}/redeliver",
  "POST /sandbox/idle",
  "GET /sandbox/app",
  "PATCH /sandbox/app",
  "GET /sandbox/requests",
  "DELETE /sandbox/requests",
  "GET /sandbox/faults",
  "POST /sandbox/faults",
  "DELETE /sandbox/faults",
  "PUT /sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue",
  "DELETE /sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue",
  "GET /sandbox/repos/{owner}/{repo}/queue/{branch}",
]);

/**
 * Sandbox routes served under another template than the description's (GitHub serves both; the
 * description spells only one). Listed in sandbox/DEVIATIONS.md with their evidence.
 */
export const ROUTE_ALIASES: Readonly<Record<string, string>> = {
  // The repository root: GitHub answers `/contents` and `/contents/` like `/contents/{path}` with
  // an empty path; the description has only the latter.
  "GET /repos/{owner}/{repo}/contents": "GET /repos/{owner}/{repo}/contents/{path}",
};

/** `GET /repos/{owner}/{repo}` → `GET /repos/{}/{}`: parameter names differ between sandbox and spec. */
export function normalizeTemplate(template: string): string {
  return template.replace(/\{[^}]*\}/g, "{}");
}
