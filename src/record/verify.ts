/**
 * Verifies an approved-revision record, sigstore-style: a fixed list of small checks, in order, each
 * of which either passes or throws RecordVerificationError with a code (docs/architecture.md,
 * "Record contract"). The trailers are only interpreted after the signature over them verified:
 * nothing unauthenticated is trusted.
 *
 * Pure: the adapter (src/agent) fetches and supplies the raw objects and the ancestry answer.
 */

import * as openpgp from "openpgp";
import { refuse, RecordVerificationError } from "./errors.js";
import { parseIssuedAt, parseRecordMessage, type RecordFields } from "./format.js";
import { CLOCK_SKEW_MS } from "./time.js";
import { fingerprintOf, ignoredPublicKeys, readPublicKeys } from "./keys.js";
import { commitSha, parseRawCommit, RawCommitError, type RawCommit } from "./raw-commit.js";

export interface AcceptedRecord {
  sequence: number;
  recordCommit: string;
}

/** What the adapter read from git. */
export interface RecordVerificationInput {
  /** The SHA the approved ref points at. */
  recordCommit: string;
  /** `git cat-file commit <recordCommit>`. */
  recordRaw: string;
  /** Raw text of the record's first parent when it has two parents (the previous record). */
  previousRecordRaw: string | null;
  /**
   * Tree of the source commit the record names (its last parent), as the object store reports it
   * (`git rev-parse <sha>^{tree}`: git checks object ids on fetch); null when the commit is absent.
   */
  sourceCommitTree: string | null;
  /**
   * Whether lastAccepted.recordCommit is on the first-parent chain of recordCommit (or is it): the
   * record chain, not merely any ancestry path; null when there is no last accepted record.
   */
  descendsFromLastAccepted: boolean | null;
}

/** What the agent pins and remembers. */
export interface RecordVerificationContext {
  /** Armored OpenPGP public keys the agent trusts (one or more per string). */
  keyring: string[];
  repository: string;
  environment: string;
  lastAccepted: AcceptedRecord | null;
  now: Date;
  /** Refuse records issued longer ago than this (freeze protection); null: no limit. */
  maxAgeMs: number | null;
  /**
   * Tolerated clock skew: for records issued "in the future", and between the signature's creation
   * time and Pullgate-Issued-At. Default CLOCK_SKEW_MS (5 minutes, src/record/time.ts).
   */
  maxClockSkewMs?: number;
  /**
   * Refuse a record marked break-glass (`--refuse-break-glass`): BREAK_GLASS_REFUSED. Judged on the
   * record to deploy only: a break-glass record between the last accepted one and a normal record
   * above it is verified like any other (its tree is not the one deployed).
   */
  refuseBreakGlass?: boolean;
}

export interface VerifiedRecord {
  recordCommit: string;
  fields: RecordFields;
  commit: RawCommit;
  /** Primary key fingerprint of the key that signed the record. */
  signer: string;
  /** True when this is the record already accepted last time (nothing new to deploy). */
  unchanged: boolean;
  /**
   * True when the record re-issues its previous record's source commit and tree (a refresh): proof
   * of freshness, nothing new to deploy.
   */
  refresh: boolean;
  /** The signature's creation time (within the skew of Pullgate-Issued-At). */
  signedAt: Date;
}

const DEFAULT_SKEW_MS = CLOCK_SKEW_MS;

/** Runs every check, in order; returns the verified record or throws RecordVerificationError. */
export async function verifyRecord(
  input: RecordVerificationInput,
  ctx: RecordVerificationContext,
): Promise<VerifiedRecord> {
  const commit = checkWellFormedCommit(input);
  const { signer, signedAt } = await verifySignature(commit, ctx);
  const { fields, refreshOf } = checkRecordMessage(commit);
  checkKeyTrailer(fields, signer);
  checkSignatureTime(fields, signedAt, ctx);
  checkRepositoryAndEnvironment(fields, ctx);
  const previous = checkParents(commit, fields, input);
  const refresh = checkRefresh(fields, refreshOf, previous);
  checkRefreshMarks(fields, previous, refresh);
  checkTree(commit, fields, input);
  checkFreshness(fields, ctx);
  const unchanged = checkSequence(input, fields, ctx);
  if (!unchanged) checkDescent(input, ctx);
  checkBreakGlass(fields, ctx);
  return { recordCommit: input.recordCommit, fields, commit, signer, unchanged, refresh, signedAt };
}

/** The object is the commit the ref names, and it parses. */
export function checkWellFormedCommit(input: RecordVerificationInput): RawCommit {
  if (commitSha(input.recordRaw) !== input.recordCommit) {
    refuse("MALFORMED_RECORD", `object content does not hash to ${input.recordCommit}`);
  }
  return parseCommitOrRefuse(input.recordRaw, "MALFORMED_RECORD", "record");
}

function parseCommitOrRefuse(
  raw: string,
  code: "MALFORMED_RECORD" | "PARENTS_INVALID",
  what: string,
): RawCommit {
  try {
    return parseRawCommit(raw);
  } catch (error) {
    if (error instanceof RawCommitError) refuse(code, `${what} commit: ${error.message}`);
    throw error;
  }
}

/** Exactly one signature, by a key in the pinned keyring, valid over the exact commit bytes. */
export async function checkSignature(commit: RawCommit, ctx: RecordVerificationContext): Promise<string> {
  return (await verifySignature(commit, ctx)).signer;
}

/** The signer and the signature's creation time (checkSignatureTime holds it to Pullgate-Issued-At). */
export async function verifySignature(
  commit: RawCommit,
  ctx: RecordVerificationContext,
): Promise<{ signer: string; signedAt: Date }> {
  if (commit.gpgsig === null) refuse("UNSIGNED", "no gpgsig header");
  if (!commit.gpgsig.startsWith("-----BEGIN PGP SIGNATURE-----")) {
    refuse("SIGNATURE_INVALID", "the gpgsig header is not an OpenPGP signature");
  }
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: commit.gpgsig });
  } catch (error) {
    refuse("SIGNATURE_INVALID", `unreadable signature: ${errorMessage(error)}`);
  }
  if (signature.packets.length !== 1) {
    refuse("SIGNATURE_INVALID", `expected one signature packet, found ${signature.packets.length}`);
  }
  const signedAt = signature.packets[0]?.created ?? null;
  if (signedAt === null) refuse("SIGNATURE_INVALID", "the signature has no creation time");
  let keyring: openpgp.Key[];
  try {
    keyring = await readPublicKeys(ctx.keyring);
  } catch (error) {
    // A broken pinned keyring must never turn into "no key matched, but fine": it is a refusal.
    refuse("UNKNOWN_KEY", `the pinned keyring is unreadable: ${errorMessage(error)}`);
  }
  const [keyID] = signature.getSigningKeyIDs();
  const signingKey = keyID === undefined ? undefined : keyring.find((key) => key.getKeys(keyID).length > 0);
  if (keyID === undefined || signingKey === undefined) {
    const ignored =
      keyID === undefined
        ? undefined
        : (await ignoredPublicKeys(ctx.keyring)).find(({ key }) => key.getKeys(keyID).length > 0);
    refuse(
      "UNKNOWN_KEY",
      `signed by key ID ${keyID?.toHex().toUpperCase() ?? "(none)"}` +
        (ignored === undefined
          ? ""
          : `, which is in keyring text #${ignored.text + 1} but after its first armored block: ` +
            `pullgate, like Flux, reads one armored block per file or Secret value (put each key in its own file)`),
    );
  }
  try {
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(commit.signedPayload) });
    const result = await openpgp.verify({
      message,
      signature,
      verificationKeys: [signingKey],
      format: "binary",
      // Judge the signature at now + tolerated skew: an app clock slightly ahead of the agent's must
      // not turn a genuine record into "signature invalid"; checkFreshness judges the issue time.
      date: new Date(ctx.now.getTime() + (ctx.maxClockSkewMs ?? DEFAULT_SKEW_MS)),
      expectSigned: true,
    });
    const [first] = result.signatures;
    if (first === undefined) refuse("SIGNATURE_INVALID", "no signature result");
    await first.verified;
  } catch (error) {
    if (error instanceof RecordVerificationError) throw error;
    refuse("SIGNATURE_INVALID", errorMessage(error));
  }
  return { signer: fingerprintOf(signingKey), signedAt };
}

/** The (now authenticated) message is a well-formed record; refreshOf from its refresh paragraph. */
export function checkRecordMessage(commit: RawCommit): { fields: RecordFields; refreshOf: number | null } {
  if (commit.otherHeaders.length > 0) {
    refuse("MALFORMED_RECORD", `unexpected header ${commit.otherHeaders[0]?.name ?? ""}`);
  }
  const parsed = parseRecordMessage(commit.message);
  if (parsed.fields === null) refuse("MALFORMED_RECORD", parsed.errors.join("; "));
  return { fields: parsed.fields, refreshOf: parsed.refreshOf };
}

/**
 * The signature was made at Pullgate-Issued-At (within the skew). The app makes them equal to the
 * second; a record whose Issued-At its signer's clock contradicts (pre-signed through a signing
 * service that stamps its own time, with a future Issued-At to outlive every --max-age) is
 * refused. It also keeps pullgate's notion of the record's time the one Flux and Argo CD judge:
 * the signature's. See docs/architecture.md, "Record contract".
 */
export function checkSignatureTime(
  fields: RecordFields,
  signedAt: Date,
  ctx: RecordVerificationContext,
): void {
  const issued = parseIssuedAt(fields.issuedAt);
  if (issued === null) refuse("MALFORMED_RECORD", "unreadable Pullgate-Issued-At");
  const skew = ctx.maxClockSkewMs ?? DEFAULT_SKEW_MS;
  if (Math.abs(signedAt.getTime() - issued) > skew) {
    refuse(
      "SIGNATURE_TIME_MISMATCH",
      `signed at ${signedAt.toISOString()}, Pullgate-Issued-At is ${fields.issuedAt} (more than ${Math.round(skew / 1000)}s apart)`,
    );
  }
}

/** The Pullgate-Key trailer names the key that actually signed (no confusion on key rotation). */
export function checkKeyTrailer(fields: RecordFields, signer: string): void {
  if (fields.key !== signer) refuse("KEY_MISMATCH", `trailer names ${fields.key}, signed by ${signer}`);
}

/** The record is for this agent's repository and environment (no mix-and-match). */
export function checkRepositoryAndEnvironment(fields: RecordFields, ctx: RecordVerificationContext): void {
  // GitHub owner and repository names are case-insensitive.
  if (fields.repository.toLowerCase() !== ctx.repository.toLowerCase()) {
    refuse("WRONG_REPOSITORY", `record is for ${fields.repository}, expected ${ctx.repository}`);
  }
  if (fields.environment !== ctx.environment) {
    refuse("WRONG_ENVIRONMENT", `record is for ${fields.environment}, expected ${ctx.environment}`);
  }
}

/**
 * Parents are [previous record, source commit] (just [source commit] for #1), and the previous record
 * is record #n-1 of the same repository and environment. Returns the previous record's fields (null
 * for #1). The previous record's own signature is not checked here: fetchAndVerify checks every
 * record between the last accepted one and this one (verifyRecordsBetween).
 */
export function checkParents(
  commit: RawCommit,
  fields: RecordFields,
  input: RecordVerificationInput,
): RecordFields | null {
  const { parents } = commit;
  if (fields.sequence === 1) {
    if (parents.length !== 1 || parents[0] !== fields.sourceCommit) {
      refuse("PARENTS_INVALID", "record #1 must have exactly one parent, its source commit");
    }
    return null;
  }
  if (parents.length !== 2 || parents[1] !== fields.sourceCommit) {
    refuse(
      "PARENTS_INVALID",
      `record #${fields.sequence} must have parents [previous record, source commit]`,
    );
  }
  const previousSha = parents[0] ?? "";
  if (input.previousRecordRaw === null || commitSha(input.previousRecordRaw) !== previousSha) {
    refuse("PARENTS_INVALID", `previous record ${previousSha} is not available`);
  }
  const previous = parseCommitOrRefuse(input.previousRecordRaw, "PARENTS_INVALID", "previous record");
  const previousFields = parseRecordMessage(previous.message).fields;
  if (previousFields === null) refuse("PARENTS_INVALID", `first parent ${previousSha} is not a record`);
  if (
    previousFields.repository.toLowerCase() !== fields.repository.toLowerCase() ||
    previousFields.environment !== fields.environment ||
    previousFields.sequence !== fields.sequence - 1
  ) {
    refuse(
      "PARENTS_INVALID",
      `first parent is record #${previousFields.sequence} of ${previousFields.repository}/${previousFields.environment}, ` +
        `expected #${fields.sequence - 1} of ${fields.repository}/${fields.environment}`,
    );
  }
  return previousFields;
}

/**
 * A refresh re-issues the previous record's source: the refresh paragraph and the parents must agree
 * (a body saying "nothing new to deploy" over a new source would mislead whoever reads it). A record
 * naming its previous record's source commit is a refresh either way: nothing new to deploy.
 */
export function checkRefresh(
  fields: RecordFields,
  refreshOf: number | null,
  previous: RecordFields | null,
): boolean {
  const sameSource =
    previous !== null &&
    previous.sourceCommit === fields.sourceCommit &&
    previous.sourceTree === fields.sourceTree;
  if (refreshOf !== null && !sameSource) {
    refuse(
      "PARENTS_INVALID",
      `record #${fields.sequence} says it refreshes #${refreshOf} but names another source commit than it`,
    );
  }
  return sameSource;
}

/**
 * A refresh re-issues its previous record, marks included: a refresh of a break-glass record is
 * break-glass too (else one refresh would launder the emergency tree past --refuse-break-glass),
 * and a refresh of a promotion names the same source record.
 */
export function checkRefreshMarks(
  fields: RecordFields,
  previous: RecordFields | null,
  refresh: boolean,
): void {
  if (!refresh || previous === null) return;
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!same(fields.breakGlass, previous.breakGlass) || !same(fields.promotedFrom, previous.promotedFrom)) {
    refuse(
      "PARENTS_INVALID",
      `record #${fields.sequence} re-issues #${previous.sequence}'s source but not its break-glass and promotion marks`,
    );
  }
}

/** With refuseBreakGlass, a break-glass record is not deployed. */
export function checkBreakGlass(fields: RecordFields, ctx: RecordVerificationContext): void {
  if (ctx.refuseBreakGlass !== true || fields.breakGlass === undefined) return;
  refuse(
    "BREAK_GLASS_REFUSED",
    `record #${fields.sequence} (PR #${fields.pullRequest}) passed through break-glass on the approvals of ` +
      `${fields.breakGlass.approvedBy.map((login) => `@${login}`).join(", ")}, and --refuse-break-glass is set`,
  );
}

/** The record's tree is the named source tree, which is the named source commit's tree. */
export function checkTree(commit: RawCommit, fields: RecordFields, input: RecordVerificationInput): void {
  if (commit.tree !== fields.sourceTree) {
    refuse("TREE_MISMATCH", `record tree ${commit.tree} is not Pullgate-Source-Tree ${fields.sourceTree}`);
  }
  if (input.sourceCommitTree === null) {
    refuse("TREE_MISMATCH", `source commit ${fields.sourceCommit} is not available`);
  }
  if (input.sourceCommitTree !== fields.sourceTree) {
    refuse("TREE_MISMATCH", `source commit's tree ${input.sourceCommitTree} is not ${fields.sourceTree}`);
  }
}

/** Not issued in the future, not older than max-age. */
export function checkFreshness(fields: RecordFields, ctx: RecordVerificationContext): void {
  const issued = parseIssuedAt(fields.issuedAt);
  if (issued === null) refuse("MALFORMED_RECORD", "unreadable Pullgate-Issued-At");
  const now = ctx.now.getTime();
  if (issued - now > (ctx.maxClockSkewMs ?? DEFAULT_SKEW_MS)) {
    refuse("ISSUED_IN_FUTURE", `issued at ${fields.issuedAt}, now is ${ctx.now.toISOString()}`);
  }
  if (ctx.maxAgeMs !== null && now - issued > ctx.maxAgeMs) {
    refuse("EXPIRED", `issued at ${fields.issuedAt}, more than ${Math.round(ctx.maxAgeMs / 1000)}s ago`);
  }
}

/** Above the last accepted sequence; returns true when it IS the last accepted record. */
export function checkSequence(
  input: RecordVerificationInput,
  fields: RecordFields,
  ctx: RecordVerificationContext,
): boolean {
  const last = ctx.lastAccepted;
  if (last === null) return false;
  if (input.recordCommit === last.recordCommit) {
    if (fields.sequence !== last.sequence) {
      refuse(
        "SEQUENCE_NOT_INCREASING",
        `state says #${last.sequence} for this record, it says #${fields.sequence}`,
      );
    }
    return true;
  }
  if (fields.sequence <= last.sequence) {
    refuse(
      "SEQUENCE_NOT_INCREASING",
      `record #${fields.sequence} is not above last accepted #${last.sequence}`,
    );
  }
  return false;
}

/** The last accepted record is in this record's history (no fork, no rollback to a side chain). */
export function checkDescent(input: RecordVerificationInput, ctx: RecordVerificationContext): void {
  if (ctx.lastAccepted === null) return;
  if (input.descendsFromLastAccepted !== true) {
    refuse("NOT_DESCENDANT", `last accepted record ${ctx.lastAccepted.recordCommit} is not an ancestor`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
