import type { SignaturePolicy } from "../policy/types.js";
import type { Missing, RuleResult } from "../verdict/types.js";
import type { SignatureVerdict } from "./types.js";

/**
 * The "signatures" rule: applies a branch's SignaturePolicy to the verdicts of the commits
 * pushed to a PR.
 * - required: every commit needs a verified signature by a key of the base branch's keyring;
 * - requireSignerMatchesAuthor: one of the signer's identities (OpenPGP user ID emails, SSH
 *   principals) must equal the author email, case-insensitively; a wildcard SSH principal
 *   ("*@example.com") is not an identity;
 * - scopes: a signer named in one or more scopes (OpenPGP primary fingerprint, SSH principal or
 *   SSH key fingerprint) may only sign commits whose changed paths all match one of those scopes'
 *   patterns; signers no scope names are not restricted. Unknown changed paths fail closed;
 * - trustWebFlow: a merge commit GitHub itself made inside the PR ("Update branch") passes when
 *   its signature verified; the caller establishes isWebFlowMerge and verifies such commits with
 *   GitHub's web-flow key. Without trustWebFlow it is judged like any other commit.
 */

export interface CommitSignatureFacts {
  sha: string;
  verdict: SignatureVerdict;
  authorEmail: string;
  changedPaths?: string[];
  isWebFlowMerge?: boolean;
}

export type PatternMatcher = (pattern: string, path: string) => boolean;

const short = (sha: string) => sha.slice(0, 7);

/** Identifiers a scope may name this signer by. */
function signerIds(verdict: SignatureVerdict): string[] {
  const ids: string[] = [];
  if (verdict.keyFingerprint !== null)
    ids.push(verdict.format === "openpgp" ? verdict.keyFingerprint.toUpperCase() : verdict.keyFingerprint);
  if (verdict.format === "ssh" && verdict.signer !== null) {
    const cut = verdict.signer.lastIndexOf(" (");
    ids.push(cut === -1 ? verdict.signer : verdict.signer.slice(0, cut));
  }
  return ids;
}

function identities(verdict: SignatureVerdict): string[] {
  const all = verdict.signerEmails ?? (verdict.signerEmail === null ? [] : [verdict.signerEmail]);
  return all.filter((e) => !/[*?!,]/.test(e)).map((e) => e.toLowerCase());
}

export function evaluateSignatures(
  policy: SignaturePolicy,
  commits: CommitSignatureFacts[],
  matchesPattern: PatternMatcher,
): RuleResult {
  const title = "Signed commits";
  if (!policy.required) {
    return {
      id: "signatures",
      title,
      status: "pass",
      summary: "Signatures are not required on this branch",
      satisfied: commits
        .filter((c) => c.verdict.verified)
        .map((c) => `${short(c.sha)} signed by ${c.verdict.signer ?? "?"}`),
      missing: [],
      fix: [],
    };
  }
  if (commits.length === 0) {
    return {
      id: "signatures",
      title,
      status: "error",
      summary: "No commits to check",
      satisfied: [],
      missing: [{ kind: "facts", reason: "the pull request's commit list is empty" }],
      fix: ["Re-run the check; if it persists, the pull request's commits could not be listed."],
    };
  }
  const keyrings = [
    ...policy.openpgpKeyrings,
    ...(policy.sshAllowedSigners === null ? [] : [policy.sshAllowedSigners]),
  ];
  const where = keyrings.length === 0 ? "the repository keyring (none is configured)" : keyrings.join(", ");
  const satisfied: string[] = [];
  const missing: Missing[] = [];
  const fix: string[] = [];
  const refuse = (c: CommitSignatureFacts, reason: string, remedy: string) => {
    missing.push({ kind: "signature", commit: c.sha, reason, signer: c.verdict.signer });
    fix.push(remedy);
  };

  for (const c of commits) {
    const v = c.verdict;
    if (v.commit.toLowerCase() !== c.sha.toLowerCase()) {
      refuse(
        c,
        `verdict is for commit ${short(v.commit)}, not ${short(c.sha)}`,
        `Re-run the check for commit ${short(c.sha)}.`,
      );
      continue;
    }
    if (c.isWebFlowMerge === true && policy.trustWebFlow) {
      if (v.verified) satisfied.push(`${short(c.sha)} merge made by GitHub (web-flow)`);
      else
        refuse(
          c,
          `GitHub merge commit without a valid web-flow signature: ${v.reason}`,
          `Re-create merge commit ${short(c.sha)} with GitHub's "Update branch" or sign it yourself: git commit --amend --no-edit -S.`,
        );
      continue;
    }
    if (!v.verified) {
      refuse(
        c,
        v.reason,
        `Sign commit ${short(c.sha)} with a key listed in ${where}: git commit --amend --no-edit -S (older commits: git rebase --exec "git commit --amend --no-edit -S" <base>), then force-push.`,
      );
      continue;
    }
    if (policy.requireSignerMatchesAuthor) {
      const ids = identities(v);
      if (!ids.includes(c.authorEmail.toLowerCase())) {
        refuse(
          c,
          `signed by ${v.signer ?? "?"}, whose identity (${ids.join(", ") || "none"}) is not the author email ${c.authorEmail}`,
          `Commit ${short(c.sha)} is authored by ${c.authorEmail}: sign it with a key whose identity is that email, or author it as the key's identity (git commit --amend --no-edit --reset-author -S).`,
        );
        continue;
      }
    }
    const ids = signerIds(v);
    const scopes = policy.scopes.filter((s) =>
      s.signers.some((signer) => ids.includes(signer) || ids.includes(signer.toUpperCase())),
    );
    if (scopes.length > 0) {
      if (c.changedPaths === undefined) {
        refuse(
          c,
          `signer ${v.signer ?? "?"} is limited to certain paths, and the paths commit ${short(c.sha)} changes are unknown`,
          `Re-run the check; the commit's changed files could not be listed.`,
        );
        continue;
      }
      const patterns = scopes.flatMap((s) => s.paths);
      const outside = c.changedPaths.filter((p) => !patterns.some((pattern) => matchesPattern(pattern, p)));
      if (outside.length > 0) {
        refuse(
          c,
          `signer ${v.signer ?? "?"} may only change ${patterns.join(", ")}; commit changes ${outside.join(", ")}`,
          `Commit ${short(c.sha)} changes ${outside.join(", ")}, outside what ${v.signer ?? "its signer"} may sign: have a signer allowed for those paths sign it (git commit --amend --no-edit -S), or move those changes to another pull request.`,
        );
        continue;
      }
    }
    satisfied.push(`${short(c.sha)} signed by ${v.signer ?? "?"}`);
  }
  const failed = missing.length;
  return {
    id: "signatures",
    title,
    status: failed === 0 ? "pass" : "fail",
    summary:
      failed === 0
        ? `All ${commits.length} commits are signed by trusted keys`
        : `${failed} of ${commits.length} commits lack a valid signature by a trusted key`,
    satisfied,
    missing,
    fix,
  };
}
