import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * GitHub's conditional requests (docs.github.com, "Best practices for using the REST API": "Use
 * conditional requests if appropriate"): a successful GET carries an `ETag` (and a `Last-Modified`
 * where the resource has one); the same request sent again with `If-None-Match` (or
 * `If-Modified-Since`) is answered `304 Not Modified` without a body when nothing changed, and a
 * 304 does not count against the primary rate limit. GitHub's ETags are weak (`W/"…"`) and vary
 * with the credential (`Vary: Accept, Authorization, Cookie, X-GitHub-OTP`): one token's ETag never
 * validates another token's request.
 */
export const VARY = "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding";

/** The weak ETag of a representation as this credential and media type see it. */
export function etagOf(body: Buffer | string, headers: IncomingHttpHeaders): string {
  const hash = createHash("sha256");
  // What the response varies on is part of the validator (GitHub's Vary), so a token's ETag
  // cannot be replayed with another token's request to learn whether a resource changed.
  hash.update(`${headers.authorization ?? ""}\n${headers.accept ?? ""}\n`);
  hash.update(body);
  return `W/"${hash.digest("hex").slice(0, 64)}"`;
}

/** `Last-Modified` from the resource's own `updated_at`, when it has one (GitHub: repositories, issues, …). */
export function lastModifiedOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const updated = (body as { updated_at?: unknown }).updated_at;
  if (typeof updated !== "string") return undefined;
  const ms = Date.parse(updated);
  return Number.isFinite(ms) ? new Date(ms).toUTCString() : undefined;
}

function etagMatches(header: string, etag: string): boolean {
  // Weak comparison (RFC 9110 13.1.2): `W/"x"` and `"x"` match; `*` matches any current representation.
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header
    .split(",")
    .some((candidate) => candidate.trim() === "*" || opaque(candidate) === opaque(etag));
}

/**
 * Whether this GET may be answered 304. `If-None-Match` takes precedence: when present,
 * `If-Modified-Since` is ignored (RFC 9110 13.2.2), as GitHub does.
 */
export function notModified(
  headers: IncomingHttpHeaders,
  etag: string,
  lastModified: string | undefined,
): boolean {
  const ifNoneMatch = headers["if-none-match"];
  if (typeof ifNoneMatch === "string" && ifNoneMatch !== "") return etagMatches(ifNoneMatch, etag);
  const ifModifiedSince = headers["if-modified-since"];
  if (typeof ifModifiedSince === "string" && lastModified !== undefined) {
    const since = Date.parse(ifModifiedSince);
    const modified = Date.parse(lastModified);
    return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
  }
  return false;
}
