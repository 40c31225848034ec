import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { HttpError } from "../http/errors.js";

/** Does this bearer credential look like a JWT (three base64url parts)? */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function decodePart(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  return value as Record<string, unknown>;
}

const undecodable = (): HttpError => new HttpError(401, "A JSON web token could not be decoded");

/**
 * Verifies a GitHub App JWT the way GitHub does: RS256 signature by the app's key, `iss` = app id,
 * `iat` not in the future (60 s clock drift allowed), `exp` in the future and at most 10 minutes
 * after `iat`. Messages are GitHub's, so @octokit/auth-app's clock-skew retry recognises them.
 */
export function verifyAppJwt(
  token: string,
  publicKey: KeyObject | string,
  appId: number,
  nowMs = Date.now(),
): void {
  const parts = token.split(".");
  if (parts.length !== 3) throw undecodable();
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = decodePart(headerPart);
    payload = decodePart(payloadPart);
  } catch {
    throw undecodable();
  }
  if (header.alg !== "RS256") throw undecodable();
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${headerPart}.${payloadPart}`),
    key,
    Buffer.from(signaturePart, "base64url"),
  );
  if (!signed) throw undecodable();
  const now = Math.floor(nowMs / 1000);
  const { iat, exp, iss } = payload;
  if (typeof iat !== "number" || iat > now + 60)
    throw new HttpError(
      401,
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    );
  if (typeof exp !== "number" || exp <= now)
    throw new HttpError(
      401,
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
  if (exp - iat > 600 + 60 || exp > now + 660)
    throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future");
  if (String(iss) !== String(appId)) throw new HttpError(401, "Integration not found");
}
