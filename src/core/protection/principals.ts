import type { Principal } from "../policy/types.js";
import type { BypassActor } from "./types.js";

/**
 * What the core knows about the app and the names behind GitHub's numeric ids. Rulesets name
 * bypass actors by id only; the adapter resolves the ids it can (teams, users, custom roles) so
 * reports and `allowedBypass` can speak in principals.
 */
export interface ProtectionContext {
  /** pullgate's GitHub App id: its check must be pinned to it, and it may always bypass. */
  appId: number;
  appSlug: string;
  /** The name of pullgate's check run ("pullgate"). */
  checkName: string;
  /** Organization login, to name classic teams (which GitHub gives by slug) as "@org/slug". */
  org?: string;
  /** Team id → "@org/slug". */
  teams?: Readonly<Record<number, string>>;
  /** User id → login. */
  users?: Readonly<Record<number, string>>;
  /** Custom repository role id → role name. */
  roles?: Readonly<Record<number, string>>;
}

/** GitHub's fixed ids of the built-in repository roles that can be ruleset bypass actors. */
const BUILT_IN_ROLES: Readonly<Record<number, string>> = { 2: "maintain", 4: "write", 5: "admin" };

/**
 * The principals an actor may be named by in `allowedBypass`, most readable first. Apps are
 * "app:<id>" or "app:<slug>", roles "role:<name>", other people and teams as in CODEOWNERS.
 */
export function principalsOf(actor: BypassActor, ctx: ProtectionContext): Principal[] {
  switch (actor.kind) {
    case "admins":
      return ["role:admin"];
    case "organization-admin":
      return ["role:organization-admin"];
    case "enterprise-owner":
      return ["role:enterprise-owner"];
    case "repository-role": {
      if (actor.roleId === null) return ["role:unknown"];
      const name = BUILT_IN_ROLES[actor.roleId] ?? ctx.roles?.[actor.roleId];
      return name ? [`role:${name}`, `role:${actor.roleId}`] : [`role:${actor.roleId}`];
    }
    case "team": {
      const names: Principal[] = [];
      if (actor.id !== null && ctx.teams?.[actor.id]) names.push(ctx.teams[actor.id] as string);
      if (actor.slug !== null && ctx.org) names.push(`@${ctx.org}/${actor.slug}`);
      if (actor.id !== null) names.push(`team:${actor.id}`);
      if (names.length === 0 && actor.slug !== null) names.push(`team:${actor.slug}`);
      return names.length > 0 ? dedupe(names) : ["team:unknown"];
    }
    case "user": {
      const login = actor.login ?? (actor.id !== null ? ctx.users?.[actor.id] : undefined);
      const names: Principal[] = [];
      if (login) names.push(`@${login}`);
      if (actor.id !== null) names.push(`user:${actor.id}`);
      return names.length > 0 ? names : ["user:unknown"];
    }
    case "app": {
      const slug = actor.slug ?? (actor.id === ctx.appId ? ctx.appSlug : null);
      const names: Principal[] = [];
      if (actor.id !== null) names.push(`app:${actor.id}`);
      if (slug) names.push(`app:${slug}`);
      return names.length > 0 ? names : ["app:unknown"];
    }
    case "deploy-key":
      return ["deploy-keys"];
    case "unknown":
      return [`${actor.actorType}:${actor.id ?? "unknown"}`];
    case "unreadable":
      return ["unreadable-bypass-list"];
  }
}

/** How a report names an actor. */
export function describeActor(actor: BypassActor, ctx: ProtectionContext): string {
  const name = principalsOf(actor, ctx)[0] ?? "unknown";
  const label =
    actor.kind === "admins"
      ? "repository admins and organization owners (enforce_admins off)"
      : actor.kind === "deploy-key"
        ? "deploy keys with write access"
        : actor.kind === "unreadable"
          ? "anyone on an unreadable bypass list"
          : name;
  return actor.mode === "pull_request" ? `${label} (on pull requests)` : label;
}

/** pullgate's own app: the one actor that may always bypass. */
export function isOwnApp(actor: BypassActor, ctx: ProtectionContext): boolean {
  return (
    actor.kind === "app" &&
    (actor.id === ctx.appId || (actor.id === null && actor.slug !== null && actor.slug === ctx.appSlug))
  );
}

/** Admin-class actors: what `enforce_admins` (and "admins included") is about. */
export function isAdminActor(actor: BypassActor): boolean {
  return (
    actor.kind === "admins" ||
    actor.kind === "organization-admin" ||
    actor.kind === "enterprise-owner" ||
    (actor.kind === "repository-role" && actor.roleId === 5)
  );
}

/** Whether the policy lets this actor bypass (principals compare case-insensitively, like logins). */
export function isAllowedBypass(
  actor: BypassActor,
  allowed: readonly Principal[],
  ctx: ProtectionContext,
): boolean {
  if (isOwnApp(actor, ctx)) return true;
  // An unreadable bypass list is never acceptable, whatever the policy lists.
  if (actor.kind === "unreadable") return false;
  const wanted = new Set(allowed.map((p) => p.toLowerCase()));
  return principalsOf(actor, ctx).some((p) => wanted.has(p.toLowerCase()));
}

function dedupe(list: Principal[]): Principal[] {
  return [...new Set(list)];
}
