/**
 * A small, strict parser for raw git commit objects (what `git cat-file commit` prints), enough to
 * verify records: headers, the gpgsig signature and the exact bytes it signs.
 *
 * A general commit parser for signature verification lives in src/core/signatures; this one is kept
 * deliberately narrow (records are machine-made, so anything unusual is refused) until the two merge.
 */

import { createHash } from "node:crypto";

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

const SHA1 = /^[0-9a-f]{40}$/;
const IDENTITY = /^(.*) <([^<>\n]*)> (\d{1,15}) ([+-]\d{4})$/;

/** git's object id of a commit: sha1("commit <byte length>\0" + text). */
export function commitSha(raw: string): string {
  const body = Buffer.from(raw, "utf8");
  return createHash("sha1")
    .update(Buffer.from(`commit ${body.length}\0`, "utf8"))
    .update(body)
    .digest("hex");
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
 * canonical header order (tree, parent*, author, committer, then other headers).
 */
export function parseRawCommit(raw: string): RawCommit {
  const split = raw.indexOf("\n\n");
  if (split < 0) throw new RawCommitError("commit has no blank line between headers and message");
  const headerText = raw.slice(0, split);
  const message = raw.slice(split + 2);

  // Group continuation lines (" ...") with their header, remembering each header's exact text so the
  // signed payload is the object with the gpgsig header's lines removed and nothing else changed.
  const headers: { name: string; value: string; text: string }[] = [];
  for (const line of headerText.split("\n")) {
    if (line.startsWith(" ")) {
      const last = headers[headers.length - 1];
      if (last === undefined) throw new RawCommitError("continuation line before any header");
      last.value += "\n" + line.slice(1);
      last.text += "\n" + line;
      continue;
    }
    const space = line.indexOf(" ");
    if (space <= 0) throw new RawCommitError(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
    headers.push({ name: line.slice(0, space), value: line.slice(space + 1), text: line });
  }

  let i = 0;
  const next = () => headers[i];
  const tree = next();
  if (tree?.name !== "tree" || !SHA1.test(tree.value)) throw new RawCommitError("missing or malformed tree");
  i++;
  const parents: string[] = [];
  while (next()?.name === "parent") {
    const value = next()?.value ?? "";
    if (!SHA1.test(value)) throw new RawCommitError("malformed parent");
    parents.push(value);
    i++;
  }
  const authorHeader = next();
  if (authorHeader?.name !== "author") throw new RawCommitError("missing author");
  const author = parseIdentity(authorHeader.value, "author");
  i++;
  const committerHeader = next();
  if (committerHeader?.name !== "committer") throw new RawCommitError("missing committer");
  const committer = parseIdentity(committerHeader.value, "committer");
  i++;

  let gpgsig: string | null = null;
  const otherHeaders: { name: string; value: string }[] = [];
  const kept: string[] = [];
  for (const [index, header] of headers.entries()) {
    if (index < i) {
      kept.push(header.text);
      continue;
    }
    if (["tree", "parent", "author", "committer"].includes(header.name)) {
      throw new RawCommitError(`header ${header.name} out of place`);
    }
    if (header.name === "gpgsig") {
      if (gpgsig !== null) throw new RawCommitError("more than one gpgsig header");
      gpgsig = header.value;
      continue;
    }
    if (header.name === "gpgsig-sha256") throw new RawCommitError("unexpected gpgsig-sha256 header");
    otherHeaders.push({ name: header.name, value: header.value });
    kept.push(header.text);
  }

  return {
    tree: tree.value,
    parents,
    author,
    committer,
    gpgsig: gpgsig === null ? null : gpgsig.endsWith("\n") ? gpgsig : gpgsig + "\n",
    otherHeaders,
    message,
    signedPayload: kept.join("\n") + "\n\n" + message,
  };
}
