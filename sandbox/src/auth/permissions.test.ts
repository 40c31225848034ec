import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { APP_PERMISSIONS, levelAtLeast, narrowPermissions, permissionForRoute } from "./permissions.js";

describe("GitHub App permissions in the sandbox", () => {
  it("maps repository endpoints to the permission GitHub requires of apps", () => {
    const cases: [string, string, string][] = [
      ["GET", "/repos/{owner}/{repo}", "metadata"],
      ["PATCH", "/repos/{owner}/{repo}", "administration"],
      ["POST", "/repos/{owner}/{repo}/check-runs", "checks"],
      ["GET", "/repos/{owner}/{repo}/commits/{ref+}/check-suites", "checks"],
      ["POST", "/repos/{owner}/{repo}/statuses/{sha}", "statuses"],
      ["GET", "/repos/{owner}/{repo}/commits/{ref+}/status", "statuses"],
      ["POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "issues"],
      ["GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "pull_requests"],
      ["GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", "pull_requests"],
      ["PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", "contents"],
      ["PUT", "/repos/{owner}/{repo}/branches/{branch+}/protection", "administration"],
      ["GET", "/repos/{owner}/{repo}/rulesets", "administration"],
      ["GET", "/repos/{owner}/{repo}/rules/branches/{branch+}", "metadata"],
      ["PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", "contents"],
      ["GET", "/repos/{owner}/{repo}/contents/{path+}", "contents"],
    ];
    for (const [method, route, permission] of cases)
      expect(permissionForRoute(method, route), `${method} ${route}`).toBe(permission);
  });

  it("narrows only: a level above the installation's, an unknown permission or level is refused", () => {
    expect(narrowPermissions({ contents: "read" }, APP_PERMISSIONS)).toEqual({
      contents: "read",
      metadata: "read",
    });
    expect(narrowPermissions({ members: "write" }, APP_PERMISSIONS)).toBeNull();
    expect(narrowPermissions({ workflows: "read" }, APP_PERMISSIONS)).toBeNull();
    expect(narrowPermissions({ contents: "admin" }, APP_PERMISSIONS)).toBeNull();
    expect(narrowPermissions({ contents: 1 }, APP_PERMISSIONS)).toBeNull();
  });

  it("property: whatever is asked, a granted token never exceeds the installation", () => {
    const names = [...Object.keys(APP_PERMISSIONS), "workflows", "secrets", "actions"];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), fc.constantFrom<unknown>("read", "write", "admin", null, 3)),
        (requested) => {
          const granted = narrowPermissions(requested, APP_PERMISSIONS);
          if (granted === null) return;
          for (const [name, level] of Object.entries(granted))
            expect(levelAtLeast(APP_PERMISSIONS[name], level)).toBe(true);
        },
      ),
    );
  });
});
