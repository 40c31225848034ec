/**
 * The signer-logins file (`signatures.signer_logins` in the policy, read at the base SHA): which
 * GitHub account each trusted key belongs to. Reviewers are GitHub logins and keys are
 * fingerprints and emails, so without a link the gate cannot tell that the approver of a PR is
 * the person who signed its commits (docs/policy.md, "Who signed: keys are people").
 *
 *   # login   identities (OpenPGP fingerprints, SSH key fingerprints, emails)
 *   @alice    alice@example.org  SHA256:3q2+7w...
 *   bob       0123456789ABCDEF0123456789ABCDEF01234567
 *
 * - one person per line: a GitHub login (a leading `@` is optional) then one or more identities,
 *   separated by spaces or tabs; a login may have several lines;
 * - an identity is an OpenPGP primary key fingerprint (40 or 64 hex digits, any case), an SSH key
 *   fingerprint as ssh-keygen prints it (`SHA256:` + 43 base64 characters), or an email address
 *   (the key's user ID email / allowed_signers principal);
 * - a line whose first non-blank character is `#` is a comment; blank lines are ignored.
 *
 * Fail closed: unlike allowed_signers (where OpenSSH skips a bad line), any bad line, and an
 * identity given to two different logins, is an error, and the caller refuses to use the file:
 * skipping a line could drop the one link that makes a signer's approval a self-approval.
 */

export type SignerIdentityKind = "openpgp" | "ssh" | "email";

export interface SignerLoginEntry {
  line: number;
  /** Lower-cased GitHub login, without `@`. */
  login: string;
  /** Canonical identities: OpenPGP fingerprints upper-cased, emails lower-cased, SSH fingerprints as written. */
  identities: string[];
}

export interface SignerLoginsFile {
  entries: SignerLoginEntry[];
  /** Canonical identity -> lower-cased login (only when the file has no errors is it complete). */
  byIdentity: Map<string, string>;
  errors: Array<{ line: number; message: string }>;
}

// GitHub logins: alphanumerics and single hyphens, at most 39 characters.
const LOGIN = /^@?([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})$/;
const OPENPGP_FINGERPRINT = /^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/;
// ssh-keygen -l prints SHA256:<base64 without padding> (32 bytes -> 43 characters).
const SSH_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
// No wildcard or list characters: a pattern ("*@example.org") is not one person's identity.
const EMAIL = /^[^\s@*?!,#]+@[^\s@*?!,#]+$/;

/** The canonical form of an identity, or null when it is none of the three kinds. */
export function canonicalIdentity(text: string): { kind: SignerIdentityKind; id: string } | null {
  if (OPENPGP_FINGERPRINT.test(text)) return { kind: "openpgp", id: text.toUpperCase() };
  if (SSH_FINGERPRINT.test(text)) return { kind: "ssh", id: text };
  if (EMAIL.test(text)) return { kind: "email", id: text.toLowerCase() };
  return null;
}

export function parseSignerLogins(text: string): SignerLoginsFile {
  const entries: SignerLoginEntry[] = [];
  const errors: SignerLoginsFile["errors"] = [];
  const byIdentity = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const body = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const trimmed = body.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const fields = trimmed.split(/[ \t]+/);
    const [first, ...rest] = fields;
    const login = LOGIN.exec(first ?? "")?.[1];
    if (login === undefined) {
      errors.push({ line, message: `\`${first ?? ""}\` is not a GitHub login` });
      continue;
    }
    if (rest.length === 0) {
      errors.push({ line, message: `@${login} has no identity (key fingerprint or email)` });
      continue;
    }
    const identities: string[] = [];
    let bad = false;
    for (const field of rest) {
      const identity = canonicalIdentity(field);
      if (identity === null) {
        errors.push({
          line,
          message: `\`${field}\` is not an OpenPGP fingerprint (40 or 64 hex digits), an SSH fingerprint (SHA256:...) or an email address`,
        });
        bad = true;
        continue;
      }
      identities.push(identity.id);
    }
    if (bad) continue;
    const user = login.toLowerCase();
    for (const id of identities) {
      const owner = byIdentity.get(id);
      if (owner !== undefined && owner !== user) {
        errors.push({
          line,
          message: `${id} is already the identity of @${owner} (line ${firstLine.get(id) ?? "?"}); a key belongs to one person`,
        });
        bad = true;
        continue;
      }
      if (owner === undefined) {
        byIdentity.set(id, user);
        firstLine.set(id, line);
      }
    }
    if (bad) continue;
    entries.push({ line, login: user, identities: [...new Set(identities)] });
  }
  return { entries, byIdentity, errors };
}
