/** Parsing and writing git commit objects byte-for-byte (the signed payload depends on it). */

export interface GitIdent {
  name: string;
  email: string;
  /** Unix seconds. */
  seconds: number;
  /** git's `+hhmm` / `-hhmm`. */
  tz: string;
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  author: GitIdent;
  committer: GitIdent;
  message: string;
  /** The armored signature from the `gpgsig` header (OpenPGP or SSH), unfolded; null if unsigned. */
  signature: string | null;
  /** The commit text without the signature header: exactly what the signature covers. */
  payload: string;
}

const IDENT = /^(.*?) ?<([^<>]*)> (-?\d+) ([+-]\d{4})$/;

export function parseIdent(value: string): GitIdent {
  const m = IDENT.exec(value);
  if (m === null) return { name: value, email: "", seconds: 0, tz: "+0000" };
  return { name: m[1] ?? "", email: m[2] ?? "", seconds: Number(m[3]), tz: m[4] ?? "+0000" };
}

export function formatIdent(ident: GitIdent): string {
  return `${ident.name} <${ident.email}> ${ident.seconds} ${ident.tz}`;
}

/** Parses a raw commit object (as `git cat-file commit` prints it). */
export function parseCommit(raw: string): ParsedCommit {
  const split = raw.indexOf("\n\n");
  const headerText = split === -1 ? raw : raw.slice(0, split);
  const message = split === -1 ? "" : raw.slice(split + 2);
  const lines = headerText.split("\n");
  const headers: { key: string; value: string }[] = [];
  const payloadLines: string[] = [];
  let inSignature = false;
  for (const line of lines) {
    if (line.startsWith(" ") && headers.length > 0) {
      const last = headers[headers.length - 1];
      if (last !== undefined) last.value += `\n${line.slice(1)}`;
      if (!inSignature) payloadLines.push(line);
      continue;
    }
    const space = line.indexOf(" ");
    const key = space === -1 ? line : line.slice(0, space);
    headers.push({ key, value: space === -1 ? "" : line.slice(space + 1) });
    inSignature = key === "gpgsig";
    if (!inSignature) payloadLines.push(line);
  }
  const get = (key: string): string | undefined => headers.find((h) => h.key === key)?.value;
  const sig = get("gpgsig");
  return {
    tree: get("tree") ?? "",
    parents: headers.filter((h) => h.key === "parent").map((h) => h.value),
    author: parseIdent(get("author") ?? ""),
    committer: parseIdent(get("committer") ?? ""),
    message,
    signature: sig === undefined ? null : `${sig}\n`,
    payload: split === -1 ? payloadLines.join("\n") : `${payloadLines.join("\n")}\n\n${message}`,
  };
}

export interface CommitInput {
  tree: string;
  parents: string[];
  author: GitIdent;
  committer: GitIdent;
  message: string;
}

/** The commit text without a signature: what a signer signs. */
export function commitPayload(input: CommitInput): string {
  const lines = [`tree ${input.tree}`, ...input.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${formatIdent(input.author)}`, `committer ${formatIdent(input.committer)}`);
  return `${lines.join("\n")}\n\n${input.message}`;
}

/** The commit text with a `gpgsig` header folded the way git writes it (continuation lines start with a space). */
export function signedCommitText(input: CommitInput, signature: string): string {
  const lines = [`tree ${input.tree}`, ...input.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${formatIdent(input.author)}`, `committer ${formatIdent(input.committer)}`);
  const folded = signature.replace(/\r\n/g, "\n").replace(/\n+$/, "").split("\n").join("\n ");
  lines.push(`gpgsig ${folded}`);
  return `${lines.join("\n")}\n\n${input.message}`;
}

/** `2024-01-02T03:04:05+02:00` → git's seconds and `+0200`; null if it is not ISO 8601. */
export function isoToGitDate(iso: string): { seconds: number; tz: string } | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(iso);
  if (m === null) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const zone = m[4] ?? "Z";
  const tz = zone === "Z" ? "+0000" : zone.replace(":", "");
  return { seconds: Math.floor(ms / 1000), tz };
}

/** git seconds → GitHub's ISO 8601 UTC with `Z`. */
export function gitDateToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Names and emails git cannot store in an ident line. */
export function invalidIdentPart(value: string): boolean {
  return /[<>\n\0]/.test(value);
}
