/**
 * The three owner forms GitHub accepts in CODEOWNERS: `@login`, `@org/team-slug` and an email
 * address. Anything else is an "Invalid owner". Whether the owner exists and has write access
 * ("Unknown owner") needs the API and is decided by the caller, not here.
 */

export type OwnerKind = "user" | "team" | "email";

// Logins: alphanumerics, hyphens and (Enterprise Managed Users) underscores; never a leading hyphen.
const LOGIN = "[A-Za-z0-9][A-Za-z0-9_-]*";
// Team slugs are derived from team names: lowercase in practice, but GitHub compares case-insensitively.
const TEAM_SLUG = "[A-Za-z0-9_][A-Za-z0-9_.-]*";
const USER_RE = new RegExp(`^@${LOGIN}$`);
const TEAM_RE = new RegExp(`^@${LOGIN}/${TEAM_SLUG}$`);
// Deliberately plain: one "@", a non-empty local part without spaces, a dotted domain.
const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** The kind of owner a token names, or null if it is not a valid owner. */
export function classifyOwner(token: string): OwnerKind | null {
  if (token.startsWith("@")) {
    if (USER_RE.test(token)) return "user";
    if (TEAM_RE.test(token)) return "team";
    return null;
  }
  return EMAIL_RE.test(token) ? "email" : null;
}

/** Why a token is not an owner, for the error message. */
export function explainInvalidOwner(token: string): string {
  if (token.startsWith("@")) {
    return `"${token}" is not a valid @username or @org/team-name`;
  }
  if (token.includes("@")) return `"${token}" is not a valid email address`;
  return `"${token}" is not an owner: use @username, @org/team-name or an email address`;
}
