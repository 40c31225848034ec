/**
 * Verifying a move along the record chain (docs/architecture.md, "Record contract"): when an agent
 * goes from its last accepted record #N to a record #N+k, every record in between is verified too
 * (signature by a pinned key, sequence, parents, repository and environment, tree), not only #N+k.
 * A chain that only its head vouches for would let a single stolen or misused signature splice
 * unsigned or foreign "records" into the history an auditor later reads as approved.
 *
 * Pure: the objects come through RecordObjects (the agent's adapter reads them from its git cache,
 * where the fetch of approved/<env> brought the whole chain).
 */

import { RecordVerificationError, refuse } from "./errors.js";
import {
  verifyRecord,
  type RecordVerificationContext,
  type RecordVerificationInput,
  type VerifiedRecord,
} from "./verify.js";

export interface RecordObjects {
  /** The raw text of a commit object, or null when it is not available. */
  commit(sha: string): Promise<string | null>;
  /** The tree of a commit, or null when the commit is not available. */
  treeOf(sha: string): Promise<string | null>;
}

/** Parent SHAs from a raw commit's headers (lenient: the verifier re-parses strictly). */
export function parentsOf(raw: string): string[] {
  const headers = raw.slice(0, Math.max(0, raw.indexOf("\n\n")));
  return [...headers.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1] ?? "");
}

/** What verifyRecord needs about `recordCommit`, read through `objects`. */
export async function readVerificationInput(
  objects: RecordObjects,
  recordCommit: string,
  descendsFromLastAccepted: boolean | null,
): Promise<RecordVerificationInput> {
  const recordRaw = await objects.commit(recordCommit);
  if (recordRaw === null) refuse("MALFORMED_RECORD", `record ${recordCommit} is not available`);
  const parents = parentsOf(recordRaw);
  // Absent objects are passed as null and refused by the check that needs them.
  const previous = parents.length === 2 ? parents[0] : undefined;
  const previousRecordRaw = previous === undefined ? null : await objects.commit(previous);
  const source = parents[parents.length - 1];
  const sourceCommitTree = source === undefined ? null : await objects.treeOf(source);
  return { recordCommit, recordRaw, previousRecordRaw, sourceCommitTree, descendsFromLastAccepted };
}

/**
 * Verifies every record strictly between ctx.lastAccepted and `newest` (already verified), walking
 * first parents back from `newest`. Returns how many were checked (k - 1 for a move from #N to
 * #N+k). Throws RecordVerificationError: the intermediate's own code, with a detail naming it, or
 * NOT_DESCENDANT when the walk does not meet the last accepted record where its sequence says.
 */
export async function verifyRecordsBetween(
  objects: RecordObjects,
  newest: VerifiedRecord,
  ctx: RecordVerificationContext,
): Promise<number> {
  const last = ctx.lastAccepted;
  if (last === null || newest.unchanged) return 0;
  // Older records are judged as records, not as the deployable head: no max-age (they are old by
  // nature), no sequence-above-last check (that is the walk's job).
  // Nor --refuse-break-glass: it is about the tree deployed, and an intermediate's is not.
  const intermediateCtx: RecordVerificationContext = {
    ...ctx,
    lastAccepted: null,
    maxAgeMs: null,
    refuseBreakGlass: false,
  };
  let current = newest;
  let checked = 0;
  for (;;) {
    const previousSha = current.commit.parents.length === 2 ? current.commit.parents[0] : undefined;
    if (previousSha === last.recordCommit) {
      // checkParents read the previous record's sequence from its message; the state must agree.
      if (current.fields.sequence !== last.sequence + 1) {
        refuse(
          "NOT_DESCENDANT",
          `the chain has record #${current.fields.sequence - 1} at ${last.recordCommit}, the state says #${last.sequence}`,
        );
      }
      return checked;
    }
    if (previousSha === undefined || current.fields.sequence - 1 <= last.sequence) {
      refuse(
        "NOT_DESCENDANT",
        `walking back from #${newest.fields.sequence} reached #${current.fields.sequence} without meeting the last accepted record #${last.sequence} ${last.recordCommit}`,
      );
    }
    const input = await readVerificationInput(objects, previousSha, null);
    try {
      current = await verifyRecord(input, intermediateCtx);
    } catch (error) {
      if (!(error instanceof RecordVerificationError)) throw error;
      throw new RecordVerificationError(
        error.code,
        `record #${current.fields.sequence - 1} ${previousSha}, between the last accepted #${last.sequence} and #${newest.fields.sequence}: ${error.detail}`,
      );
    }
    checked++;
  }
}
