import { mergePolicies } from "./merge.js";
import { parsePolicy } from "./parse.js";
import type { Policy, PolicyError } from "./types.js";

/** A policy file's text as fetched from a base branch, with a name for error messages. */
export interface PolicySourceText {
  text: string;
  /** e.g. "acme/.github:.github/pullgate.yml" — shown in errors, so make org and repo distinguishable. */
  file: string;
}

export interface EffectivePolicyResult {
  /**
   * The policy to enforce; null with no errors when neither file exists (the repository is not
   * governed), null with errors when any file is broken or the repository loosens the org.
   */
  policy: Policy | null;
  errors: PolicyError[];
}

/**
 * The effective policy of a repository from its own file and its org's (either may be absent,
 * i.e. null). Fail closed: if a file that exists has any error, there is no policy. In particular
 * a broken repository file does not fall back to the org policy alone, and a broken org file
 * does not let the repository file stand alone.
 */
export function effectivePolicy(
  org: PolicySourceText | null,
  repo: PolicySourceText | null,
): EffectivePolicyResult {
  const orgResult = org === null ? null : parsePolicy(org.text, org.file);
  const repoResult = repo === null ? null : parsePolicy(repo.text, repo.file);
  const errors = [...(orgResult?.errors ?? []), ...(repoResult?.errors ?? [])];
  if (errors.length > 0) return { policy: null, errors };
  if (orgResult?.parsed && repoResult?.parsed) return mergePolicies(orgResult.parsed, repoResult.parsed);
  return { policy: orgResult?.policy ?? repoResult?.policy ?? null, errors: [] };
}
