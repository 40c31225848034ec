/** Break-glass: the emergency path (docs/policy.md, "Break-glass"). */
export {
  applyBreakGlass,
  BREAK_GLASS_RULE_ID,
  DEFAULT_BREAK_GLASS_LABEL,
  judgeBreakGlass,
  MIN_BREAK_GLASS_APPROVALS,
  type BreakGlassApproval,
  type BreakGlassIgnoredWhy,
  type BreakGlassInput,
  type BreakGlassJudgement,
  type BreakGlassOutcome,
  type BreakGlassRefusal,
} from "./judge.js";
