import { combineVerdict, factsError } from "../verdict/combine.js";
import type { Verdict } from "../verdict/types.js";

/**
 * The fail-closed verdict: the facts could not be gathered, so nothing passes. `fix` replaces the
 * generic "re-run" advice when re-running cannot help (a PR too large for GitHub to list).
 */
export function errorVerdict(headSha: string, reason: string, fix?: string): Verdict {
  const rule = factsError(reason);
  return combineVerdict(headSha, "unknown", [fix === undefined ? rule : { ...rule, fix: [fix] }]);
}
