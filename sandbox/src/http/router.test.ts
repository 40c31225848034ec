import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Router } from "./router.js";

const handler = () => ({ status: 200 });

describe("sandbox router", () => {
  const router = new Router()
    .on("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection", handler)
    .on("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", handler)
    .on("GET", "/repos/{owner}/{repo}/branches/{branch+}", handler)
    .on("GET", "/repos/{owner}/{repo}", handler);

  it("binds params and keeps GitHub's template as the route key", () => {
    expect(router.match("GET", "/repos/acme/deploy")).toMatchObject({
      template: "GET /repos/{owner}/{repo}",
      params: { owner: "acme", repo: "deploy" },
    });
    expect(router.match("GET", "/repos/acme/deploy/git/ref/heads/approved/production")?.params.ref).toBe(
      "heads/approved/production",
    );
    expect(router.match("GET", "/repos/acme/deploy/branches/release/v1/protection")).toMatchObject({
      template: "GET /repos/{owner}/{repo}/branches/{branch}/protection",
      params: { branch: "release/v1" },
    });
    expect(router.match("POST", "/repos/acme/deploy")).toBeUndefined();
    expect(router.match("GET", "/repos/acme")).toBeUndefined();
    expect(router.match("GET", "/repos/acme/%E0%A4%A/x")).toBeUndefined();
  });

  it("any branch name, raw or percent-encoded (as Octokit sends it), round-trips", () => {
    const segment = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((s) => !s.includes("/") && s !== "." && s !== "..");
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (parts) => {
        const branch = parts.join("/");
        const encoded = router.match("GET", `/repos/o/r/branches/${encodeURIComponent(branch)}`);
        expect(encoded?.params.branch).toBe(branch);
        const raw = router.match("GET", `/repos/o/r/branches/${parts.map(encodeURIComponent).join("/")}`);
        expect(raw?.params.branch).toBe(branch);
        expect(raw?.template).toBe("GET /repos/{owner}/{repo}/branches/{branch}");
      }),
    );
  });
});
