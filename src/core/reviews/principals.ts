/**
 * Principals name who may approve: "@login", "@org/team-slug" or an email address (the three
 * owner forms CODEOWNERS accepts). GitHub logins, org names and team slugs are case-insensitive,
 * so every comparison here lower-cases both sides: "Alice" and "alice" are one person, and an
 * author cannot dodge the self-approval rule by changing the case of a login.
 */
import type { Principal } from "../policy/types.js";

export type ParsedPrincipal =
  | { kind: "user"; login: string }
  | {
      kind: "team";
      org: string;
      slug: string;
      /** "org/slug", lower-cased: the teamMembers key. */ key: string;
    }
  | { kind: "email"; email: string }
  /** Anything else: never satisfied by anyone (fail closed). */
  | { kind: "invalid"; raw: string };

// GitHub logins: alphanumerics and single hyphens; apps review as "name[bot]".
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?$/;
// Org names follow login rules; team slugs are lower-case alphanumerics, hyphens and underscores.
const TEAM_SLUG = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function parsePrincipal(raw: Principal): ParsedPrincipal {
  const text = raw.trim();
  if (text.startsWith("@")) {
    const body = text.slice(1);
    const slash = body.indexOf("/");
    if (slash === -1) {
      return LOGIN.test(body) ? { kind: "user", login: body } : { kind: "invalid", raw };
    }
    const org = body.slice(0, slash);
    const slug = body.slice(slash + 1);
    if (LOGIN.test(org) && TEAM_SLUG.test(slug)) {
      return { kind: "team", org, slug, key: `${org}/${slug}`.toLowerCase() };
    }
    return { kind: "invalid", raw };
  }
  if (EMAIL.test(text)) return { kind: "email", email: text };
  return { kind: "invalid", raw };
}

/** Case-insensitive login equality (GitHub logins are case-insensitive). */
export function sameLogin(a: string, b: string): boolean {
  return normalizeLogin(a) === normalizeLogin(b);
}

export function normalizeLogin(login: string): string {
  return login.trim().replace(/^@/, "").toLowerCase();
}

/**
 * Team membership, indexed once: keys "org/team-slug" and member logins, all lower-cased. A team
 * that is not in the facts has no members: an unknown team can satisfy nothing.
 */
export class TeamDirectory {
  private readonly members = new Map<string, Set<string>>();

  constructor(teamMembers: Record<string, string[]>) {
    for (const [team, logins] of Object.entries(teamMembers)) {
      const key = team.replace(/^@/, "").toLowerCase();
      const set = this.members.get(key) ?? new Set<string>();
      for (const login of logins) set.add(normalizeLogin(login));
      this.members.set(key, set);
    }
  }

  isMember(teamKey: string, login: string): boolean {
    return this.members.get(teamKey.toLowerCase())?.has(normalizeLogin(login)) ?? false;
  }
}

/**
 * Does this principal include this login? A user principal by login, a team by membership. Email
 * principals are never resolved: GitHub maps them through verified account emails, which the
 * core does not see, so they cannot be satisfied here (callers report that, fail closed).
 */
export function principalIncludes(principal: ParsedPrincipal, login: string, teams: TeamDirectory): boolean {
  switch (principal.kind) {
    case "user":
      return sameLogin(principal.login, login);
    case "team":
      return teams.isMember(principal.key, login);
    case "email":
    case "invalid":
      return false;
  }
}

/** Could anyone at all satisfy this principal? (Used to explain unsatisfiable requirements.) */
export function isResolvable(principal: ParsedPrincipal): boolean {
  return principal.kind === "user" || principal.kind === "team";
}

/** Display form: "@login", "@org/team", the email, or the raw text. */
export function formatPrincipal(principal: ParsedPrincipal): string {
  switch (principal.kind) {
    case "user":
      return `@${principal.login}`;
    case "team":
      return `@${principal.org}/${principal.slug}`;
    case "email":
      return principal.email;
    case "invalid":
      return principal.raw;
  }
}
