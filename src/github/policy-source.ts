import { policyDigest } from "../core/policy/digest.js";
import { effectivePolicy } from "../core/policy/effective.js";
import { POLICY_PATH } from "../core/policy/parse.js";
import type { Policy, PolicyError } from "../core/policy/types.js";
import { githubFileSource } from "./file-source.js";
import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";

/** The org-wide policy lives at the same path in the owner's `.github` repository. */
export const ORG_POLICY_REPO = ".github";

export interface EffectivePolicy {
  policy: Policy;
  digest: string;
  /** Which files made it, for the check summary. */
  sources: string[];
  notes: string[];
}

function describe(errors: PolicyError[]): string {
  const shown = errors.slice(0, 10).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`);
  return shown.join("; ") + (errors.length > 10 ? `; and ${errors.length - 10} more` : "");
}

/** The org policy at the head of the `.github` repo's default branch, or null when there is none. */
async function readOrgPolicy(gh: GitHub, owner: string): Promise<{ file: string; text: string } | null> {
  try {
    const { data } = await gh.rest.repos.getContent({ owner, repo: ORG_POLICY_REPO, path: POLICY_PATH });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) {
      throw new FactsError(`${owner}/${ORG_POLICY_REPO}:${POLICY_PATH} is not a file`);
    }
    return {
      file: `${owner}/${ORG_POLICY_REPO}:${POLICY_PATH}`,
      text: Buffer.from(data.content, "base64").toString("utf8"),
    };
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    if (error instanceof FactsError) throw error;
    throw new FactsError(
      `cannot read the org policy ${owner}/${ORG_POLICY_REPO}:${POLICY_PATH}: ${(error as Error).message}`,
    );
  }
}

/**
 * The policy that governs a PR: the repo's `.github/pullgate.yml` at the BASE commit (never the
 * head: a PR cannot loosen its own policy), merged over the org policy, where the repo may only
 * tighten. No policy anywhere = not governed (null). A broken or loosening policy is an error:
 * every PR fails closed until it is fixed, with file, line and column in the reason.
 */
export async function loadEffectivePolicy(
  gh: GitHub,
  repo: RepoRef,
  baseSha: string,
): Promise<EffectivePolicy | null> {
  const base = githubFileSource(gh, repo, baseSha);
  const isOrgRepo = repo.repo === ORG_POLICY_REPO;
  const [repoText, org] = await Promise.all([
    base.readFile(POLICY_PATH),
    isOrgRepo ? Promise.resolve(null) : readOrgPolicy(gh, repo.owner),
  ]);
  const repoSource = repoText === null ? null : { file: `${base.label}:${POLICY_PATH}`, text: repoText };
  if (!repoSource && !org) return null;
  const result = effectivePolicy(org, repoSource);
  if (!result.policy) {
    throw new FactsError(
      `the pullgate policy is invalid or loosens the org policy: ${describe(result.errors)}`,
      {
        // The policy is read from the base, so this PR cannot repair it for itself.
        fix: `Fix the policy at the places named above on the base branch (an admin's change, checked with \`pullgate policy lint\`); until then no pull request into it can pass.`,
      },
    );
  }
  const sources = [org?.file, repoSource?.file].filter((f): f is string => f !== undefined);
  return { policy: result.policy, digest: policyDigest(result.policy), sources, notes: [] };
}
