/**
 * Refresh records (docs/architecture.md, "Record contract"; issue 15): the app re-issues the
 * current record of an environment on a period so that agents can refuse a frozen mirror with
 * --max-age without a quiet week looking like a freeze (TUF's timestamp role, in git).
 *
 * A refresh is an ordinary version-1 record: the previous record's source commit, tree, branch,
 * pull request, approvers and policy digest; sequence + 1; a new Issued-At; parents [previous
 * record, source commit]; and a body whose first paragraph is refreshSummary(previous sequence).
 * Agents already deployed accept it as a new record of the same tree; new ones see `refresh` on
 * the verified record and deploy nothing.
 */

import type { RecordCommitInput, RecordIdentity } from "./commit.js";
import { fieldProblems, parseIssuedAt, refreshSummary, type RecordFields } from "./format.js";

export interface RefreshInput {
  /** The current head of approved/<environment>: its SHA and its (parsed) fields. */
  previous: { sha: string; fields: RecordFields };
  /** The new Pullgate-Issued-At (recordIssuedAt(now, ...) in src/record/time.ts). */
  issuedAt: string;
  /** Fingerprint of the key that will sign the refresh (it may differ after a key rotation). */
  key: string;
  identity: RecordIdentity;
}

/** The signRecord input for a refresh of `previous`. Throws on input that would make a bad record. */
export function buildRefreshRecord(input: RefreshInput): RecordCommitInput {
  const { previous } = input;
  if (!/^[0-9a-f]{40}$/.test(previous.sha)) throw new Error("previous.sha must be a 40-hex commit SHA");
  const problems = fieldProblems(previous.fields);
  if (problems.length > 0) throw new Error(`previous record fields: ${problems.join("; ")}`);
  const issued = parseIssuedAt(input.issuedAt);
  const previousIssued = parseIssuedAt(previous.fields.issuedAt);
  if (issued === null) throw new Error("issuedAt is not canonical");
  // A refresh proves freshness only if it is newer than what it refreshes.
  if (previousIssued !== null && issued < previousIssued) {
    throw new Error(`issuedAt ${input.issuedAt} is before the previous record's ${previous.fields.issuedAt}`);
  }
  const fields: RecordFields = {
    ...previous.fields,
    approvedBy: [...previous.fields.approvedBy],
    sequence: previous.fields.sequence + 1,
    issuedAt: input.issuedAt,
    key: input.key,
  };
  return {
    fields,
    previousRecord: previous.sha,
    identity: input.identity,
    format: { summary: refreshSummary(previous.fields.sequence) },
  };
}
