import { createHash } from "node:crypto";

/**
 * Raw git commit objects, byte for byte. Everything here works on Uint8Array: the signed payload
 * must be exactly the bytes git hands to gpg / ssh-keygen, whatever the encoding of names and
 * messages.
 *
 * git's rules (commit.c, parse_buffer_signed_by_header / add_header_signature):
 * - headers run up to the first empty line; a line starting with a space continues the header
 *   above it;
 * - the signature lives in the `gpgsig` header (SHA-1 repositories) or `gpgsig-sha256`
 *   (SHA-256 repositories), armored text with every line after the first indented by one space;
 * - the signed payload is the object with the signature header and its continuation lines
 *   removed; any *other* header starting with "gpgsig" (the other hash algorithm's signature) is
 *   removed too; everything else, message included, is kept byte for byte;
 * - several signature headers are concatenated into one signature buffer.
 */

export type ObjectFormat = "sha1" | "sha256";

export interface CommitHeader {
  name: string;
  /** Value bytes: the rest of the first line plus continuation lines (leading space removed), newlines kept, last newline dropped. */
  value: Uint8Array;
}

export interface ParsedCommit {
  raw: Uint8Array;
  tree: string;
  parents: string[];
  /** The raw `author` / `committer` header values ("Name <email> 1700000000 +0000"), decoded as UTF-8. */
  author: string;
  committer: string;
  authorEmail: string | null;
  committerEmail: string | null;
  /** Committer timestamp in seconds since the epoch, when parsable (git uses it as the SSH verify-time). */
  committerTime: number | null;
  encoding: string | null;
  headers: CommitHeader[];
  /** The concatenated signature buffer exactly as git builds it (leading spaces removed), or null when unsigned. */
  signature: Uint8Array | null;
  /** How many signature headers (of this object format's name) the object has. */
  signatureHeaders: number;
  /** The exact bytes git verifies the signature against. */
  payload: Uint8Array;
  message: Uint8Array;
}

export type ParseResult = { ok: true; commit: ParsedCommit } | { ok: false; reason: string };

const NL = 0x0a;
const SPACE = 0x20;
const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const SIGNATURE_HEADER: Record<ObjectFormat, string> = { sha1: "gpgsig", sha256: "gpgsig-sha256" };

function startsWithAscii(bytes: Uint8Array, at: number, prefix: string): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

function lineEnd(bytes: Uint8Array, from: number): number {
  const nl = bytes.indexOf(NL, from);
  return nl === -1 ? bytes.length : nl + 1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * Splits a commit buffer into (payload, signature) exactly like git's
 * parse_buffer_signed_by_header. Works on any bytes; returns signature null when no signature
 * header of this object format exists.
 */
export function splitSignedPayload(
  raw: Uint8Array,
  format: ObjectFormat = "sha1",
): { payload: Uint8Array; signature: Uint8Array | null; signatureHeaders: number } {
  const header = SIGNATURE_HEADER[format];
  const payload: Uint8Array[] = [];
  const signature: Uint8Array[] = [];
  let inSignature = false;
  let otherSignature = false;
  let sawSignature = false;
  let headers = 0;
  let line = 0;
  while (line < raw.length) {
    let next = lineEnd(raw, line);
    let sigStart = -1;
    if (inSignature && raw[line] === SPACE) sigStart = line + 1;
    else if (startsWithAscii(raw, line, header) && raw[line + header.length] === SPACE) {
      sigStart = line + header.length + 1;
      otherSignature = false;
      headers++;
    } else if (startsWithAscii(raw, line, "gpgsig")) otherSignature = true;
    else if (otherSignature && raw[line] !== SPACE) otherSignature = false;
    if (sigStart !== -1) {
      signature.push(raw.subarray(sigStart, next));
      sawSignature = true;
      inSignature = true;
    } else {
      // An empty line ends the headers: the rest of the buffer is payload as it is.
      if (raw[line] === NL) next = raw.length;
      if (!otherSignature) payload.push(raw.subarray(line, next));
      inSignature = false;
    }
    line = next;
  }
  return {
    payload: concat(payload),
    signature: sawSignature ? concat(signature) : null,
    signatureHeaders: headers,
  };
}

const IDENT = /^(.*) <([^<>]*)> (\d+) ([+-]\d{4})$/s;

function identEmail(value: string): string | null {
  const lt = value.lastIndexOf("<");
  const gt = value.indexOf(">", lt);
  if (lt === -1 || gt === -1) return null;
  return value.slice(lt + 1, gt);
}

/**
 * Parses a raw commit object. Stricter than git in one way only: it refuses objects git's fsck
 * would flag (missing tree/author/committer, bad parent lines, NUL bytes in headers, no blank
 * line after the headers), because a gate must never judge what it cannot read unambiguously.
 */
export function parseCommit(raw: Uint8Array, format: ObjectFormat = "sha1"): ParseResult {
  const hexRe = format === "sha1" ? HEX40 : HEX64;
  const headers: CommitHeader[] = [];
  let at = 0;
  let bodyStart = -1;
  while (at < raw.length) {
    if (raw[at] === NL) {
      bodyStart = at + 1;
      break;
    }
    const end = raw.indexOf(NL, at);
    if (end === -1) return { ok: false, reason: "malformed commit: headers not terminated by a blank line" };
    if (raw[at] === SPACE) {
      const last = headers[headers.length - 1];
      if (last === undefined)
        return { ok: false, reason: "malformed commit: continuation line before any header" };
      last.value = concat([last.value, Uint8Array.of(NL), raw.subarray(at + 1, end)]);
    } else {
      const lineBytes = raw.subarray(at, end);
      if (lineBytes.includes(0)) return { ok: false, reason: "malformed commit: NUL byte in headers" };
      const space = lineBytes.indexOf(SPACE);
      const name = utf8.decode(space === -1 ? lineBytes : lineBytes.subarray(0, space));
      const value = space === -1 ? new Uint8Array(0) : lineBytes.subarray(space + 1);
      headers.push({ name, value: Uint8Array.from(value) });
    }
    at = end + 1;
  }
  if (bodyStart === -1)
    return { ok: false, reason: "malformed commit: no blank line between headers and message" };

  let i = 0;
  const text = (h: CommitHeader | undefined) => (h === undefined ? "" : utf8.decode(h.value));
  if (headers[i]?.name !== "tree") return { ok: false, reason: "malformed commit: first header is not tree" };
  const tree = text(headers[i++]);
  if (!hexRe.test(tree)) return { ok: false, reason: "malformed commit: bad tree id" };
  const parents: string[] = [];
  while (headers[i]?.name === "parent") {
    const parent = text(headers[i++]);
    if (!hexRe.test(parent)) return { ok: false, reason: "malformed commit: bad parent id" };
    parents.push(parent);
  }
  if (headers[i]?.name !== "author")
    return { ok: false, reason: "malformed commit: missing author after tree/parents" };
  const author = text(headers[i++]);
  if (headers[i]?.name !== "committer")
    return { ok: false, reason: "malformed commit: missing committer after author" };
  const committer = text(headers[i++]);
  for (const h of headers.slice(i)) {
    if (["tree", "parent", "author", "committer"].includes(h.name))
      return { ok: false, reason: `malformed commit: misplaced or duplicate ${h.name} header` };
  }
  const encodings = headers.filter((h) => h.name === "encoding");
  if (encodings.length > 1) return { ok: false, reason: "malformed commit: duplicate encoding header" };
  const committerMatch = IDENT.exec(committer);
  const split = splitSignedPayload(raw, format);
  return {
    ok: true,
    commit: {
      raw,
      tree,
      parents,
      author,
      committer,
      authorEmail: identEmail(author),
      committerEmail: identEmail(committer),
      committerTime: committerMatch?.[3] !== undefined ? Number(committerMatch[3]) : null,
      encoding: encodings[0] === undefined ? null : text(encodings[0]),
      headers,
      signature: split.signature,
      signatureHeaders: split.signatureHeaders,
      payload: split.payload,
      message: raw.subarray(bodyStart),
    },
  };
}

/** The object id git gives this commit: hash of "commit <len>\0" + raw. */
export function commitSha(raw: Uint8Array, format: ObjectFormat = "sha1"): string {
  const hash = createHash(format === "sha1" ? "sha1" : "sha256");
  hash.update(`commit ${raw.length}\0`);
  hash.update(raw);
  return hash.digest("hex");
}

/**
 * Inserts a signature into a payload as git's add_header_signature does: before the blank line
 * that ends the headers (or at the end when there is none), first line prefixed with the header
 * name and a space, every other line with a space.
 */
export function insertSignatureHeader(
  payload: Uint8Array,
  signature: Uint8Array,
  format: ObjectFormat = "sha1",
): Uint8Array {
  const header = SIGNATURE_HEADER[format];
  let insertAt = payload.length;
  for (let i = 0; i + 1 < payload.length; i++) {
    if (payload[i] === NL && payload[i + 1] === NL) {
      insertAt = i + 1;
      break;
    }
  }
  const parts: Uint8Array[] = [payload.subarray(0, insertAt)];
  let copy = 0;
  const enc = new TextEncoder();
  while (copy < signature.length && signature[copy] !== 0) {
    const nl = signature.indexOf(NL, copy);
    const end = nl === -1 ? signature.length : nl + 1;
    if (copy === 0) parts.push(enc.encode(header));
    parts.push(Uint8Array.of(SPACE), signature.subarray(copy, end));
    copy = end;
  }
  parts.push(payload.subarray(insertAt));
  return concat(parts);
}

export type RebuildResult = { ok: true; raw: Uint8Array } | { ok: false; reason: string };

/**
 * Rebuilds the raw commit object from GitHub's `verification.payload` and `.signature` and checks
 * it hashes to the commit's SHA: the API's payload is only trusted once it is proven to be the
 * object. git's signatures always end with a newline; GitHub's API may drop it, so both forms are
 * tried and the hash decides. A JSON string cannot carry a non-UTF-8 commit (encoding header,
 * latin-1 message) faithfully: pass the payload's bytes when you have them; otherwise such a
 * commit simply fails the hash check (fail closed).
 */
export function rebuildFromGitHub(
  payload: string | Uint8Array,
  signature: string,
  expectedSha: string,
  format: ObjectFormat = "sha1",
): RebuildResult {
  const enc = new TextEncoder();
  const payloadBytes = typeof payload === "string" ? enc.encode(payload) : payload;
  const candidates = [signature];
  if (!signature.endsWith("\n")) candidates.push(signature + "\n");
  for (const candidate of candidates) {
    const raw = insertSignatureHeader(payloadBytes, enc.encode(candidate), format);
    if (commitSha(raw, format) === expectedSha.toLowerCase()) return { ok: true, raw };
  }
  return { ok: false, reason: `payload and signature from the API do not hash to commit ${expectedSha}` };
}
