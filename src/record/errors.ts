/**
 * Why an agent refuses a record (docs/architecture.md, "Record contract"). Callers branch on `code`; people read `message`.
 */

export type RecordRefusalCode =
  | "FETCH_FAILED"
  | "MALFORMED_RECORD"
  | "UNSIGNED"
  | "UNKNOWN_KEY"
  | "SIGNATURE_INVALID"
  | "SIGNATURE_TIME_MISMATCH"
  | "KEY_MISMATCH"
  | "WRONG_REPOSITORY"
  | "WRONG_ENVIRONMENT"
  | "PARENTS_INVALID"
  | "TREE_MISMATCH"
  | "ISSUED_IN_FUTURE"
  | "EXPIRED"
  | "SEQUENCE_NOT_INCREASING"
  | "NOT_DESCENDANT"
  | "BREAK_GLASS_REFUSED";

/** One sentence per code: what the refusal means for the operator. */
export const REFUSAL_MESSAGES: Record<RecordRefusalCode, string> = {
  FETCH_FAILED: "the approved ref could not be fetched; keeping the last accepted revision",
  MALFORMED_RECORD: "the commit on the approved ref is not a well-formed pullgate record",
  UNSIGNED: "the record carries no OpenPGP signature",
  UNKNOWN_KEY: "the record is signed by a key that is not in the pinned keyring",
  SIGNATURE_INVALID: "the record's signature does not verify (forged or tampered record)",
  SIGNATURE_TIME_MISMATCH:
    "the record's signature was not made at its Pullgate-Issued-At (misused signing key or forged time)",
  KEY_MISMATCH: "the record's Pullgate-Key trailer does not name the key that signed it",
  WRONG_REPOSITORY: "the record approves a revision of another repository (mix-and-match)",
  WRONG_ENVIRONMENT: "the record approves a revision for another environment (mix-and-match)",
  PARENTS_INVALID: "the record's parents are not [previous record, source commit]",
  TREE_MISMATCH: "the record's tree is not the tree of the source commit it names",
  ISSUED_IN_FUTURE: "the record claims to be issued in the future (clock skew or forgery)",
  EXPIRED: "the record is older than the allowed maximum age (freeze)",
  SEQUENCE_NOT_INCREASING: "the record's sequence is not above the last accepted one (replay or rollback)",
  NOT_DESCENDANT: "the record does not descend from the last accepted record (rollback or forked history)",
  BREAK_GLASS_REFUSED:
    "the record passed through the break-glass path, and this agent refuses break-glass records (--refuse-break-glass)",
};

export class RecordVerificationError extends Error {
  override readonly name = "RecordVerificationError";
  constructor(
    readonly code: RecordRefusalCode,
    /** The specific reason, e.g. "sequence 3 is not above 5". */
    readonly detail: string,
  ) {
    super(`${REFUSAL_MESSAGES[code]}: ${detail}`);
  }
}

export function refuse(code: RecordRefusalCode, detail: string): never {
  throw new RecordVerificationError(code, detail);
}
