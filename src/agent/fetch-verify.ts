/**
 * Fetch approved/<env> into the cache and verify the commit it points at, and every record between
 * the last accepted one and it: the I/O half of `pullgate verify` and of each agent tick. The
 * checks themselves are src/record/verify.ts and src/record/chain.ts.
 */

import { readVerificationInput, verifyRecordsBetween, type RecordObjects } from "../record/chain.js";
import { RecordVerificationError } from "../record/errors.js";
import {
  verifyRecord,
  type AcceptedRecord,
  type RecordVerificationContext,
  type VerifiedRecord,
} from "../record/verify.js";
import type { GitCache } from "./git.js";

export interface FetchVerifyOptions {
  cache: GitCache;
  /** URL or local path of the repository. */
  url: string;
  repository: string;
  environment: string;
  keyring: string[];
  lastAccepted: AcceptedRecord | null;
  now: Date;
  maxAgeMs: number | null;
  /** Refuse a record marked break-glass (BREAK_GLASS_REFUSED). */
  refuseBreakGlass?: boolean;
}

export interface FetchVerifyResult extends VerifiedRecord {
  /** How many records between the last accepted one and this one were verified as well. */
  intermediateRecords: number;
}

/** Returns the verified record or throws RecordVerificationError (FETCH_FAILED when git could not fetch). */
export async function fetchAndVerify(options: FetchVerifyOptions): Promise<FetchVerifyResult> {
  const { cache } = options;
  let recordCommit: string;
  try {
    await cache.init();
    recordCommit = await cache.fetchApproved(options.url, options.environment);
  } catch (error) {
    throw new RecordVerificationError(
      "FETCH_FAILED",
      `approved/${options.environment} from ${options.url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  // The fetch brought the whole record chain and its source commits into the cache.
  const objects: RecordObjects = {
    commit: async (sha) => ((await cache.hasCommit(sha)) ? cache.catCommit(sha) : null),
    treeOf: (sha) => cache.treeOf(sha),
  };
  const last = options.lastAccepted;
  const descendsFromLastAccepted =
    last === null ? null : await cache.firstParentChainContains(recordCommit, last.recordCommit);
  const input = await readVerificationInput(objects, recordCommit, descendsFromLastAccepted);
  const ctx: RecordVerificationContext = {
    keyring: options.keyring,
    repository: options.repository,
    environment: options.environment,
    lastAccepted: last,
    now: options.now,
    maxAgeMs: options.maxAgeMs,
    refuseBreakGlass: options.refuseBreakGlass === true,
  };
  const record = await verifyRecord(input, ctx);
  const intermediateRecords = await verifyRecordsBetween(objects, record, ctx);
  return { ...record, intermediateRecords };
}
