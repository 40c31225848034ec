import { randomBytes } from "node:crypto";
import type { SandboxCore } from "../core.js";
import { HttpError, badCredentials } from "../http/errors.js";
import type { Actor } from "./actor.js";
import { looksLikeJwt, verifyAppJwt } from "./jwt.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A token in GitHub's format: prefix (`ghp_`, `ghs_`) + 36 random alphanumerics. */
export function newToken(prefix: "ghp" | "ghs" | "gho"): string {
  const bytes = randomBytes(36);
  let body = "";
  for (const b of bytes) body += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${body}`;
}

/** GitHub's answer to anything done with a suspended installation (minting tokens, using them). */
export function installationSuspended(): HttpError {
  return new HttpError(403, "This installation has been suspended", {
    documentationUrl: "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
  });
}

/** The credential in an Authorization header: `token X`, `Bearer X` or Basic with a token password. */
export function credentialFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^(token|bearer)\s+(\S+)$/i.exec(header.trim());
  if (m !== null) return m[2];
  const basic = /^basic\s+(\S+)$/i.exec(header.trim());
  if (basic !== null) {
    const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? decoded : decoded.slice(colon + 1);
  }
  return undefined;
}

/**
 * Who a credential acts as; throws 401 "Bad credentials" for unknown or expired tokens and
 * GitHub's JWT errors for bad app JWTs. `undefined` credential = anonymous (null).
 */
export function resolveActor(
  core: SandboxCore,
  credential: string | undefined,
  nowMs = Date.now(),
): Actor | null {
  if (credential === undefined) return null;
  const record = core.state.tokens[credential];
  if (record === undefined) {
    if (looksLikeJwt(credential)) {
      verifyAppJwt(credential, core.appPublicKey, core.state.app.id, nowMs);
      return { kind: "app", appId: core.state.app.id };
    }
    throw badCredentials();
  }
  if (record.kind === "installation") {
    if (record.expiresAt <= nowMs) throw badCredentials();
    const installation = core.state.installations[String(record.installationId)];
    // A deleted installation's tokens are revoked with it (GitHub: 401 Bad credentials).
    if (installation === undefined) throw badCredentials();
    // A suspended one's still authenticate but every request is refused, in GitHub's words.
    if (installation.suspended_at !== null) throw installationSuspended();
    return {
      kind: "installation",
      installation,
      bot: core.appBot(),
      ...(record.repositoryIds !== undefined ? { repositoryIds: record.repositoryIds } : {}),
      ...(record.permissions !== undefined ? { permissions: record.permissions } : {}),
    };
  }
  const user = core.user(record.login);
  if (user === undefined) throw badCredentials();
  return { kind: "user", user };
}
