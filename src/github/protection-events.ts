import type { Logger } from "probot";
import { POLICY_PATH } from "../core/policy/parse.js";
import type { GitHub, RepoRef } from "./octokit.js";
import { ORG_POLICY_REPO, loadEffectivePolicy } from "./policy-source.js";
import { auditAndAlert, auditOrganization, syncDriftIssue } from "./protection/index.js";

export interface ProtectionEventDeps {
  appId: number;
  /** The app's slug (its bot is `<slug>[bot]`), looked up once. */
  appSlug: () => Promise<string>;
  log: Logger;
}

/**
 * Re-audits one repository's governed branches and brings its drift issue up to date; in enforce
 * mode the missing settings are applied and re-checked. Runs on repository creation, on every
 * branch protection or ruleset change, and when the policy file changes.
 */
export async function reauditRepository(deps: ProtectionEventDeps, gh: GitHub, repo: RepoRef): Promise<void> {
  const appSlug = await deps.appSlug();
  const { audit, issue } = await auditAndAlert(gh, repo, {
    appId: deps.appId,
    appSlug,
    fix: "policy",
    loadPolicy: loadEffectivePolicy,
  });
  const level = audit.status === "ok" || audit.status === "off" ? "info" : "warn";
  deps.log[level](
    { repo: `${repo.owner}/${repo.repo}`, status: audit.status, issue },
    "branch protection audited",
  );
}

/**
 * Audits every repository of an installation's account (throttled and metered, see
 * docs/audit.md), or only the named repositories when the installation selects some.
 */
export async function auditInstallation(
  deps: ProtectionEventDeps,
  gh: GitHub,
  owner: string,
  repositories: string[] | null,
): Promise<void> {
  if (repositories !== null) {
    for (const name of repositories) await reauditRepository(deps, gh, { owner, repo: name });
    return;
  }
  const appSlug = await deps.appSlug();
  const org = await auditOrganization(gh, owner, {
    appId: deps.appId,
    appSlug,
    fix: "policy",
    loadPolicy: loadEffectivePolicy,
    // Exactly the repositories this installation can see.
    listing: "installation",
    onRepository: async (repo, audit) => {
      await syncDriftIssue(gh, repo, audit, { author: `${appSlug}[bot]` });
    },
  });
  deps.log.info(
    { owner, repositories: org.repositories.length, requests: org.requests },
    "installation audited",
  );
}

/**
 * Does this push call for a protection re-audit? Only pushes to the default branch (the policy the
 * audit reads lives there) that change the policy file, or that create the branch: the first push
 * to a repository created empty, which an org policy governs from that moment without any policy
 * file of its own (its governed branches and record refs must be protected before a record exists).
 */
export function pushCallsForAudit(push: {
  ref: string;
  created?: boolean;
  before?: string;
  defaultBranch: string;
  commits: readonly { added?: string[]; modified?: string[]; removed?: string[] }[];
}): boolean {
  if (push.ref !== `refs/heads/${push.defaultBranch}`) return false;
  const created = push.created === true || (push.before !== undefined && /^0{40}$/.test(push.before));
  return created || pushChangesPolicy(push.commits);
}

/** Did this push change a policy file: the repo's own, or (in the org's `.github` repo) everyone's? */
export function pushChangesPolicy(
  commits: readonly { added?: string[]; modified?: string[]; removed?: string[] }[],
): boolean {
  return commits.some((c) =>
    [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])].includes(POLICY_PATH),
  );
}

export function isOrgPolicyRepo(repo: RepoRef): boolean {
  return repo.repo === ORG_POLICY_REPO;
}
