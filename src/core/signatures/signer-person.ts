/**
 * Who a signing key belongs to: a GitHub login, so the review rules can tell that an approver
 * signed a commit of the PR (docs/policy.md, "Who signed: keys are people"). A key is linked to
 * logins through
 * - the signer-logins file (signer-logins.ts), by its fingerprint or one of its emails; and
 * - GitHub's account of an email: the `author.login` / `committer.login` GitHub reports for the
 *   PR's commits say which account owns that (verified) email address. That is all it is used
 *   for: it says nothing about who made a commit (anyone can write any email in a commit), only
 *   whose address a key's identity is.
 * Every link counts: a key linked to two logins is ambiguous and fails closed, so neither a
 * signer-logins line nor a GitHub email can re-assign a key to someone else.
 */
import type { SignerLoginsFile } from "./signer-logins.js";
import type { SignatureVerdict } from "./types.js";

/** Identity facts GitHub gives about one commit of the PR (never proof of who made it). */
export interface CommitPeople {
  authorEmail: string;
  authorLogin: string | null;
  committerEmail: string;
  committerLogin: string | null;
}

/** Lower-cased email -> lower-cased logins GitHub attributes it to (several = inconsistent facts). */
export type EmailLogins = ReadonlyMap<string, ReadonlySet<string>>;

export function emailLoginsOf(commits: readonly CommitPeople[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (email: string, login: string | null) => {
    if (login === null || login.trim() === "" || email.trim() === "") return;
    const key = email.toLowerCase();
    const set = out.get(key) ?? new Set<string>();
    set.add(login.toLowerCase());
    out.set(key, set);
  };
  for (const c of commits) {
    add(c.authorEmail, c.authorLogin);
    add(c.committerEmail, c.committerLogin);
  }
  return out;
}

/** The key's emails that can be one person's identity: wildcard SSH principals are not. */
export function signerIdentityEmails(verdict: SignatureVerdict): string[] {
  const all = verdict.signerEmails ?? (verdict.signerEmail === null ? [] : [verdict.signerEmail]);
  return [...new Set(all.filter((e) => !/[*?!,]/.test(e)).map((e) => e.toLowerCase()))];
}

/** The key's fingerprint in the signer-logins file's canonical form. */
export function signerFingerprint(verdict: SignatureVerdict): string | null {
  if (verdict.keyFingerprint === null) return null;
  return verdict.format === "openpgp" ? verdict.keyFingerprint.toUpperCase() : verdict.keyFingerprint;
}

export interface SignerPerson {
  /** Sorted lower-cased logins the key is linked to: one is a person, none unknown, more ambiguous. */
  logins: string[];
  /** How each link was made, for the check text ("SHA256:... -> @bob (signer_logins)"). */
  links: string[];
}

export function signerPerson(
  verdict: SignatureVerdict,
  file: SignerLoginsFile | null,
  emailLogins: EmailLogins,
): SignerPerson {
  const logins = new Set<string>();
  const links: string[] = [];
  const fingerprint = signerFingerprint(verdict);
  const fromFile = (id: string) => {
    const login = file?.byIdentity.get(id);
    if (login === undefined) return;
    logins.add(login);
    links.push(`${id} → @${login} (signer logins file)`);
  };
  if (fingerprint !== null) fromFile(fingerprint);
  for (const email of signerIdentityEmails(verdict)) {
    fromFile(email);
    for (const login of [...(emailLogins.get(email) ?? [])].sort()) {
      logins.add(login);
      links.push(`${email} → @${login} (GitHub account of the email)`);
    }
  }
  return { logins: [...logins].sort(), links };
}

/** "@alice", "@alice or @bob", or "an unknown GitHub account" for the check text. */
export function describePerson(person: SignerPerson): string {
  if (person.logins.length === 0) return "an unknown GitHub account";
  return person.logins.map((l) => `@${l}`).join(" or ");
}
