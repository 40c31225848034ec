import {
  mergeRecordRuleset,
  type ProtectionFix,
  type RulesetCreateBody,
  type RulesetDetail,
} from "../../core/protection/index.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { factsError, ProtectionFactsError } from "./errors.js";

type PutProtectionParams = Parameters<GitHub["rest"]["repos"]["updateBranchProtection"]>[0];
type PutRulesetParams = Parameters<GitHub["rest"]["repos"]["updateRepoRuleset"]>[0];
type PostRulesetParams = Parameters<GitHub["rest"]["repos"]["createRepoRuleset"]>[0];

/**
 * Applies an enforce-mode fix to classic protection: the PUT (which carries over everything that
 * was there, see core/protection/fix.ts) and then required signatures, which GitHub only sets
 * through their own endpoint. Two requests at most.
 */
export async function applyBranchProtectionFix(
  gh: GitHub,
  repo: RepoRef,
  branch: string,
  fix: ProtectionFix,
): Promise<void> {
  try {
    // The core's payload is GitHub's documented PUT body; Octokit's generated type insists on the
    // deprecated `contexts` list, which the body replaces with `checks` (sources included).
    await gh.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo,
      branch,
      ...fix.put,
    } as unknown as PutProtectionParams);
    if (fix.enableRequiredSignatures) {
      await gh.request("POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures", {
        ...repo,
        branch,
      });
    }
  } catch (error) {
    throw writeError(error, `update the branch protection of ${repo.owner}/${repo.repo}:${branch}`);
  }
}

/**
 * Creates the record-ref ruleset, or brings pullgate's own one (found by its name) back to the
 * required shape when it exists but is not doing its job (disabled, evaluate, extra bypass actors),
 * keeping the ref patterns and rules someone added to it (mergeRecordRuleset: never weaker).
 * Rulesets created by people are never edited: adding pullgate's narrows, editing theirs might not.
 */
export async function applyApprovedRefRuleset(
  gh: GitHub,
  repo: RepoRef,
  body: RulesetCreateBody,
): Promise<{ action: "created" | "updated"; id: number }> {
  try {
    const existing = await gh.paginate("GET /repos/{owner}/{repo}/rulesets", {
      ...repo,
      includes_parents: false,
      per_page: 100,
    });
    const own = existing.find((r) => r.name === body.name && r.source_type !== "Organization");
    if (own) {
      const { data: detail } = await gh.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
        ...repo,
        ruleset_id: own.id,
      });
      // Octokit's ruleset type spells rules as a closed union; the core reads the documented shape.
      const current = detail as unknown as RulesetDetail;
      await gh.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
        ...repo,
        ruleset_id: own.id,
        ...mergeRecordRuleset(current, body),
      } as unknown as PutRulesetParams);
      return { action: "updated", id: own.id };
    }
    // Same shape as Octokit's type, which only spells actor_type / rule types as closed unions.
    const { data } = await gh.request("POST /repos/{owner}/{repo}/rulesets", {
      ...repo,
      ...body,
    } as unknown as PostRulesetParams);
    return { action: "created", id: (data as { id: number }).id };
  } catch (error) {
    throw writeError(error, `create the record-ref ruleset in ${repo.owner}/${repo.repo}`);
  }
}

function writeError(error: unknown, what: string): ProtectionFactsError {
  const e = factsError(error, what, '"Administration: write" repository');
  // factsError speaks of reading; say what pullgate was trying to do.
  return new ProtectionFactsError(e.code, e.message.replace(/^cannot read /, "cannot "));
}
