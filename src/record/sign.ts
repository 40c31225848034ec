/**
 * Signs record commits: an armored, detached, binary-mode OpenPGP signature over the exact commit
 * text (what `git commit -S` makes and `git verify-commit` checks), inserted as the gpgsig header.
 */

import * as openpgp from "openpgp";
import {
  buildRecordCommit,
  insertGpgsig,
  type RecordCommitInput,
  type UnsignedRecordCommit,
} from "./commit.js";
import { fingerprintOf } from "./keys.js";
import { commitSha } from "./raw-commit.js";

/**
 * An armored detached signature over the payload's UTF-8 bytes. Binary mode (signature type 0x00),
 * never text mode: text mode canonicalises line endings, and git verifies the exact bytes.
 */
export async function signCommitPayload(
  payload: string,
  signingKey: openpgp.PrivateKey,
  date?: Date,
): Promise<string> {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(payload) });
  return openpgp.sign({
    message,
    signingKeys: signingKey,
    detached: true,
    format: "armored",
    ...(date === undefined ? {} : { date }),
  });
}

export interface SignedRecordCommit extends UnsignedRecordCommit {
  /** The armored detached signature (the API's `signature` parameter). */
  signature: string;
  /** The commit object text with the gpgsig header. */
  signedRaw: string;
  /** The record commit's SHA: git's object id of signedRaw. */
  sha: string;
}

/**
 * Builds and signs a record. Refuses to sign when the key in the fields is not the signing key: a
 * record naming another key would be refused by every agent.
 */
export async function signRecord(
  input: RecordCommitInput,
  signingKey: openpgp.PrivateKey,
): Promise<SignedRecordCommit> {
  const fingerprint = fingerprintOf(signingKey);
  if (input.fields.key !== fingerprint) {
    throw new Error(`record names key ${input.fields.key} but is signed with ${fingerprint}`);
  }
  const unsigned = buildRecordCommit(input);
  // The signature's creation time is the record's issue time: the commit's dates, trailer and
  // signature then all tell the same time (and tests are reproducible up to the signature's salt).
  const signature = await signCommitPayload(
    unsigned.raw,
    signingKey,
    new Date(unsigned.author.timestamp * 1000),
  );
  const signedRaw = insertGpgsig(unsigned.raw, signature);
  return { ...unsigned, signature, signedRaw, sha: commitSha(signedRaw) };
}

/**
 * The body of `POST /repos/{owner}/{repo}/git/commits` for a signed record. Dates are explicit (the
 * signature covers them) and the message is sent byte for byte; GitHub then stores exactly
 * `signedRaw`, so the returned commit SHA must equal `sha` — the publisher should check that.
 */
export function githubCreateCommitRequest(record: SignedRecordCommit): {
  message: string;
  tree: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  signature: string;
} {
  return {
    message: record.message,
    tree: record.tree,
    parents: record.parents,
    author: { name: record.author.name, email: record.author.email, date: record.date },
    committer: { name: record.committer.name, email: record.committer.email, date: record.date },
    signature: record.signature,
  };
}
