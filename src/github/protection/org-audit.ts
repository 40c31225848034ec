import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { auditRepository, type AuditOptions, type RepositoryAudit } from "./audit.js";
import { factsError } from "./errors.js";
import { ProtectionFactsCache } from "./fetch.js";
import { countRequests, type RequestMeter } from "./request-meter.js";
import { admit, budgetFor, type ScopedBudget } from "../budget/index.js";

export interface OrgAuditOptions extends Omit<AuditOptions, "cache" | "defaultBranch"> {
  /** Audit only this repository of the org. */
  repo?: string;
  /** Repositories audited at once. GitHub asks integrators not to hammer it: default 4. */
  concurrency?: number;
  /**
   * Stop starting repositories once this many requests were made (the rest are reported as
   * errors, so the run fails closed instead of silently covering part of the org). Default: none.
   */
  requestBudget?: number;
  /**
   * Stop starting repositories when GitHub says fewer than this many requests are left in the
   * rate-limit window (default 100), leaving room for the app's other work. The budget's own
   * reserve for audits (src/github/budget: 15% of the window's limit) applies as well: audits wait
   * before PR checks and records do.
   */
  rateLimitReserve?: number;
  /**
   * The installation's budget (default: the one the server attached to `gh`, if any): figures
   * seen by the app's other requests in the same installation count too.
   */
  budget?: ScopedBudget;
  /**
   * Where the repositories come from: `org` lists `GET /orgs/{org}/repos` (what a user token sees;
   * the CLI), `installation` lists `GET /installation/repositories` (exactly the repositories the
   * app is installed on, for organizations and personal accounts alike; the app). Default `org`,
   * which falls back to the installation's listing when the account is not an organization.
   */
  listing?: "org" | "installation";
  /** Called as each repository's audit completes (e.g. to sync its drift issue). */
  onRepository?: (repo: RepoRef, audit: RepositoryAudit) => Promise<void> | void;
}

export interface OrgAudit {
  org: string;
  repositories: RepositoryAudit[];
  /** Requests made through `gh` during the run (memoized answers excluded, retries not counted). */
  requests: number;
  /** Archived repositories, which nobody can push to and are not audited. */
  archived: string[];
}

interface ListedRepo {
  name: string;
  default_branch?: string;
  archived?: boolean;
}

/**
 * Audits every repository of an organization the token can see (`GET /orgs/{org}/repos`,
 * paginated by 100), a few at a time, with one protection cache for the whole run: org rulesets,
 * teams and the org policy are read once, not once per repository. Per repository it costs about
 * 6-8 requests (see docs/protection.md, "Cost of an audit"); the run stops starting repositories
 * when the budget or the rate-limit reserve is reached and reports the rest as not audited.
 */
export async function auditOrganization(
  gh: GitHub,
  org: string,
  options: OrgAuditOptions,
): Promise<OrgAudit> {
  const meter = countRequests(gh, { memoizeOrgPolicyRepo: org });
  try {
    const listed =
      options.repo !== undefined
        ? [await readRepo(gh, org, options.repo)]
        : await listRepos(gh, org, options.listing ?? "org");
    const archived = listed.filter((r) => r.archived === true).map((r) => `${org}/${r.name}`);
    const active = listed.filter((r) => r.archived !== true).sort((a, b) => a.name.localeCompare(b.name));
    const cache = new ProtectionFactsCache();
    const results: RepositoryAudit[] = new Array<RepositoryAudit>(active.length);
    const reserve = options.rateLimitReserve ?? 100;
    const budget = options.budget ?? budgetFor(gh);
    let next = 0;

    const worker = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        const listedRepo = active[index];
        if (listedRepo === undefined) return;
        const ref: RepoRef = { owner: org, repo: listedRepo.name };
        const stop = stopReason(meter, options.requestBudget, reserve, budget);
        if (stop !== null) {
          results[index] = notAudited(ref, stop);
          continue;
        }
        const audit = await auditRepository(gh, ref, {
          ...options,
          cache,
          ...(listedRepo.default_branch ? { defaultBranch: listedRepo.default_branch } : {}),
        });
        if (options.onRepository) {
          try {
            await options.onRepository(ref, audit);
          } catch (error) {
            audit.notes.push(`follow-up failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        results[index] = audit;
      }
    };
    const workers = Math.max(1, Math.min(options.concurrency ?? 4, 16));
    await Promise.all(Array.from({ length: workers }, () => worker()));
    return { org, repositories: results, requests: meter.count, archived };
  } finally {
    meter.stop();
  }
}

function stopReason(
  meter: RequestMeter,
  requestBudget: number | undefined,
  reserve: number,
  budget: ScopedBudget | undefined,
): string | null {
  if (requestBudget !== undefined && meter.count >= requestBudget) {
    return `not audited: the request budget of ${requestBudget} was used up`;
  }
  if (meter.rateLimitRemaining !== null && meter.rateLimitRemaining < reserve) {
    const reset =
      meter.rateLimitReset !== null ? new Date(meter.rateLimitReset * 1000).toISOString() : "unknown";
    return `not audited: only ${meter.rateLimitRemaining} API requests left in this rate-limit window (resets ${reset})`;
  }
  // The degrade order (src/github/budget): audits wait while PR checks and records still run.
  // Both this run's own figures and the installation's latest (other work spends it too) count.
  for (const admission of [admit("audit", meter.rateLimit), budget?.admit("audit")]) {
    if (admission !== undefined && !admission.go) return `not audited: ${admission.reason}`;
  }
  return null;
}

function notAudited(ref: RepoRef, reason: string): RepositoryAudit {
  return {
    repo: `${ref.owner}/${ref.repo}`,
    status: "error",
    policySources: [],
    branches: [],
    approvedRefs: [],
    notes: [],
    error: reason,
  };
}

async function listRepos(gh: GitHub, org: string, listing: "org" | "installation"): Promise<ListedRepo[]> {
  if (listing === "org") {
    try {
      const repos = await gh.paginate("GET /orgs/{org}/repos", { org, type: "all", per_page: 100 });
      return repos.map((r) => ({ name: r.name, default_branch: r.default_branch, archived: r.archived }));
    } catch (error) {
      // A personal account is no organization: an app can still list what it is installed on.
      if (httpStatus(error) !== 404)
        throw factsError(error, `the repositories of ${org}`, '"Metadata: read" repository');
      try {
        return await listInstallationRepos(gh, org);
      } catch {
        throw factsError(error, `the repositories of ${org}`, '"Metadata: read" repository');
      }
    }
  }
  try {
    return await listInstallationRepos(gh, org);
  } catch (error) {
    throw factsError(error, `the repositories installed for ${org}`, '"Metadata: read" repository');
  }
}

/** The installation's repositories of this account (an installation token sees only its own). */
async function listInstallationRepos(gh: GitHub, owner: string): Promise<ListedRepo[]> {
  const repos = await gh.paginate("GET /installation/repositories", { per_page: 100 });
  return repos
    .filter((r) => r.owner.login.toLowerCase() === owner.toLowerCase())
    .map((r) => ({ name: r.name, default_branch: r.default_branch, archived: r.archived }));
}

async function readRepo(gh: GitHub, org: string, name: string): Promise<ListedRepo> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}", { owner: org, repo: name });
    return { name: data.name, default_branch: data.default_branch, archived: data.archived };
  } catch (error) {
    throw factsError(error, `repository ${org}/${name}`, '"Metadata: read" repository');
  }
}
