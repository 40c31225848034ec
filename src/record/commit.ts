/**
 * Builds the exact text of a record commit (docs/architecture.md, "Record contract"): the source commit's tree, parents
 * [previous record, source commit] (only the source commit for the first record), explicit author and
 * committer dates in UTC, and the record message. The app signs these exact bytes and sends the same
 * parts to `POST git/commits`, which rebuilds the same text; so every part is explicit here.
 */

import { insertSignatureHeader } from "../core/signatures/commit.js";
import { formatRecordMessage, parseIssuedAt, type FormatOptions, type RecordFields } from "./format.js";
import { commitSha, formatIdentity, type GitIdentity } from "./raw-commit.js";

export interface RecordIdentity {
  name: string;
  email: string;
}

export interface RecordCommitInput {
  fields: RecordFields;
  /** The current head of approved/<env>, or null for the first record (sequence 1). */
  previousRecord: string | null;
  /** Author and committer of the record (the app's bot identity). */
  identity: RecordIdentity;
  /** Optional body: human summary, JSON decision, Argo CD seal text. */
  format?: FormatOptions;
}

/** Everything `POST /repos/{o}/{r}/git/commits` needs, plus the raw text those parts produce. */
export interface UnsignedRecordCommit {
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  /** ISO date for the API's author.date / committer.date ("2026-11-22T02:00:00Z"). */
  date: string;
  message: string;
  /** The exact commit object text without a signature: what gets signed. */
  raw: string;
}

const SAFE_NAME = /^[^<>\n\0]+$/;
const SAFE_EMAIL = /^[^<>\s\0]+$/;

export function buildRecordCommit(input: RecordCommitInput): UnsignedRecordCommit {
  const { fields, previousRecord, identity } = input;
  if (fields.sequence === 1 && previousRecord !== null) {
    throw new Error("the first record (sequence 1) has no previous record");
  }
  if (fields.sequence > 1 && previousRecord === null) {
    throw new Error(`record #${fields.sequence} needs the previous record as its first parent`);
  }
  if (previousRecord !== null && !/^[0-9a-f]{40}$/.test(previousRecord)) {
    throw new Error("previousRecord must be a 40-hex commit SHA");
  }
  if (!SAFE_NAME.test(identity.name) || identity.name.trim() !== identity.name) {
    throw new Error("identity name must be non-empty, trimmed, without <, > or newlines");
  }
  if (!SAFE_EMAIL.test(identity.email)) throw new Error("identity email must not contain <, > or spaces");

  // formatRecordMessage validates every field (throws on a non-canonical one).
  const message = formatRecordMessage(fields, input.format);
  const issuedMs = parseIssuedAt(fields.issuedAt);
  if (issuedMs === null) throw new Error("issuedAt is not canonical");
  const person: GitIdentity = {
    name: identity.name,
    email: identity.email,
    timestamp: Math.floor(issuedMs / 1000),
    timezone: "+0000",
  };
  const parents = previousRecord === null ? [fields.sourceCommit] : [previousRecord, fields.sourceCommit];
  const raw = buildRawCommit({
    tree: fields.sourceTree,
    parents,
    author: person,
    committer: person,
    message,
  });
  return {
    tree: fields.sourceTree,
    parents,
    author: person,
    committer: { ...person },
    date: fields.issuedAt,
    message,
    raw,
  };
}

/**
 * The text git stores for a commit with these parts (no extra headers), optionally signed: the
 * layout `git commit-tree` and GitHub's `POST git/commits` produce. Exported so that anything that
 * must rebuild a commit from API parameters (the sandbox emulator) makes the very same bytes.
 */
export function buildRawCommit(parts: {
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
  /** Armored signature to embed as the gpgsig header. */
  signature?: string;
}): string {
  const raw =
    `tree ${parts.tree}\n` +
    parts.parents.map((p) => `parent ${p}\n`).join("") +
    `author ${formatIdentity(parts.author)}\n` +
    `committer ${formatIdentity(parts.committer)}\n` +
    `\n` +
    parts.message;
  return parts.signature === undefined ? raw : insertGpgsig(raw, parts.signature);
}

/**
 * Inserts an armored signature as the gpgsig header (after committer and any other headers, before
 * the blank line), each continuation line prefixed with one space, exactly as git writes it.
 */
export function insertGpgsig(raw: string, armoredSignature: string): string {
  const split = raw.indexOf("\n\n");
  if (split < 0) throw new Error("not a commit object: no blank line after the headers");
  if (/^gpgsig(-sha256)? /m.test(raw.slice(0, split + 1))) throw new Error("commit is already signed");
  // One trailing newline: the header's last line ends where the signature does.
  const signature = armoredSignature.replace(/\r\n/g, "\n").replace(/\n+$/, "") + "\n";
  const encoder = new TextEncoder();
  const signed = insertSignatureHeader(encoder.encode(raw), encoder.encode(signature));
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(signed);
}

export { commitSha };
