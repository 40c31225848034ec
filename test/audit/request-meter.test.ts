import { ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import type { GitHub } from "../../src/github/octokit.js";
import { countRequests } from "../../src/github/protection/request-meter.js";
import { quietLog } from "./harness.js";

/** An Octokit whose transport answers locally and records every URL it was asked for. */
function localOctokit(): { gh: GitHub; sent: string[] } {
  const sent: string[] = [];
  const fetch = async (url: string | URL): Promise<Response> => {
    sent.push(String(url));
    return new Response(JSON.stringify({ ok: true }), {
      status: 200,
      headers: {
        "content-type": "application/json",
        "x-ratelimit-remaining": String(5000 - sent.length),
        "x-ratelimit-reset": "1900000000",
      },
    });
  };
  const gh = new ProbotOctokit({
    auth: { token: "test" },
    baseUrl: "http://127.0.0.1:9/api/v3",
    log: quietLog,
    throttle: { enabled: false },
    retry: { enabled: false },
    request: { fetch },
  });
  return { gh, sent };
}

describe("request meter", () => {
  it("counts every request, remembers the rate limit, and stops counting once stopped", async () => {
    const { gh, sent } = localOctokit();
    const meter = countRequests(gh);
    await gh.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "a" });
    await gh.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "a" });
    expect(meter.count).toBe(2);
    expect(meter.rateLimitRemaining).toBe(4998);
    expect(meter.rateLimitReset).toBe(1_900_000_000);
    meter.stop();
    await gh.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "a" });
    expect(meter.count).toBe(2);
    expect(sent).toHaveLength(3);
  });

  it("answers repeated GETs of the org's .github repository from memory, and nothing else", async () => {
    const { gh, sent } = localOctokit();
    const meter = countRequests(gh, { memoizeOrgPolicyRepo: "acme" });
    const policy = { owner: "acme", repo: ".github", path: ".github/pullgate.yml" };
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", policy);
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", policy);
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { ...policy, owner: "ACME" });
    // Another repository, another org's .github, and writes are never memoized.
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { ...policy, repo: "svc" });
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { ...policy, owner: "globex" });
    await gh.request("POST /repos/{owner}/{repo}/issues", { owner: "acme", repo: ".github", title: "x" });
    await gh.request("POST /repos/{owner}/{repo}/issues", { owner: "acme", repo: ".github", title: "x" });
    expect(sent).toHaveLength(6);
    expect(meter.count).toBe(6);
    meter.stop();
    // Once stopped, nothing is answered from memory any more.
    await gh.request("GET /repos/{owner}/{repo}/contents/{path}", policy);
    expect(sent).toHaveLength(7);
  });
});
