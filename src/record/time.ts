/**
 * The record's clock contract (docs/architecture.md, "Record contract"): every record carries one
 * time, its Pullgate-Issued-At, which is also the commit's author and committer time and the
 * OpenPGP signature's creation time. Verifiers compare it with their own clock:
 *
 * - pullgate tolerates CLOCK_SKEW_MS both ways (a record "from the future" by more is refused, a
 *   signature whose creation time differs from Issued-At by more is refused);
 * - go-crypto (Flux) and GnuPG (Argo CD) refuse a signature made even one second after their own
 *   clock. So the app stamps records ISSUE_BACKDATE_MS before its own clock: a cluster whose clock
 *   is up to that much behind the app's still sees a signature from the past.
 */

import type * as openpgp from "openpgp";
import { formatIssuedAt } from "./format.js";

/** Clock difference tolerated between the app and any verifier, and between Issued-At and the signature. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** How far before its own clock the app dates a record (and its signature). Equal to the skew. */
export const ISSUE_BACKDATE_MS = CLOCK_SKEW_MS;

/**
 * The Pullgate-Issued-At for a record the app signs now: ISSUE_BACKDATE_MS before `now`, whole
 * seconds, but never before the signing key's creation (a signature older than its key is invalid
 * in every verifier), nor, when given, before the previous record's Issued-At (the times along a
 * chain never go backwards, even right after a key rotation).
 */
export function recordIssuedAt(
  now: Date,
  options: { signingKey?: Pick<openpgp.PrivateKey, "getCreationTime">; notBefore?: string } = {},
): string {
  let ms = Math.floor((now.getTime() - ISSUE_BACKDATE_MS) / 1000) * 1000;
  if (options.signingKey !== undefined) {
    ms = Math.max(ms, Math.ceil(options.signingKey.getCreationTime().getTime() / 1000) * 1000);
  }
  if (options.notBefore !== undefined) {
    const previous = Date.parse(options.notBefore);
    if (!Number.isNaN(previous)) ms = Math.max(ms, previous);
  }
  // Never after the app's own clock: a clamp must not turn into a record from the future.
  ms = Math.min(ms, Math.floor(now.getTime() / 1000) * 1000);
  return formatIssuedAt(new Date(ms));
}
