/**
 * The GitHub side of the facts port (src/core/gate/facts.ts): reads everything the pure gate needs
 * for one PR head, in as few rounds as the facts' dependencies allow, and decides nothing.
 *
 * 1. the PR at exactly the head SHA: files, commits (with their signed payloads) and reviews, the
 *    caps checked before anything is paged (src/github/pull-facts.ts);
 * 2. the policy at the base SHA, then what says whether the base is a record ref;
 * 3. for a governed base only, all at once: CODEOWNERS and the keyring at the base, reviewers'
 *    permissions, the commits' paths (key scopes), the protection audit, the secrets scan of the
 *    changed files at the head (src/github/secret-facts.ts), and the team rosters
 *    (as soon as CODEOWNERS says which teams own the changed files).
 *
 * Throws FactsError when a fact cannot be read; the caller fails closed.
 */
import { compileCodeowners, parseCodeowners } from "../../core/codeowners/index.js";
import type { GovernedFacts, PullFacts } from "../../core/gate/facts.js";
import { governingPolicy, judgeBase, reviewersOf, teamsToResolve } from "../../core/gate/plan.js";
import { readCodeowners, readKeyring } from "../base-config.js";
import { githubFileSource } from "../file-source.js";
import type { GitHub, RepoRef } from "../octokit.js";
import { fetchPermissions, fetchTeamMembers } from "../people.js";
import { auditBranchProtection } from "../protection/audit.js";
import { secretsVerdict } from "../secret-facts.js";
import { fetchPullListing } from "../pull-facts.js";
import { readPolicyOutcome, readRecordRefFacts } from "../record-ref-base.js";
import { fetchCommitPaths } from "../signature-facts.js";

export interface FactsTarget {
  repo: RepoRef;
  number: number;
  headSha: string;
  lastPusher: string | null;
  /**
   * The app whose check must be required: when given, the base branch's effective protection is
   * audited against the policy (unless its mode is off) and drift is a rule of the verdict.
   */
  protection?: { appId: number; appSlug: () => Promise<string> };
}

export async function gatherPullFacts(gh: GitHub, target: FactsTarget): Promise<PullFacts> {
  const { snapshot: pull, counts } = await fetchPullListing(gh, target.repo, target.number, target.headSha);
  const policy = await readPolicyOutcome(gh, target.repo, pull.baseSha);
  const recordRef = await readRecordRefFacts(gh, target.repo, pull, policy);
  const facts: PullFacts = { pull, counts, lastPusher: target.lastPusher, policy, recordRef, governed: null };
  // The same pure steps `decide` takes: nothing more is read for a PR they already settle.
  const judged = judgeBase(pull, recordRef.governing, recordRef.base, policy);
  if (judged.kind !== "not-record-ref") return facts;
  const governing = governingPolicy(pull, policy);
  if (governing.kind !== "governed") return facts;
  return { ...facts, governed: await readGoverned(gh, target, facts, governing) };
}

async function readGoverned(
  gh: GitHub,
  target: FactsTarget,
  facts: PullFacts,
  governing: Extract<ReturnType<typeof governingPolicy>, { kind: "governed" }>,
): Promise<GovernedFacts> {
  const { pull } = facts;
  const { policy, branch } = governing;
  const base = githubFileSource(gh, target.repo, pull.baseSha);
  const codeowners = readCodeowners(base);
  // Teams are known once CODEOWNERS is: their rosters are asked while the rest is still being read.
  const teamMembers = codeowners.then((file) =>
    fetchTeamMembers(
      gh,
      teamsToResolve(
        policy,
        branch,
        file ? compileCodeowners(parseCodeowners(file.text)) : null,
        pull.changedFiles,
      ),
    ),
  );
  const protection = async () => {
    if (!target.protection || branch.protection.mode === "off") return null;
    const audit = await auditBranchProtection(
      gh,
      target.repo,
      pull.baseRef,
      { environment: branch.environment, protection: branch.protection },
      { appId: target.protection.appId, appSlug: await target.protection.appSlug() },
    );
    return audit.result;
  };
  const [codeownersFile, keyring, permissions, members, commitPaths, protectionRule, secrets] =
    await Promise.all([
      codeowners,
      readKeyring(
        base,
        branch.signatures.openpgpKeyrings,
        branch.signatures.sshAllowedSigners,
        branch.signatures.signerLogins,
      ),
      fetchPermissions(gh, target.repo, reviewersOf(pull)),
      teamMembers,
      branch.signatures.scopes.length > 0
        ? fetchCommitPaths(
            gh,
            target.repo,
            pull.commits.map((c) => c.sha),
          )
        : Promise.resolve(null),
      protection(),
      secretsVerdict(gh, target.repo, pull, branch.secrets),
    ]);
  return {
    codeowners: codeownersFile,
    keyring,
    permissions,
    teamMembers: members,
    commitPaths,
    protection: protectionRule,
    secrets,
  };
}
