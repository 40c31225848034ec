/**
 * The GitHub side of branch protection: reading the facts (classic protection, the rules that
 * apply, ruleset details, names), auditing repositories and organizations against the policy,
 * applying enforce-mode fixes, and keeping one drift issue per repository. The judging itself is
 * the pure core in src/core/protection.
 */
export {
  auditBranchProtection,
  auditRepository,
  type ApprovedRefAudit,
  type AuditOptions,
  type AuditStatus,
  type BranchAudit,
  type FixMode,
  type FixOutcome,
  type LoadedPolicy,
  type LoadPolicy,
  type RepositoryAudit,
} from "./audit.js";
export { auditAndAlert } from "./audit-and-alert.js";
export { auditOrganization, type OrgAudit, type OrgAuditOptions } from "./org-audit.js";
export {
  DRIFT_LABEL,
  DRIFT_TITLE,
  planDriftIssue,
  renderDriftIssueBody,
  syncDriftIssue,
  type ExistingIssue,
  type IssuePlan,
  type SyncResult,
} from "./alert-issue.js";
export {
  fetchBranchProtectionFacts,
  ProtectionFactsCache,
  type BranchProtectionFacts,
  type FetchOptions,
  type ProtectionNames,
} from "./fetch.js";
export { applyApprovedRefRuleset, applyBranchProtectionFix } from "./apply.js";
export { ProtectionFactsError, type ProtectionFactsErrorCode } from "./errors.js";
export { countRequests, type MeterOptions, type RequestMeter } from "./request-meter.js";
export { governedBranches, recordRefs, type GovernedBranch } from "./governed.js";
