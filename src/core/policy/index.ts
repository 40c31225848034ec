/** The policy module's public surface: parse, merge, match, digest. */
export type { BranchPolicy, PathRule, Policy, PolicyError, Principal, ProtectionMode } from "./types.js";
export {
  parsePolicy,
  POLICY_PATH,
  DEFAULT_RECORD_REF_PREFIX,
  type ParsedPolicy,
  type ParseResult,
} from "./parse.js";
export { mergePolicies, type MergeResult } from "./merge.js";
export { branchPolicyFor } from "./match.js";
export { judgeEnvironmentBinding, type EnvironmentBinding } from "./binding.js";
export { canonicalJson, policyDigest } from "./digest.js";
export { BUILTIN_SENSITIVE_PATHS } from "./sensitive.js";
export { policySchema } from "./schema.js";
export { effectivePolicy, type EffectivePolicyResult, type PolicySourceText } from "./effective.js";
export {
  DEFAULT_REFRESH_INTERVAL,
  DEFAULT_REFRESH_INTERVAL_MS,
  parseRefreshInterval,
} from "./refresh-interval.js";
