import type { InstallationRecord, UserRecord } from "../state/types.js";

/** Who a request acts as. */
export type Actor =
  /** A user token, or the admin token (a user with site_admin: true). */
  | { kind: "user"; user: UserRecord }
  /** An installation access token: the app's bot user acting inside one org. */
  | { kind: "installation"; installation: InstallationRecord; bot: UserRecord }
  /** A JWT signed with the app's private key: only /app endpoints. */
  | { kind: "app"; appId: number };

/** The user a webhook's `sender` and created objects are attributed to. */
export function actorUser(actor: Actor, appBot: UserRecord): UserRecord {
  if (actor.kind === "user") return actor.user;
  if (actor.kind === "installation") return actor.bot;
  return appBot;
}
