/**
 * Is a commit the app's own approved-revision record? Judged from what the git/commits API returns,
 * never from the pusher's name: GitHub's `verification.payload` and `.signature` are rebuilt into
 * the raw object, which must hash to the commit's SHA (so nothing the API says is taken on trust),
 * then the record checks of src/record run on it: one OpenPGP signature by the app's key over the
 * exact bytes, a well-formed record message whose Pullgate-Key names that key, for this repository
 * and environment, with the parents a record has (docs/architecture.md, "Publishing records").
 *
 * Pure: no I/O; the adapter (chain-guard.ts) reads the commits.
 */
import { rebuildFromGitHub } from "../../core/signatures/commit.js";
import { RecordVerificationError } from "../../record/errors.js";
import type { RecordFields } from "../../record/format.js";
import { parseRawCommit, RawCommitError } from "../../record/raw-commit.js";
import {
  checkKeyTrailer,
  checkRecordMessage,
  checkRepositoryAndEnvironment,
  checkSignatureTime,
  verifySignature,
} from "../../record/verify.js";

/** The parts of `GET /repos/{o}/{r}/git/commits/{sha}` the judgement needs. */
export interface ApiCommit {
  sha: string;
  parents: string[];
  /** `verification.payload` / `.signature`: null when GitHub reports the commit unsigned. */
  payload: string | null;
  signature: string | null;
}

export interface RecordJudgeContext {
  /** The app's armored public key(s): a record is genuine only if one of them signed it. */
  keyring: string[];
  repository: string;
  environment: string;
  now: Date;
}

export type RecordJudgement =
  | { genuine: true; sha: string; fields: RecordFields; parents: string[] }
  | { genuine: false; sha: string; reason: string };

/** Whether `commit` is a record the app signed for this repository and environment, and why not. */
export async function judgeRecordCommit(
  commit: ApiCommit,
  ctx: RecordJudgeContext,
): Promise<RecordJudgement> {
  const no = (reason: string): RecordJudgement => ({ genuine: false, sha: commit.sha, reason });
  if (commit.payload === null || commit.signature === null) return no("it is not signed");
  const rebuilt = rebuildFromGitHub(commit.payload, commit.signature, commit.sha);
  if (!rebuilt.ok) return no(rebuilt.reason);
  try {
    const raw = parseRawCommit(new TextDecoder("utf-8", { ignoreBOM: true }).decode(rebuilt.raw));
    const verification = {
      keyring: ctx.keyring,
      repository: ctx.repository,
      environment: ctx.environment,
      lastAccepted: null,
      now: ctx.now,
      maxAgeMs: null,
    };
    const { signer, signedAt } = await verifySignature(raw, verification);
    const { fields } = checkRecordMessage(raw);
    checkKeyTrailer(fields, signer);
    checkSignatureTime(fields, signedAt, verification);
    checkRepositoryAndEnvironment(fields, verification);
    const parentsOk =
      fields.sequence === 1
        ? raw.parents.length === 1 && raw.parents[0] === fields.sourceCommit
        : raw.parents.length === 2 && raw.parents[1] === fields.sourceCommit;
    if (!parentsOk) return no(`record #${fields.sequence} does not have a record's parents`);
    if (raw.tree !== fields.sourceTree) return no("its tree is not the Pullgate-Source-Tree it names");
    return { genuine: true, sha: commit.sha, fields, parents: raw.parents };
  } catch (error) {
    if (error instanceof RecordVerificationError) return no(`${error.code}: ${error.message}`);
    if (error instanceof RawCommitError) return no(`malformed commit: ${error.message}`);
    throw error;
  }
}

/** The previous record in a chain: the first parent of record #n > 1, none for #1. */
export function previousRecordOf(record: { fields: RecordFields; parents: string[] }): string | null {
  return record.fields.sequence > 1 ? (record.parents[0] ?? null) : null;
}
