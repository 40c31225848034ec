/**
 * Fetch approved/<env> into the cache and verify the commit it points at: the I/O half of
 * `pullgate verify` and of each agent tick. The checks themselves are src/record/verify.ts.
 */

import { RecordVerificationError } from "../record/errors.js";
import { verifyRecord, type AcceptedRecord, type VerifiedRecord } from "../record/verify.js";
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
}

/** Returns the verified record or throws RecordVerificationError (FETCH_FAILED when git could not fetch). */
export async function fetchAndVerify(options: FetchVerifyOptions): Promise<VerifiedRecord> {
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

  const recordRaw = await cache.catCommit(recordCommit);
  const parents = parentsOf(recordRaw);
  // Read what the verifier needs; absent objects are passed as null and refused by the check that needs them.
  const previousRecordRaw =
    parents.length === 2 && parents[0] !== undefined && (await cache.hasCommit(parents[0]))
      ? await cache.catCommit(parents[0])
      : null;
  const source = parents[parents.length - 1];
  const sourceCommitTree = source === undefined ? null : await cache.treeOf(source);
  const last = options.lastAccepted;
  const descendsFromLastAccepted =
    last === null ? null : await cache.firstParentChainContains(recordCommit, last.recordCommit);

  return verifyRecord(
    { recordCommit, recordRaw, previousRecordRaw, sourceCommitTree, descendsFromLastAccepted },
    {
      keyring: options.keyring,
      repository: options.repository,
      environment: options.environment,
      lastAccepted: last,
      now: options.now,
      maxAgeMs: options.maxAgeMs,
    },
  );
}

/** Parent SHAs from a raw commit's headers (lenient: the verifier re-parses strictly). */
function parentsOf(raw: string): string[] {
  const headers = raw.slice(0, Math.max(0, raw.indexOf("\n\n")));
  return [...headers.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1] ?? "");
}
