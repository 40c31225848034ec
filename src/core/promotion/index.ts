/** Promotion between environments (docs/policy.md, "Promotion"). */
export {
  formatDuration,
  judgePromotion,
  type PromotionCandidate,
  type PromotionInput,
  type PromotionJudgement,
  type PromotionReason,
  type StagingRecord,
} from "./judge.js";
export { PROMOTION_RULE_ID, promotionRule, type PromotionRule } from "./rule.js";
