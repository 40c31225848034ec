/**
 * Gathers the current facts for landing-standing.ts: the policy and CODEOWNERS at the base the PR
 * was approved against (immutable, cached per SHA in-process), the PR's changed files, and the
 * mutable facts that can change after the check went green: each reviewer's permission and the
 * members of every team the rules name. Request cost (docs/performance.md): 1 org policy, 1 page of
 * files per 100, 1 permission per reviewer, 1 roster per team (+ the base's policy and CODEOWNERS
 * when this process has not read them yet).
 */
import { compileCodeowners, parseCodeowners } from "../../core/codeowners/index.js";
import type { CodeownersMatcher } from "../../core/codeowners/types.js";
import { branchPolicyFor } from "../../core/policy/match.js";
import { readCodeowners } from "../base-config.js";
import type { Decision } from "../decision.js";
import { githubFileSource } from "../file-source.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { fetchPermissions, fetchTeamMembers } from "../people.js";
import { loadEffectivePolicy } from "../policy-source.js";
import { MAX_PR_FILES } from "../pull-facts.js";
import { landingStanding, teamsToResolve, type Standing } from "./landing-standing.js";

const NO_OWNERS: CodeownersMatcher = { ownersOf: () => ({ owners: [], line: null }) };

export async function recheckLanding(
  gh: GitHub,
  repo: RepoRef,
  pull: { number: number; author: string },
  decision: Decision,
): Promise<Standing> {
  const effective = await loadEffectivePolicy(gh, repo, decision.baseSha);
  const branch = effective ? branchPolicyFor(effective.policy, decision.baseRef) : null;
  if (!effective || !branch)
    return {
      ok: false,
      lostAccess: [],
      lapsed: [
        `no pullgate policy governs ${decision.baseRef} at the base ${decision.baseSha.slice(0, 7)} any more`,
      ],
    };
  const codeownersFile = await readCodeowners(githubFileSource(gh, repo, decision.baseSha));
  const codeowners = codeownersFile ? compileCodeowners(parseCodeowners(codeownersFile.text)) : NO_OWNERS;
  const files = await gh.paginate(gh.rest.pulls.listFiles, {
    ...repo,
    pull_number: pull.number,
    per_page: 100,
  });
  if (files.length >= MAX_PR_FILES)
    return {
      ok: false,
      lostAccess: [],
      lapsed: [
        `pull request #${pull.number} lists ${files.length} files, GitHub's cap: its change cannot be seen whole`,
      ],
    };
  const changed = new Set<string>();
  for (const f of files) {
    changed.add(f.filename);
    if (f.previous_filename) changed.add(f.previous_filename);
  }
  const changedFiles = [...changed].sort();
  const [permissions, teamMembers] = await Promise.all([
    fetchPermissions(
      gh,
      repo,
      decision.reviews.map((r) => r.user),
    ),
    fetchTeamMembers(gh, teamsToResolve(effective.policy, branch, codeowners, changedFiles)),
  ]);
  return landingStanding({
    decision,
    author: pull.author,
    changedFiles,
    policy: effective.policy,
    branch,
    codeowners,
    permissions,
    teamMembers,
  });
}
