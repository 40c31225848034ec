/**
 * Raw git commit objects as records need them: the exact text, its object id, the gpgsig signature
 * and the bytes it signs. The byte-level work (header and continuation parsing, git's signed-payload
 * split, the object id) is the core's (src/core/signatures/commit.ts, which follows git's commit.c);
 * this module adds what records need on top: string in and out, identities parsed into their parts,
 * and extra strictness (records are machine-made, so anything unusual is refused).
 */

import { commitSha as objectId, parseCommit } from "../core/signatures/commit.js";

export interface GitIdentity {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** "+0000", "-0130", ... */
  timezone: string;
}

export interface RawCommit {
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  /** The armored signature (continuation spaces removed), or null when the commit is unsigned. */
  gpgsig: string | null;
  /** Headers other than tree/parent/author/committer/gpgsig, in order (e.g. encoding, mergetag). */
  otherHeaders: { name: string; value: string }[];
  message: string;
  /** The object text without the gpgsig header: exactly what the signature covers. */
  signedPayload: string;
}

export class RawCommitError extends Error {
  override readonly name = "RawCommitError";
}

const IDENTITY = /^(.*) <([^<>\n]*)> (\d{1,15}) ([+-]\d{4})$/;
const encoder = new TextEncoder();
// The bytes always come from a JS string here, so they are valid UTF-8; keep a leading BOM as text.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const text = (bytes: Uint8Array) => decoder.decode(bytes);

/** git's object id of a commit: sha1("commit <byte length>\0" + text). */
export function commitSha(raw: string): string {
  return objectId(encoder.encode(raw));
}

export function formatIdentity(identity: GitIdentity): string {
  return `${identity.name} <${identity.email}> ${identity.timestamp} ${identity.timezone}`;
}

function parseIdentity(value: string, header: string): GitIdentity {
  const m = IDENTITY.exec(value);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined || m[4] === undefined) {
    throw new RawCommitError(`malformed ${header} line`);
  }
  return { name: m[1], email: m[2], timestamp: Number(m[3]), timezone: m[4] };
}

/**
 * Parses a raw commit. Throws RawCommitError on anything that is not a well-formed commit in
 * canonical header order (tree, parent*, author, committer, then other headers), on more than one
 * gpgsig header, and on any other signature header (gpgsig-sha256, ...): git would treat those as
 * signatures too, and a record has exactly one.
 */
export function parseRawCommit(raw: string): RawCommit {
  const parsed = parseCommit(encoder.encode(raw));
  if (!parsed.ok) throw new RawCommitError(parsed.reason);
  const commit = parsed.commit;
  if (commit.signatureHeaders > 1) throw new RawCommitError("more than one gpgsig header");
  // Headers after tree, parents, author and committer (the core checked that order).
  const rest = commit.headers.slice(commit.parents.length + 3);
  const otherSignature = rest.find((h) => h.name.startsWith("gpgsig") && h.name !== "gpgsig");
  if (otherSignature !== undefined) throw new RawCommitError(`unexpected ${otherSignature.name} header`);
  return {
    tree: commit.tree,
    parents: commit.parents,
    author: parseIdentity(commit.author, "author"),
    committer: parseIdentity(commit.committer, "committer"),
    gpgsig: commit.signature === null ? null : text(commit.signature),
    otherHeaders: rest
      .filter((h) => h.name !== "gpgsig")
      .map((h) => ({ name: h.name, value: text(h.value) })),
    message: text(commit.message),
    signedPayload: text(commit.payload),
  };
}
