/**
 * What kind of event a verified record stands for (`pullgate history`, docs/agents.md): the landing
 * of an approved pull request, a refresh (the same source re-issued as proof of freshness), a
 * break-glass landing, or a promotion from another environment (the record marks, docs/architecture.md,
 * "Record contract").
 *
 * Pure. Only called on records whose signature verified: every field it reads is authenticated.
 */

import type { RecordFields } from "./format.js";

export const RECORD_KINDS = ["landing", "refresh", "break-glass", "promotion"] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** The fields recordKind reads: a record without marks is a landing or a refresh. */
export type KindFields = Readonly<RecordFields>;

/** What the verifier established beyond the fields (VerifiedRecord.refresh). */
export interface KindFacts {
  /** The record re-issues its previous record's source commit and tree. */
  refresh: boolean;
}

/**
 * The kind, in this order of precedence:
 * 1. refresh: a refresh copies every field of the record it re-issues (markers included), so a
 *    refresh of a break-glass landing is a refresh; the landing itself shows as break-glass.
 * 2. break-glass: an emergency landing must never be displayed as an ordinary one.
 * 3. promotion: a landing whose tree was recorded on another environment first.
 * 4. landing.
 */
export function recordKind(fields: KindFields, facts: KindFacts): RecordKind {
  if (facts.refresh) return "refresh";
  if (fields.breakGlass !== undefined) return "break-glass";
  if (fields.promotedFrom !== undefined) return "promotion";
  return "landing";
}
