import { combineVerdict, factsError } from "../core/verdict/combine.js";
import type { Verdict } from "../core/verdict/types.js";

/** The fail-closed verdict: the facts could not be gathered, so nothing passes. */
export function errorVerdict(headSha: string, reason: string): Verdict {
  return combineVerdict(headSha, "unknown", [factsError(reason)]);
}
