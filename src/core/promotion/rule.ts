/**
 * The promotion rule in the verdict's shape (src/core/verdict/types.ts), and the record mark a
 * passing promotion gives the landing's record (src/record's `promotedFrom`): the gate wiring
 * calls judgePromotion, puts `result` among the rules, and hands `promotedFrom` to the publisher.
 */
import type { RuleResult } from "../verdict/types.js";
import { formatDuration, type PromotionJudgement } from "./judge.js";

export const PROMOTION_RULE_ID = "promotion";

export interface PromotionRule {
  result: RuleResult;
  /** The staging record the landing's record names; null when nothing was promoted or it failed. */
  promotedFrom: { environment: string; sequence: number; recordCommit: string } | null;
}

export function promotionRule(judgement: PromotionJudgement, from: string, minAgeMs: number): PromotionRule {
  const title = `Promotion from ${from}`;
  if (judgement.ok) {
    return {
      result: {
        id: PROMOTION_RULE_ID,
        title,
        status: "pass",
        summary: judgement.text,
        satisfied: judgement.promoted
          ? [`${from} record #${judgement.matched.sequence} ${judgement.matched.recordCommit}`]
          : [],
        missing: [],
        fix: [],
      },
      promotedFrom: judgement.promoted
        ? {
            environment: from,
            sequence: judgement.matched.sequence,
            recordCommit: judgement.matched.recordCommit,
          }
        : null,
    };
  }
  const invalid = judgement.reasons.some(
    (r) => r.kind === "invalid-input" || r.kind === "directory-not-read",
  );
  const tooYoung = judgement.reasons.find((r) => r.kind === "too-young");
  const fix =
    tooYoung !== undefined && tooYoung.kind === "too-young" && Number.isFinite(tooYoung.shortByMs)
      ? [
          `Wait ${formatDuration(tooYoung.shortByMs)} and re-run the check: ${from} must have run this tree for at least ${formatDuration(minAgeMs)}.`,
        ]
      : [
          `Promote a tree that ${from} has recorded at least ${formatDuration(minAgeMs)} ago: land the change on ${from} first, then bring exactly that tree here.`,
        ];
  return {
    result: {
      id: PROMOTION_RULE_ID,
      title,
      // Facts that could not be read are an error, never a plain "no match".
      status: invalid ? "error" : "fail",
      summary: judgement.text,
      satisfied: [],
      missing: invalid ? [{ kind: "facts", reason: judgement.text }] : [],
      fix: invalid ? ["Re-run the pullgate check; if it keeps failing, see the app's logs."] : fix,
    },
    promotedFrom: null,
  };
}
