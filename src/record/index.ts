/**
 * The approved-revision record, shared by the app (build + sign + publish) and the agents (verify).
 * Pure: no file system, no network; openpgp.js and node:crypto only.
 */
export {
  TRAILER,
  RECORD_VERSION,
  extractDecision,
  formatIssuedAt,
  formatRecordMessage,
  isEnvironmentName,
  isRepositoryName,
  parseIssuedAt,
  parseRecordMessage,
  recordSubject,
  refreshSummary,
  breakGlassParagraph,
  promotionParagraph,
  type BreakGlassMark,
  type PromotedFrom,
  type FormatOptions,
  type RecordFields,
  type RecordMessageParse,
} from "./format.js";
export {
  buildRawCommit,
  buildRecordCommit,
  insertGpgsig,
  type RecordCommitInput,
  type RecordIdentity,
  type UnsignedRecordCommit,
} from "./commit.js";
export { commitSha, parseRawCommit, RawCommitError, type GitIdentity, type RawCommit } from "./raw-commit.js";
export {
  fingerprintOf,
  generateRecordKey,
  loadSigningKey,
  readPublicKeys,
  type GeneratedKeyPair,
} from "./keys.js";
export { githubCreateCommitRequest, signCommitPayload, signRecord, type SignedRecordCommit } from "./sign.js";
export { REFUSAL_MESSAGES, RecordVerificationError, type RecordRefusalCode } from "./errors.js";
export { buildRefreshRecord, type RefreshInput } from "./refresh.js";
export { CLOCK_SKEW_MS, ISSUE_BACKDATE_MS, recordIssuedAt } from "./time.js";
export { parentsOf, readVerificationInput, verifyRecordsBetween, type RecordObjects } from "./chain.js";
export {
  verifyRecord,
  type AcceptedRecord,
  type RecordVerificationContext,
  type RecordVerificationInput,
  type VerifiedRecord,
} from "./verify.js";
