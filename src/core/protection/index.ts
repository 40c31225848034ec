/** Branch protection core: effective protection from classic + rulesets, compared with the policy. */
export type * from "./github-types.js";
export type * from "./types.js";
export { effectiveProtection, describeSource, allowsDirectPush } from "./effective.js";
export {
  compareProtection,
  type Drift,
  type ProtectionComparison,
  type ProtectionSettingId,
} from "./compare.js";
export {
  CLASSIC_MAX_APPROVALS,
  ProtectionFixError,
  protectionFix,
  protectionFixPayload,
  type ActorNames,
  type ClassicProtectionUpdate,
  type ProtectionFix,
  type ProtectionFixErrorCode,
} from "./fix.js";
export {
  approvedRefProtection,
  checkApprovedRefProtection,
  mergeRecordRuleset,
  type ApprovedRefCheck,
  type ApprovedRefContext,
  type ApprovedRefDrift,
  type ApprovedRefSettingId,
  type RulesetCreateBody,
} from "./approved-ref.js";
export {
  describeActor,
  isAdminActor,
  isAllowedBypass,
  isOwnApp,
  principalsOf,
  type ProtectionContext,
} from "./principals.js";
export {
  judgeRecordRefBase,
  recordRefPullRule,
  type PrefixSource,
  type RecordRefJudgement,
} from "./record-ref-pull.js";
