/**
 * The content of the record for an approved landing: its fields (docs/architecture.md, "Record
 * contract") and its commit message body, pure. The publisher signs it and writes it by
 * compare-and-swap (src/github/records/write.ts); what is judged a landing is landing.ts.
 */
import type { PrivateKey } from "openpgp";
import type { RecordCommitInput, RecordIdentity } from "./commit.js";
import type { RecordFields } from "./format.js";
import { recordIssuedAt } from "./time.js";

/** The newest genuine record on approved/<env>, the one the new record builds on. */
export interface PreviousRecord {
  sha: string;
  sequence: number;
  issuedAt: string;
}

/** The approved landing the record is for, and pullgate's decision on the PR head it came from. */
export interface ApprovedLanding {
  commit: string;
  tree: string;
  pullRequest: number;
  decision: {
    headSha: string;
    approvedBy: readonly string[];
    policyDigest: string;
    /** Informative only (the record body's decision block): verification never reads them. */
    reviews: unknown;
    signatures: unknown;
    rules: unknown;
  };
}

export interface LandingRecordInput {
  repository: string;
  environment: string;
  branch: string;
  previous: PreviousRecord | null;
  landing: ApprovedLanding;
  signer: {
    fingerprint: string;
    identity: RecordIdentity;
    /** The signing key's creation time bounds the issue time (a signature older than its key is invalid). */
    key: Pick<PrivateKey, "getCreationTime">;
  };
  /** The app's clock when the record is built. */
  now: Date;
}

/** The unsigned record for `input.landing`: sequence one past the previous record's, or 1. */
export function landingRecord(input: LandingRecordInput): RecordCommitInput {
  const { landing, previous } = input;
  const fields: RecordFields = {
    repository: input.repository,
    environment: input.environment,
    branch: input.branch,
    sequence: previous ? previous.sequence + 1 : 1,
    sourceCommit: landing.commit,
    sourceTree: landing.tree,
    pullRequest: landing.pullRequest,
    approvedBy: [...landing.decision.approvedBy],
    policyDigest: landing.decision.policyDigest,
    // Backdated by the skew so that a cluster clock behind the app's does not fail Flux
    // (docs/architecture.md, "Record contract", clock contract).
    issuedAt: recordIssuedAt(input.now, {
      signingKey: input.signer.key,
      ...(previous ? { notBefore: previous.issuedAt } : {}),
    }),
    key: input.signer.fingerprint,
  };
  const { decision } = landing;
  return {
    fields,
    previousRecord: previous?.sha ?? null,
    identity: input.signer.identity,
    format: {
      summary: `Pull request #${landing.pullRequest} was approved by ${decision.approvedBy.map((a) => `@${a}`).join(", ")} and merged as ${landing.commit.slice(0, 7)}.`,
      decision: {
        reviews: decision.reviews,
        signatures: decision.signatures,
        rules: decision.rules,
        headSha: decision.headSha,
      },
    },
  };
}
