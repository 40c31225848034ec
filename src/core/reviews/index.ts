/** Public API of the review evaluation (pure: plain data in, rule results out). */
export { evaluateReviews } from "./evaluate.js";
export type { EvaluateReviewsInput } from "./evaluate.js";
export { countingApprovers, hasWriteAccess, permissionOf } from "./approvers.js";
export type { Approval, ApproverSet, ChangeRequest, IgnoredApproval } from "./approvers.js";
export { latestOpinions } from "./opinions.js";
export type { Opinion } from "./opinions.js";
export { matchesPattern, PatternError } from "./pattern.js";
export type { PatternMatcher } from "./pattern.js";
export {
  TeamDirectory,
  formatPrincipal,
  isResolvable,
  normalizeLogin,
  parsePrincipal,
  principalIncludes,
  sameLogin,
} from "./principals.js";
export type { ParsedPrincipal } from "./principals.js";
export { approvalsRule, APPROVALS_RULE_ID } from "./rules/approvals.js";
export { codeownersRule, CODEOWNERS_RULE_ID } from "./rules/codeowners.js";
export { pathRuleResult, pathRuleId } from "./rules/path-rules.js";
export { sensitivePathsRule, SENSITIVE_PATHS_RULE_ID } from "./rules/sensitive-paths.js";
export { applyLastPushRule, LAST_PUSH_RULE_ID } from "./rules/last-push.js";
