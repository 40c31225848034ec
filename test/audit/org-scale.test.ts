import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditOrganization } from "../../src/github/protection/org-audit.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import {
  auditOptions,
  fullRules,
  ORG_POLICY,
  probotOctokit,
  recordRefRuleset,
  writeFiles,
} from "./harness.js";

/**
 * An org of repositories audited by the app under GitHub's
 * installation rate limit (5,000 requests an hour; the sandbox enforces it). Two org rulesets
 * protect every default branch and every record ref, so each repository is clean and the org
 * rulesets must be read once per run, not once per repository.
 *
 * Request budget per repository, with one governed branch (main) and one environment:
 *   1  GET branches/main (the default branch head, for the policy at that commit)
 *   1  GET contents/.github/pullgate.yml in the repository (404: only the org policy applies)
 *   2  GET branches/main/protection + GET rules/branches/main
 *   2  GET branches/approved/production/protection + GET rules/branches/approved/production
 * = 6, plus per run: ceil(N/100) repository pages, 1 org policy read, 2 org ruleset reads.
 */
/**
 * 50 repositories by default, so `npm test` stays quick (the cost is linear and the bound exact);
 * the reliability suite runs it at 500 with PULLGATE_AUDIT_SCALE=500 (measured: 501 repositories,
 * 3,015 requests, exactly the bound; about 45 s against the sandbox, plus a minute of set-up).
 */
const N = Number(process.env.PULLGATE_AUDIT_SCALE ?? 50);
const ORG = "mega";

describe(`auditOrganization: ${N} repositories`, () => {
  let t: TestSandbox;
  let alice: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox({ rateLimit: 5_000 });
    alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    const appId = t.sandbox.app.id;
    const everyRepo = { repository_name: { include: ["~ALL"], exclude: [".github"] } };
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: ORG,
      name: "org main",
      target: "branch",
      enforcement: "active",
      bypass_actors: [],
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] }, ...everyRepo },
      rules: fullRules(appId),
    } as never);
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: ORG,
      ...recordRefRuleset(appId),
      conditions: { ref_name: { include: ["refs/heads/approved/*"], exclude: [] }, ...everyRepo },
    } as never);
    for (let start = 0; start < N; start += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, N - start) }, (_, i) =>
          t.createRepo(ORG, `svc-${String(start + i).padStart(4, "0")}`),
        ),
      );
    }
  }, 300_000);
  afterAll(async () => t?.close());

  it("audits every repository within the rate limit and a per-repository request budget", async () => {
    const gh = probotOctokit(t, await t.installationToken(ORG));
    await t.admin.request("DELETE /sandbox/requests");
    const audit = await auditOrganization(gh, ORG, auditOptions(t));

    const byStatus = new Map<string, number>();
    for (const r of audit.repositories) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    // N services plus the .github repository, which the rulesets exclude on purpose.
    expect(audit.repositories).toHaveLength(N + 1);
    expect(byStatus.get("ok")).toBe(N);
    expect(audit.repositories.find((r) => r.repo === `${ORG}/.github`)?.status).toBe("drift");

    const { data } = await t.admin.request("GET /sandbox/requests");
    const served = data as { counts: Record<string, number>; total: number };
    // Our meter and the server agree (no retries happened; the sandbox counts this very query too).
    const githubRequests = Object.entries(served.counts)
      .filter(([route]) => !route.includes(" /sandbox/"))
      .reduce((sum, [, n]) => sum + n, 0);
    expect(audit.requests).toBe(githubRequests);
    const repos = N + 1;
    const bound = 6 * repos + Math.ceil(repos / 100) + 1 + 2;
    expect(audit.requests).toBeLessThanOrEqual(bound);
    // Org-level data was read once per run, not per repository.
    expect(served.counts["GET /orgs/{org}/rulesets/{ruleset_id}"]).toBe(2);
    expect(served.counts["GET /repos/{owner}/{repo}/contents/{path}"]).toBe(repos + 1);
  }, 300_000);

  it("stops at a request budget and reports the rest as not audited (fails closed)", async () => {
    const gh = probotOctokit(t, await t.installationToken(ORG));
    const audit = await auditOrganization(gh, ORG, { ...auditOptions(t), requestBudget: 60, concurrency: 2 });
    const skipped = audit.repositories.filter((r) => r.error?.includes("request budget of 60"));
    expect(skipped.length).toBeGreaterThan(N - 20);
    expect(skipped.every((r) => r.status === "error")).toBe(true);
    // Repositories already started finish; the overshoot is bounded by the workers in flight.
    expect(audit.requests).toBeLessThan(60 + 2 * 8 + Math.ceil((N + 1) / 100));
  }, 120_000);
});

describe("auditOrganization under a nearly spent rate limit", () => {
  let t: TestSandbox;

  beforeAll(async () => {
    // 150 requests an hour: set-up and the first repositories use most of it.
    t = await startTestSandbox({ rateLimit: 150 });
    const alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    for (let i = 0; i < 30; i++) await t.createRepo(ORG, `svc-${i}`);
  }, 120_000);
  afterAll(async () => t?.close());

  it("stops starting repositories before the limit and reports them as not audited", async () => {
    const gh = probotOctokit(t, await t.installationToken(ORG));
    const audit = await auditOrganization(gh, ORG, { ...auditOptions(t), rateLimitReserve: 60 });
    const stopped = audit.repositories.filter((r) => r.error?.includes("API requests left"));
    const audited = audit.repositories.filter((r) => r.error === undefined);
    expect(audited.length).toBeGreaterThan(0);
    expect(stopped.length).toBeGreaterThan(0);
    expect(audited.length + stopped.length).toBe(31);
    expect(stopped.every((r) => r.status === "error")).toBe(true);
    // Nothing ran into the limit itself: every audited repository was judged on complete facts.
    expect(audited.every((r) => r.status === "drift")).toBe(true);
    expect(audit.requests).toBeLessThan(150);
  }, 60_000);
});
