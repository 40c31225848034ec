/**
 * The org audit at scale (issue: "an org audit that fits 10,000 repositories in an hour"): an org
 * of N repositories (default 2,000; PULLGATE_BENCH_ORG_REPOS), every default branch and record ref
 * protected by two org rulesets, audited twice by the app's Octokit with the server's plumbing
 * (conditional-request cache + budget): cold (empty cache) and warm (the same installation again,
 * nothing changed). Counted requests are what the sandbox counts against the rate limit; 304s are
 * reported apart (they cost a round trip, not budget).
 */
import { ProbotOctokit } from "probot";
import { plumbedFetch, type GitHub, type RequestPlumbing } from "../src/github/octokit.js";
import { ApiBudget } from "../src/github/budget/index.js";
import { MemoryHttpCache } from "../src/github/http-cache/index.js";
import { auditOrganization } from "../src/github/protection/org-audit.js";
import { startTestSandbox } from "@pullgate/sandbox";
import {
  auditOptions,
  fullRules,
  ORG_POLICY,
  quietLog,
  recordRefRuleset,
  writeFiles,
} from "../test/audit/harness.js";
import { atMost, type BenchResult } from "./result.js";

const ORG = "mega";

export interface OrgAuditCost {
  repositories: number;
  /** The same audit without the cache (what every run cost before conditional requests). */
  uncached: { counted: number; notModified: number; routes: Record<string, number> };
  cold: { counted: number; notModified: number; routes: Record<string, number> };
  warm: { counted: number; notModified: number; routes: Record<string, number> };
}

export async function measureOrgAudit(n: number): Promise<OrgAuditCost> {
  // The limit is not what is measured here: high enough that neither run is cut short.
  const t = await startTestSandbox({ rateLimit: 1_000_000, persistDebounceMs: 5_000 });
  try {
    const alice = await t.createUser("alice");
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
    for (let start = 0; start < n; start += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, n - start) }, (_, i) =>
          t.createRepo(ORG, `svc-${String(start + i).padStart(5, "0")}`),
        ),
      );
    }
    const token = await t.installationToken(ORG);
    const cache = new MemoryHttpCache({ maxEntries: 20 * n, maxBytes: 512 * 1024 * 1024 });
    const budget = new ApiBudget();
    const client = (plumbing: RequestPlumbing) =>
      new ProbotOctokit({
        auth: { token },
        baseUrl: t.sandbox.apiUrl,
        log: quietLog,
        throttle: { enabled: false },
        retry: { enabled: false },
        request: { fetch: plumbedFetch(fetch, plumbing, "installation:bench") },
      }) as GitHub;
    const run = async (gh: GitHub) => {
      t.sandbox.instrumentation.resetCounts();
      const audit = await auditOrganization(gh, ORG, auditOptions(t));
      const ok = audit.repositories.filter((r) => r.status === "ok").length;
      // A cheap count must not come from skipped work: every service repository was judged clean.
      if (ok !== n) throw new Error(`org audit: ${ok} of ${n} repositories ok`);
      const { instrumentation } = t.sandbox;
      return {
        counted: instrumentation.totalRequests(),
        notModified: instrumentation.totalNotModified(),
        routes: instrumentation.requestCounts(),
      };
    };
    const uncached = await run(client({ budget }));
    const cached = client({ cache, budget });
    const cold = await run(cached);
    const warm = await run(cached);
    return { repositories: n + 1, uncached, cold, warm };
  } finally {
    await t.close();
  }
}

export async function benchOrgAudit(): Promise<BenchResult[]> {
  const n = Number(process.env.PULLGATE_BENCH_ORG_REPOS ?? 2_000);
  const cost = await measureOrgAudit(n);
  if (process.env.PULLGATE_BENCH_VERBOSE === "1") {
    for (const [name, run] of [
      ["uncached", cost.uncached],
      ["cold", cost.cold],
      ["warm", cost.warm],
    ] as const) {
      process.stderr.write(
        `\norg audit ${name}: ${run.counted} counted, ${run.notModified} answered 304, ${cost.repositories} repositories\n`,
      );
      for (const [route, count] of Object.entries(run.routes))
        process.stderr.write(`  ${String(count).padStart(6)}  ${route}\n`);
    }
  }
  const perRepo = (counted: number) => counted / cost.repositories;
  // 10,000 repositories audited once cold and then kept warm: the warm cost per repository is
  // what an hour of audits costs once the cache holds the org.
  const projected = Math.round(perRepo(cost.warm.counted) * 10_000);
  // "before" is measured: the same org audited by a client without the cache.
  const before = perRepo(cost.uncached.counted);
  return [
    {
      ...atMost("org_audit.cold_per_repo", perRepo(cost.cold.counted), "requests", 2),
      before,
    },
    {
      ...atMost("org_audit.warm_per_repo", perRepo(cost.warm.counted), "requests", 1.2),
      before,
    },
    {
      ...atMost("org_audit.warm_10000_repos_projected", projected, "requests", 12_500),
      before: Math.round(before * 10_000),
    },
    atMost("org_audit.warm_not_modified_per_repo", perRepo(cost.warm.notModified), "304s", 6),
  ];
}
