/**
 * Pure decisions about the head of `approved/<env>` (docs/architecture.md, "Publishing records";
 * docs/threat-model.md, "Record refs"):
 *
 * - `decideHead`: before publishing, may the publisher chain onto the ref's head, or was the ref
 *   tampered with (forged head, rolled back, deleted) and must the chain be restored on the newest
 *   record the app's own record log proves?
 * - `classifyRecordPush`: was a push to the record ref the app's own compare-and-swap?
 */
import type { RecordFields } from "../../record/format.js";
import type { RecordJudgement } from "./genuine.js";

export interface GenuineRecord {
  sha: string;
  fields: RecordFields;
}

/** What the record log proves: the newest logged record, none, or that the walk gave up. */
export type LoggedRecord =
  { kind: "found"; record: GenuineRecord } | { kind: "none" } | { kind: "walk-exhausted"; commits: number };

export type HeadDecision =
  /** Chain onto `head` (null: publish record #1). */
  | { kind: "sound"; head: GenuineRecord | null }
  /** The ref does not hold the newest genuine record: restore the chain on `restoreOn`. */
  | { kind: "tampered"; observed: string | null; restoreOn: GenuineRecord; why: string }
  /** The ref is not the app's and no genuine record can be proven: publish nothing, alert. */
  | { kind: "unprovable"; observed: string; why: string };

const short = (sha: string) => sha.slice(0, 7);

/**
 * `observed` is where the ref points (null: absent), `head` the judgement of that commit, `logged`
 * what the record log proves. A genuine head newer than the log is the app's (only the app's key
 * signs records; a log write can be lost after the ref moved), so it is kept.
 */
export function decideHead(
  refName: string,
  observed: string | null,
  head: RecordJudgement | null,
  logged: LoggedRecord,
): HeadDecision {
  const proven = logged.kind === "found" ? logged.record : null;
  if (observed === null || head === null) {
    if (proven === null) return { kind: "sound", head: null };
    return {
      kind: "tampered",
      observed: null,
      restoreOn: proven,
      why: `${refName} was deleted (the record log names record #${proven.fields.sequence} ${short(proven.sha)})`,
    };
  }
  if (head.genuine) {
    const genuine = { sha: head.sha, fields: head.fields };
    if (proven === null || head.sha === proven.sha || head.fields.sequence > proven.fields.sequence)
      return { kind: "sound", head: genuine };
    return {
      kind: "tampered",
      observed,
      restoreOn: proven,
      why: `${refName} points at record #${head.fields.sequence} ${short(head.sha)}, but the record log names record #${proven.fields.sequence} ${short(proven.sha)}: it was rolled back`,
    };
  }
  if (proven === null) {
    const more =
      logged.kind === "walk-exhausted"
        ? `the record log names no record in the last ${logged.commits} commits of the branch`
        : "the record log names no earlier record";
    return {
      kind: "unprovable",
      observed,
      why: `${refName} points at ${short(observed)}, which is not pullgate's record (${head.reason}), and ${more} to restore the chain on`,
    };
  }
  return {
    kind: "tampered",
    observed,
    restoreOn: proven,
    why: `${refName} points at ${short(observed)}, which is not pullgate's record (${head.reason}); the record log names record #${proven.fields.sequence} ${short(proven.sha)}`,
  };
}

export type RecordPushVerdict = { own: true } | { own: false; what: string };

/**
 * A push to the record ref is the app's own compare-and-swap when the new head is a genuine record
 * whose first parent is the previous head and whose sequence is the previous head's + 1, or record
 * #1 on an absent ref. The one exception is the app's restoration: a genuine record that replaces a
 * head that was not the app's (`before` absent or not genuine, or an older genuine record than the
 * new record's parent), which the restoration alert reports itself. Everything else is not.
 *
 * `after` / `before` are the judgements of the new and old heads (null when absent);
 * `parentSequence` is the sequence of the new record's first parent when it is a record.
 */
export function classifyRecordPush(
  after: RecordJudgement | null,
  before: RecordJudgement | null,
  parentSequence: number | null,
): RecordPushVerdict {
  if (after === null) {
    return {
      own: false,
      what: before === null ? "deleted it" : `deleted it (it pointed at ${short(before.sha)})`,
    };
  }
  if (!after.genuine)
    return {
      own: false,
      what: `pushed ${short(after.sha)}, which is not pullgate's record (${after.reason})`,
    };
  const { sequence } = after.fields;
  const parent = sequence > 1 ? (after.parents[0] ?? null) : null;
  if (sequence === 1) {
    if (before === null) return { own: true };
    return {
      own: false,
      what: `replaced ${short(before.sha)} with record #1 ${short(after.sha)} (a rollback to the start of the chain)`,
    };
  }
  if (parentSequence !== sequence - 1)
    return {
      own: false,
      what: `pushed record #${sequence} ${short(after.sha)}, whose first parent is not record #${sequence - 1}`,
    };
  if (before !== null && parent === before.sha) return { own: true };
  // Not a fast-forward of the chain: only the app's restoration of a tampered ref may do that.
  const beforeSound = before !== null && before.genuine && before.fields.sequence >= sequence - 1;
  if (!beforeSound) return { own: true };
  return {
    own: false,
    what: `replaced record #${before.genuine ? before.fields.sequence : "?"} ${short(before.sha)} with record #${sequence} ${short(after.sha)}, which does not build on it (a rollback or a side chain)`,
  };
}
