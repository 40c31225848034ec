import type { InstallationRecord, PermissionLevel, UserRecord } from "../state/types.js";

/** Who a request acts as. */
export type Actor =
  /** A user token, or the admin token (a user with site_admin: true). */
  | { kind: "user"; user: UserRecord }
  /**
   * An installation access token: the app's bot user acting inside one org, on the installation's
   * repositories (or the subset the token was narrowed to), with the installation's permissions
   * (or the narrower set the token was created with).
   */
  | {
      kind: "installation";
      installation: InstallationRecord;
      bot: UserRecord;
      /** Set when the token was created for some repositories only. */
      repositoryIds?: readonly number[];
      /** Set when the token was created with narrower permissions. */
      permissions?: Readonly<Record<string, PermissionLevel>>;
    }
  /** A JWT signed with the app's private key: only /app endpoints. */
  | { kind: "app"; appId: number };

/** The user a webhook's `sender` and created objects are attributed to. */
export function actorUser(actor: Actor, appBot: UserRecord): UserRecord {
  if (actor.kind === "user") return actor.user;
  if (actor.kind === "installation") return actor.bot;
  return appBot;
}
