import type { GitHub, RepoRef } from "../octokit.js";
import { syncDriftIssue, type SyncResult } from "./alert-issue.js";
import { auditRepository, type AuditOptions, type RepositoryAudit } from "./audit.js";

/**
 * What the app's event handlers run for one repository (installation, repository created,
 * branch_protection_rule, repository_ruleset, policy changed): audit it, fixing per the policy's
 * mode, then bring its drift issue up to date. The issue is written as the app, so only issues
 * authored by `<appSlug>[bot]` are reused or closed.
 */
export async function auditAndAlert(
  gh: GitHub,
  repo: RepoRef,
  options: AuditOptions,
): Promise<{ audit: RepositoryAudit; issue: SyncResult | { action: "failed"; error: string } }> {
  const audit = await auditRepository(gh, repo, options);
  try {
    const issue = await syncDriftIssue(gh, repo, audit, { author: `${options.appSlug}[bot]` });
    return { audit, issue };
  } catch (error) {
    return {
      audit,
      issue: { action: "failed", error: error instanceof Error ? error.message : String(error) },
    };
  }
}
