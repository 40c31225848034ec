import type { Policy, ProtectionMode, ProtectionPolicy } from "../../core/policy/types.js";
import {
  checkApprovedRefProtection,
  compareProtection,
  effectiveProtection,
  type ApprovedRefContext,
  type ApprovedRefDrift,
  type Drift,
  type EffectiveProtection,
  type ProtectionContext,
} from "../../core/protection/index.js";
import type { RuleResult } from "../../core/verdict/types.js";
import { httpStatus, type GitHub, type RepoRef } from "../octokit.js";
import { applyApprovedRefRuleset, applyBranchProtectionFix } from "./apply.js";
import { factsError } from "./errors.js";
import { fetchBranchProtectionFacts, ProtectionFactsCache, type BranchProtectionFacts } from "./fetch.js";
import { governedBranches, hasGlobBranches, literalBranches, recordRefs } from "./governed.js";

/** What the policy loader returns (src/github/policy-source.ts `loadEffectivePolicy`). */
export interface LoadedPolicy {
  policy: Policy;
  digest: string;
  sources: string[];
  notes: string[];
}

/**
 * Reads the effective policy (repo file at `sha` merged over the org's) or null when the repo has
 * none. Injected so the audit does not depend on where policies come from; throws on a broken one.
 */
export type LoadPolicy = (gh: GitHub, repo: RepoRef, sha: string) => Promise<LoadedPolicy | null>;

/**
 * When to apply fixes: `none` only reports; `policy` fixes where the policy's protection mode is
 * `enforce` (the app); `all` fixes every governed branch whose mode is not `off` (`pullgate audit --fix`).
 */
export type FixMode = "none" | "policy" | "all";

export interface AuditOptions {
  appId: number;
  appSlug: string;
  /** pullgate's check name; default "pullgate". */
  checkName?: string;
  fix: FixMode;
  loadPolicy: LoadPolicy;
  /** One per run, shared across repositories (org rulesets, teams...). */
  cache?: ProtectionFactsCache;
  /** The default branch when already known (the org listing carries it): saves a request. */
  defaultBranch?: string;
}

/** ok: meets the policy; drift: short of it; error: could not be judged (fails closed); off: mode off. */
export type AuditStatus = "ok" | "drift" | "error" | "off";

export interface FixOutcome {
  /** Drift before the fix was applied. */
  before: { setting: string; expected: string; actual: string }[];
  /** True when the re-check after the fix found no drift. */
  fixed: boolean;
  /** Why the fix could not be applied (the drift stays reported). */
  error?: string;
}

export interface BranchAudit {
  branch: string;
  environment: string;
  mode: ProtectionMode;
  status: AuditStatus;
  result: RuleResult;
  drift: Drift[];
  fix?: FixOutcome;
}

export interface ApprovedRefAudit {
  ref: string;
  environment: string;
  status: AuditStatus;
  result: RuleResult;
  drift: ApprovedRefDrift[];
  fix?: FixOutcome;
}

export interface RepositoryAudit {
  /** "owner/name". */
  repo: string;
  /** ungoverned: no policy applies; error: the repository could not be audited at all. */
  status: AuditStatus | "ungoverned";
  policySources: string[];
  branches: BranchAudit[];
  approvedRefs: ApprovedRefAudit[];
  notes: string[];
  error?: string;
}

const CHECK_NAME = "pullgate";

/**
 * Audits one repository: its default branch head's policy, each governed branch's effective
 * protection, and each record ref's. With fixes on, applies what is missing, then reads everything
 * again and reports the re-check (and the drift before it). Never throws for an API failure: the
 * repository or branch is reported with status `error` and the reason.
 */
export async function auditRepository(
  gh: GitHub,
  repo: RepoRef,
  options: AuditOptions,
): Promise<RepositoryAudit> {
  const name = `${repo.owner}/${repo.repo}`;
  const cache = options.cache ?? new ProtectionFactsCache();
  const report: RepositoryAudit = {
    repo: name,
    status: "ok",
    policySources: [],
    branches: [],
    approvedRefs: [],
    notes: [],
  };

  let loaded: LoadedPolicy | null;
  let branches: BranchListing;
  try {
    const defaultBranch = options.defaultBranch ?? (await readDefaultBranch(gh, repo));
    const head = await readBranchHead(gh, repo, defaultBranch);
    if (head === null) {
      return {
        ...report,
        status: "ungoverned",
        notes: [`default branch ${defaultBranch} has no commit yet`],
      };
    }
    loaded = await options.loadPolicy(gh, repo, head);
    if (loaded === null) return { ...report, status: "ungoverned" };
    report.policySources = loaded.sources;
    report.notes.push(...loaded.notes);
    branches = await existingBranches(gh, repo, loaded.policy, defaultBranch);
  } catch (error) {
    return { ...report, status: "error", error: errorMessage(error) };
  }

  const policy = loaded.policy;
  const ctxBase = {
    appId: options.appId,
    appSlug: options.appSlug,
    checkName: options.checkName ?? CHECK_NAME,
  };

  const governed = governedBranches(policy, branches.names);
  for (const literal of literalBranches(policy)) {
    if (!branches.names.includes(literal)) {
      report.notes.push(`branch ${literal} named by the policy does not exist`);
    }
  }
  // Why some bypass actors could only be named by id (e.g. custom roles on github.com), once each.
  const naming = new Set<string>();
  report.branches = await Promise.all(
    governed.map(({ branch, entry }) =>
      auditBranch(gh, repo, branch, entry.environment, entry.protection, ctxBase, options, cache, naming),
    ),
  );

  const refs = recordRefs(policy);
  report.approvedRefs = await auditRecordRefs(
    gh,
    repo,
    policy,
    refs,
    branches,
    ctxBase,
    options,
    cache,
    naming,
  );
  report.notes.push(...naming);

  const statuses = [...report.branches.map((b) => b.status), ...report.approvedRefs.map((r) => r.status)];
  report.status = statuses.includes("error") ? "error" : statuses.includes("drift") ? "drift" : "ok";
  return report;
}

/**
 * The protection rule for one branch without fixing anything: what a PR check on that base branch
 * shows ("drift appears in the PR check summary"). `result` is the RuleResult to put in the
 * verdict; API failures come back as an `error` result with the reason (fail closed), never thrown.
 */
export async function auditBranchProtection(
  gh: GitHub,
  repo: RepoRef,
  branch: string,
  entry: { environment: string; protection: ProtectionPolicy },
  app: { appId: number; appSlug: string; checkName?: string; cache?: ProtectionFactsCache },
): Promise<BranchAudit> {
  const ctxBase = { appId: app.appId, appSlug: app.appSlug, checkName: app.checkName ?? CHECK_NAME };
  const options: Pick<AuditOptions, "fix"> = { fix: "none" };
  const naming = new Set<string>();
  const audit = await auditBranch(
    gh,
    repo,
    branch,
    entry.environment,
    entry.protection,
    ctxBase,
    options,
    app.cache ?? new ProtectionFactsCache(),
    naming,
  );
  if (naming.size === 0) return audit;
  // The check shows why a bypass actor appears as an id (custom roles on github.com, docs/audit.md).
  return { ...audit, result: { ...audit.result, notes: [...(audit.result.notes ?? []), ...naming] } };
}

function shouldFix(fix: FixMode, mode: ProtectionMode): boolean {
  if (mode === "off" || fix === "none") return false;
  return fix === "all" || mode === "enforce";
}

async function auditBranch(
  gh: GitHub,
  repo: RepoRef,
  branch: string,
  environment: string,
  protection: ProtectionPolicy,
  ctxBase: Omit<ProtectionContext, "org" | "teams" | "users" | "roles">,
  options: Pick<AuditOptions, "fix">,
  cache: ProtectionFactsCache,
  naming: Set<string> = new Set(),
): Promise<BranchAudit> {
  const base = { branch, environment, mode: protection.mode };
  if (protection.mode === "off") {
    const { result } = compareProtection(emptyEffective(), protection, { ...ctxBase });
    return { ...base, status: "off", result, drift: [] };
  }
  const fixing = shouldFix(options.fix, protection.mode);
  // Compare in enforce mode when fixing, to get the fix payload; the verdict is the same.
  const required: ProtectionPolicy = fixing ? { ...protection, mode: "enforce" } : protection;
  try {
    const facts = await fetchBranchProtectionFacts(gh, repo, branch, { cache });
    for (const note of facts.names.notes) naming.add(note);
    const ctx = contextFor(ctxBase, facts);
    const first = compareProtection(effectiveOf(facts), required, ctx);
    if (!fixing || first.drift.length === 0) {
      return { ...base, status: statusOf(first.result), result: first.result, drift: first.drift };
    }
    const before = first.drift.map(({ setting, expected, actual }) => ({ setting, expected, actual }));
    if (!first.fixPayload) {
      return {
        ...base,
        status: "drift",
        result: first.result,
        drift: first.drift,
        fix: { before, fixed: false, error: first.result.fix.at(-1) ?? "no fix available" },
      };
    }
    let fixError: string | undefined;
    try {
      await applyBranchProtectionFix(gh, repo, branch, first.fixPayload);
    } catch (error) {
      fixError = errorMessage(error);
    }
    const again = await fetchBranchProtectionFacts(gh, repo, branch, { cache });
    const after = compareProtection(effectiveOf(again), protection, contextFor(ctxBase, again));
    const fix: FixOutcome = { before, fixed: after.drift.length === 0 };
    if (fixError !== undefined) fix.error = fixError;
    return { ...base, status: statusOf(after.result), result: after.result, drift: after.drift, fix };
  } catch (error) {
    return {
      ...base,
      status: "error",
      result: errorResult("protection", "Branch protection", error),
      drift: [],
    };
  }
}

async function auditRecordRefs(
  gh: GitHub,
  repo: RepoRef,
  policy: Policy,
  refs: ReturnType<typeof recordRefs>,
  branches: BranchListing,
  ctxBase: Omit<ProtectionContext, "org" | "teams" | "users" | "roles">,
  options: AuditOptions,
  cache: ProtectionFactsCache,
  naming: Set<string>,
): Promise<ApprovedRefAudit[]> {
  const check = async (ref: string): Promise<{ facts: BranchProtectionFacts; ctx: ApprovedRefContext }> => {
    // Without a full listing, whether the ref exists is unknown: ask for classic protection anyway.
    const exists = branches.names.includes(ref) ? true : branches.complete ? false : undefined;
    const facts = await fetchBranchProtectionFacts(gh, repo, ref, { cache, branchExists: exists });
    for (const note of facts.names.notes) naming.add(note);
    return { facts, ctx: { ...contextFor(ctxBase, facts), recordRefPrefix: policy.recordRefPrefix } };
  };

  const first = await Promise.all(
    refs.map(async ({ ref, environment, mode }) => {
      try {
        const { facts, ctx } = await check(ref);
        const result = checkApprovedRefProtection(effectiveOf(facts), ctx);
        return { ref, environment, mode, check: result, error: undefined };
      } catch (error) {
        return { ref, environment, mode, check: undefined, error };
      }
    }),
  );

  // One ruleset covers every record ref, so it is created once for all refs being fixed.
  const toFix = first.filter(
    (r) =>
      r.check &&
      shouldFix(options.fix, r.mode) &&
      r.check.fixPayload &&
      // Adding a ruleset restricts the refs; it cannot unblock the app from someone else's rules.
      r.check.drift.some((d) => d.setting !== "app_can_publish"),
  );
  let fixError: string | undefined;
  const payload = toFix[0]?.check?.fixPayload;
  if (payload) {
    try {
      await applyApprovedRefRuleset(gh, repo, payload);
    } catch (error) {
      fixError = errorMessage(error);
    }
    cache.forgetRepository(repo);
  }

  return Promise.all(
    first.map(async (r): Promise<ApprovedRefAudit> => {
      const base = { ref: r.ref, environment: r.environment };
      if (!r.check) {
        return {
          ...base,
          status: "error",
          result: errorResult("approved-ref-protection", "Record ref protection", r.error),
          drift: [],
        };
      }
      if (!toFix.includes(r)) {
        const fix: FixOutcome | undefined =
          shouldFix(options.fix, r.mode) && r.check.drift.length > 0
            ? {
                before: strip(r.check.drift),
                fixed: false,
                error: "pullgate cannot fix this automatically (another rule blocks the app)",
              }
            : undefined;
        return {
          ...base,
          status: statusOf(r.check.result),
          result: r.check.result,
          drift: r.check.drift,
          ...(fix ? { fix } : {}),
        };
      }
      try {
        const { facts, ctx } = await check(r.ref);
        const after = checkApprovedRefProtection(effectiveOf(facts), ctx);
        const fix: FixOutcome = { before: strip(r.check.drift), fixed: after.drift.length === 0 };
        if (fixError !== undefined) fix.error = fixError;
        return { ...base, status: statusOf(after.result), result: after.result, drift: after.drift, fix };
      } catch (error) {
        return {
          ...base,
          status: "error",
          result: errorResult("approved-ref-protection", "Record ref protection", error),
          drift: [],
        };
      }
    }),
  );
}

function strip(drift: { setting: string; expected: string; actual: string }[]): FixOutcome["before"] {
  return drift.map(({ setting, expected, actual }) => ({ setting, expected, actual }));
}

function effectiveOf(facts: BranchProtectionFacts): EffectiveProtection {
  const effective = effectiveProtection(facts.classic, facts.rules, facts.rulesets);
  return { ...effective, notes: [...effective.notes, ...facts.notes] };
}

function contextFor(
  base: Omit<ProtectionContext, "org" | "teams" | "users" | "roles">,
  facts: BranchProtectionFacts,
): ProtectionContext {
  const ctx: ProtectionContext = {
    ...base,
    teams: facts.names.teams,
    users: facts.names.users,
    roles: facts.names.roles,
  };
  if (facts.names.org !== undefined) ctx.org = facts.names.org;
  return ctx;
}

function statusOf(result: RuleResult): AuditStatus {
  return result.status === "pass" ? "ok" : result.status === "fail" ? "drift" : "error";
}

function errorResult(id: string, title: string, error: unknown): RuleResult {
  const reason = errorMessage(error);
  return {
    id,
    title,
    status: "error",
    summary: `Could not check: ${reason}`,
    satisfied: [],
    missing: [{ kind: "facts", reason }],
    fix: [],
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readDefaultBranch(gh: GitHub, repo: RepoRef): Promise<string> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}", { ...repo });
    return data.default_branch;
  } catch (error) {
    throw factsError(error, `repository ${repo.owner}/${repo.repo}`, '"Metadata: read" repository');
  }
}

/** The branch's head commit SHA, or null when the branch does not exist (an empty repository). */
async function readBranchHead(gh: GitHub, repo: RepoRef, branch: string): Promise<string | null> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/branches/{branch}", { ...repo, branch });
    return data.commit.sha;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw factsError(error, `branch ${branch} of ${repo.owner}/${repo.repo}`, '"Contents: read" repository');
  }
}

/**
 * The branch names the policy could govern. With glob patterns the repository's branches are
 * listed (paginated); otherwise only the literal names are asked about, one request each, and the
 * default branch is already known to exist.
 */
async function existingBranches(
  gh: GitHub,
  repo: RepoRef,
  policy: Policy,
  defaultBranch: string,
): Promise<BranchListing> {
  if (hasGlobBranches(policy)) {
    try {
      const list = await gh.paginate("GET /repos/{owner}/{repo}/branches", { ...repo, per_page: 100 });
      return { names: list.map((b) => b.name), complete: true };
    } catch (error) {
      throw factsError(error, `the branches of ${repo.owner}/${repo.repo}`, '"Contents: read" repository');
    }
  }
  const names = literalBranches(policy);
  const exists = await Promise.all(
    names.map(async (b) => b === defaultBranch || (await readBranchHead(gh, repo, b)) !== null),
  );
  return { names: names.filter((_, i) => exists[i]), complete: false };
}

/** Branch names known to exist; `complete` when they are every branch of the repository. */
interface BranchListing {
  names: string[];
  complete: boolean;
}

/** Effective protection with nothing in it (for mode "off", which does not look). */
function emptyEffective(): EffectiveProtection {
  return effectiveProtection(null, [], []);
}
