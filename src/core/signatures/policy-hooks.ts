import type { SignaturePolicy } from "../policy/types.js";
import type { Missing, RuleResult } from "../verdict/types.js";
import type { SignerLoginsFile } from "./signer-logins.js";
import {
  describePerson,
  emailLoginsOf,
  signerIdentityEmails,
  signerPerson,
  type CommitPeople,
  type SignerPerson,
} from "./signer-person.js";
import type { SignatureVerdict } from "./types.js";

/**
 * The "signatures" rule: applies a branch's SignaturePolicy to the verdicts of the commits
 * pushed to a PR.
 * - required: every commit needs a verified signature by a key of the base branch's keyring;
 * - the key is a person (signer-person.ts): it must link to exactly one GitHub login, through
 *   the signer-logins file or GitHub's account of one of its emails, so the review rules can
 *   refuse that person's approval as a self-approval (docs/policy.md, "Who signed"). Unknown or
 *   ambiguous fails closed;
 * - signerIdentity: "author_or_committer" (default) the key's person must be the commit's author
 *   or committer, "author" its author, "any" anyone trusted. A key matches a side when one of its
 *   identities (OpenPGP user ID emails, SSH principals; wildcard principals are no identity)
 *   equals that side's email, or when its login equals the login GitHub gives that email;
 * - scopes: a signer named in one or more scopes (OpenPGP primary fingerprint, SSH principal or
 *   SSH key fingerprint) may only sign commits whose changed paths all match one of those scopes'
 *   patterns; signers no scope names are not restricted. Unknown changed paths fail closed;
 * - trustWebFlow: a merge commit GitHub itself made inside the PR ("Update branch") passes when
 *   its signature verified; the caller establishes isWebFlowMerge and verifies such commits with
 *   GitHub's web-flow key. Without trustWebFlow it is judged like any other commit.
 */

export interface CommitSignatureFacts extends CommitPeople {
  sha: string;
  verdict: SignatureVerdict;
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

/** Is the key's person this side (author or committer) of the commit? */
function isSide(
  verdict: SignatureVerdict,
  person: SignerPerson,
  email: string,
  login: string | null,
): boolean {
  if (email !== "" && signerIdentityEmails(verdict).includes(email.toLowerCase())) return true;
  const only = person.logins.length === 1 ? person.logins[0] : undefined;
  return only !== undefined && login !== null && login.toLowerCase() === only;
}

/** "KEY, key of @bob" for the check text: the key (identity and fingerprint) and the person it maps to. */
function whoSigned(verdict: SignatureVerdict, person: SignerPerson): string {
  return `${verdict.signer ?? verdict.keyFingerprint ?? "?"}, key of ${describePerson(person)}`;
}

/** Commits whose signer is a person of the PR: verified, and not a GitHub merge trusted as such. */
function signedByPerson(policy: SignaturePolicy, c: CommitSignatureFacts): boolean {
  if (!c.verdict.verified || c.verdict.commit.toLowerCase() !== c.sha.toLowerCase()) return false;
  return !(c.isWebFlowMerge === true && policy.trustWebFlow);
}

export interface CommitSigner {
  commit: string;
  /** Lower-cased GitHub login; a commit whose key is ambiguous is listed once per candidate. */
  login: string;
}

/**
 * Who signed the PR's commits, as GitHub logins, for the review rules: an approval by any of them
 * is a self-approval. Ambiguous keys list every candidate (none of them may approve); keys that
 * map to nobody are absent here and fail the signatures rule instead.
 */
export function commitSigners(
  policy: SignaturePolicy,
  commits: readonly CommitSignatureFacts[],
  signerLogins: SignerLoginsFile | null,
): CommitSigner[] {
  const emailLogins = emailLoginsOf(commits);
  const out: CommitSigner[] = [];
  for (const c of commits) {
    if (!signedByPerson(policy, c)) continue;
    for (const login of signerPerson(c.verdict, signerLogins, emailLogins).logins)
      out.push({ commit: c.sha, login });
  }
  return out;
}

export function evaluateSignatures(
  policy: SignaturePolicy,
  commits: CommitSignatureFacts[],
  matchesPattern: PatternMatcher,
  /** The parsed signer-logins file the policy names (null when it names none). */
  signerLogins: SignerLoginsFile | null = null,
): RuleResult {
  const title = "Signed commits";
  const fileProblem = signerLoginsProblem(policy, signerLogins);
  if (fileProblem !== null) return fileProblem;
  const emailLogins = emailLoginsOf(commits);
  if (!policy.required) {
    return {
      id: "signatures",
      title,
      status: "pass",
      summary: "Signatures are not required on this branch",
      satisfied: commits
        .filter((c) => c.verdict.verified)
        .map(
          (c) =>
            `${short(c.sha)} signed by ${whoSigned(c.verdict, signerPerson(c.verdict, signerLogins, emailLogins))}`,
        ),
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
  const mapping =
    policy.signerLogins === null
      ? "add the key's email, verified, to its owner's GitHub account, or link the key to its owner's login in a signer-logins file (signatures.signer_logins)"
      : `link the key to its owner's login in ${policy.signerLogins}, or add the key's email, verified, to its owner's GitHub account`;
  const satisfied: string[] = [];
  const missing: Missing[] = [];
  const fix: string[] = [];
  const refuse = (c: CommitSignatureFacts, reason: string, remedy: string, signer = c.verdict.signer) => {
    missing.push({ kind: "signature", commit: c.sha, reason, signer });
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
    const person = signerPerson(v, signerLogins, emailLogins);
    const signed = whoSigned(v, person);
    if (person.logins.length > 1) {
      refuse(
        c,
        `the signing key is linked to more than one person: ${person.links.join("; ")}`,
        `The key that signed ${short(c.sha)} must belong to one GitHub account: correct ${policy.signerLogins ?? "the keyring"} (or the key's user IDs / principals) so that it names one person.`,
        signed,
      );
      continue;
    }
    const identityProblem = signerIdentityProblem(policy, c, person);
    if (identityProblem !== null) {
      refuse(c, identityProblem.reason, identityProblem.fix, signed);
      continue;
    }
    if (person.logins.length === 0) {
      refuse(
        c,
        `the signing key maps to no GitHub account, so pullgate cannot tell whether its owner also approved`,
        `For the key that signed ${short(c.sha)} (${v.keyFingerprint ?? "?"}): ${mapping}.`,
        signed,
      );
      continue;
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
    satisfied.push(`${short(c.sha)} signed by ${signed}`);
  }
  const failed = missing.length;
  return {
    id: "signatures",
    title,
    status: failed === 0 ? "pass" : "fail",
    summary:
      failed === 0
        ? `All ${commits.length} commits are signed by trusted keys of their ${policy.signerIdentity === "any" ? "signers" : policy.signerIdentity === "author" ? "authors" : "authors or committers"}`
        : `${failed} of ${commits.length} commits lack a valid signature by a trusted key${policy.signerIdentity === "any" ? "" : ` of their ${policy.signerIdentity === "author" ? "author" : "author or committer"}`}`,
    satisfied,
    missing,
    fix,
  };
}

/** The signer-logins file the policy names must have been read, and be free of errors (fail closed). */
function signerLoginsProblem(policy: SignaturePolicy, file: SignerLoginsFile | null): RuleResult | null {
  const path = policy.signerLogins;
  if (path === null) return null;
  const problems =
    file === null
      ? [`the signer-logins file ${path} was not read`]
      : file.errors.map((e) => `${path} line ${e.line}: ${e.message}`);
  if (problems.length === 0) return null;
  return {
    id: "signatures",
    title: "Signed commits",
    status: "error",
    summary: `Cannot tell who signed: the signer-logins file ${path} is unusable`,
    satisfied: [],
    missing: problems.map((reason) => ({ kind: "facts", reason })),
    fix: [
      `Correct ${path} on the base branch (one \`@login identity...\` per line; an identity belongs to one login), then re-run the check.`,
    ],
  };
}

/** Does the key's person stand in the relation to the commit the policy asks for? */
function signerIdentityProblem(
  policy: SignaturePolicy,
  c: CommitSignatureFacts,
  person: SignerPerson,
): { reason: string; fix: string } | null {
  if (policy.signerIdentity === "any") return null;
  const author = isSide(c.verdict, person, c.authorEmail, c.authorLogin);
  if (author) return null;
  if (policy.signerIdentity === "author_or_committer") {
    if (isSide(c.verdict, person, c.committerEmail, c.committerLogin)) return null;
    return {
      reason: `the key's owner (${describePerson(person)}) is neither the author (${c.authorEmail}) nor the committer (${c.committerEmail})`,
      fix: `Commit ${short(c.sha)} must be signed by its author or committer: the author re-signs it with their own key (git commit --amend --no-edit -S), or whoever signs it commits it as themselves (git commit --amend --no-edit --reset-author -S); signatures.signer_identity: any relaxes this.`,
    };
  }
  return {
    reason: `the key's owner (${describePerson(person)}) is not the author (${c.authorEmail})`,
    fix: `Commit ${short(c.sha)} is authored by ${c.authorEmail}: sign it with a key of that person, or author it as the key's owner (git commit --amend --no-edit --reset-author -S).`,
  };
}
