import {
  parseSshPublicKey,
  SshReader,
  sshFingerprint,
  SshWireError,
  unsupportedKeyType,
} from "./ssh-wire.js";

/**
 * OpenSSH allowed_signers files (ssh-keygen(1) "ALLOWED SIGNERS"), parsed as OpenSSH 9.x's
 * sshsig.c does:
 *   principals [options] keytype base64-key [comment]
 * - principals: comma-separated patterns (`*`, `?`, `!negation`), may be double-quoted;
 * - options: `cert-authority`, `namespaces="git,..."`, `valid-after="YYYYMMDD[HHMM[SS]][Z]"`,
 *   `valid-before=...` (option names case-insensitive); anything else makes the line invalid;
 * - an invalid line is skipped (OpenSSH logs it and goes on), a `#` line or a blank one is a
 *   comment.
 * Times without a trailing Z are local time in OpenSSH; pullgate reads them as UTC (its servers
 * run in UTC) and says so in the README.
 */

export interface AllowedSigner {
  line: number;
  /** The principals field as written (comma-separated patterns). */
  principals: string;
  certAuthority: boolean;
  /** Raw namespaces pattern list, or null when the option is absent. */
  namespaces: string | null;
  /** Seconds since the epoch, or null. */
  validAfter: number | null;
  validBefore: number | null;
  keyType: string;
  keyBlob: Uint8Array;
  /** Canonical key material used for equality (SPKI DER for supported keys, the blob otherwise). */
  keyId: string;
  fingerprint: string;
}

export interface AllowedSignersFile {
  entries: AllowedSigner[];
  /** Lines OpenSSH would skip as invalid, with why. */
  errors: Array<{ line: number; message: string }>;
}

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ssh-dss",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ecdsa-sha2-nistp256@openssh.com",
  "sk-ssh-ed25519@openssh.com",
  "ssh-ed25519-cert-v01@openssh.com",
  "ssh-rsa-cert-v01@openssh.com",
  "ecdsa-sha2-nistp256-cert-v01@openssh.com",
  "ecdsa-sha2-nistp384-cert-v01@openssh.com",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com",
  "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
  "sk-ssh-ed25519-cert-v01@openssh.com",
]);

const WHITESPACE = " \t\r\n";

/** OpenSSH match_pattern: `*` any run, `?` any one character, everything else literal. */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === "?" || pattern[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === "*") {
      starP = pi++;
      starS = si;
    } else if (starP !== -1) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < pattern.length && pattern[pi] === "*") pi++;
  return pi === pattern.length;
}

/** OpenSSH match_pattern_list: 1 on a positive match, -1 when a negated pattern matches, 0 otherwise. */
export function matchPatternList(s: string, list: string): -1 | 0 | 1 {
  let positive = false;
  for (const raw of list.split(",")) {
    if (raw === "") continue;
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern.length >= 1023) return 0;
    if (matchPattern(s, pattern)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** strdelimw: the next whitespace-delimited token, with OpenSSH's double-quote handling. */
function nextToken(line: string, at: number): { token: string; rest: number } | null {
  let i = at;
  let token = "";
  while (i < line.length && !WHITESPACE.includes(line[i]!) && line[i] !== '"') token += line[i++];
  if (i >= line.length) return null; // OpenSSH: no delimiter after the principals means no key
  if (line[i] === '"') {
    const close = line.indexOf('"', i + 1);
    if (close === -1) return null;
    token += line.slice(i + 1, close);
    i = close + 1;
  } else i++;
  while (i < line.length && WHITESPACE.includes(line[i]!)) i++;
  return { token, rest: i };
}

/** sshkey_read: "keytype base64 [comment]" at the start of `text`; null when it is not a key. */
function readKey(text: string): { type: string; blob: Uint8Array } | null {
  const m = /^([^ \t]+)[ \t]+([A-Za-z0-9+/=]+)(?:[ \t\r\n]|$)/.exec(text);
  if (m === null || !KEY_TYPES.has(m[1]!)) return null;
  const b64 = m[2]!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  const blob = Uint8Array.from(Buffer.from(b64, "base64"));
  try {
    if (new SshReader(blob).ascii() !== m[1]) return null;
  } catch {
    return null;
  }
  return { type: m[1]!, blob };
}

/** sshkey_advance_past_options: index of the first unquoted space/tab, or -1 for an unterminated quote. */
function advancePastOptions(text: string): number {
  let quoted = false;
  let i = 0;
  for (; i < text.length && (quoted || (text[i] !== " " && text[i] !== "\t")); i++) {
    if (text[i] === "\\" && text[i + 1] === '"') i++;
    else if (text[i] === '"') quoted = !quoted;
  }
  return i >= text.length && quoted ? -1 : i;
}

/** OpenSSH parse_absolute_time; local times are read as UTC (see the module comment). */
export function parseAbsoluteTime(value: string): number | null {
  let s = value;
  if (s.length > 1 && /z$/i.test(s)) s = s.slice(0, -1);
  else if (s.length > 3 && /utc$/i.test(s)) s = s.slice(0, -3);
  if (![8, 12, 14].includes(s.length) || !/^\d+$/.test(s)) return null;
  const n = (from: number, len: number) => (s.length >= from + len ? Number(s.slice(from, from + len)) : 0);
  const [y, mo, d, h, mi, se] = [n(0, 4), n(4, 2), n(6, 2), n(8, 2), n(10, 2), n(12, 2)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 61) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se) / 1000;
  if (!Number.isFinite(t) || t < 0) return null;
  return t;
}

interface Options {
  certAuthority: boolean;
  namespaces: string | null;
  validAfter: number | null;
  validBefore: number | null;
}

/** opt_dequote: a double-quoted value with \" escapes. */
function dequote(text: string, at: number): { value: string; next: number } | string {
  if (text[at] !== '"') return "missing start quote";
  let value = "";
  let i = at + 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === "\\" && text[i + 1] === '"') i++;
    value += text[i];
  }
  if (i >= text.length) return "missing end quote";
  return { value, next: i + 1 };
}

/** sshsigopt_parse. */
function parseOptions(opts: string): Options | string {
  const out: Options = { certAuthority: false, namespaces: null, validAfter: null, validBefore: null };
  let i = 0;
  const startsWithCi = (word: string) => opts.slice(i, i + word.length).toLowerCase() === word;
  while (i < opts.length && opts[i] !== " " && opts[i] !== "\t") {
    if (startsWithCi("cert-authority")) {
      out.certAuthority = true;
      i += "cert-authority".length;
    } else {
      let matched = false;
      for (const name of ["namespaces", "valid-after", "valid-before"] as const) {
        if (!startsWithCi(name) || opts[i + name.length] !== "=") continue;
        matched = true;
        const q = dequote(opts, i + name.length + 1);
        if (typeof q === "string") return q;
        i = q.next;
        if (name === "namespaces") {
          if (out.namespaces !== null) return 'multiple "namespaces" clauses';
          out.namespaces = q.value;
        } else {
          const t = parseAbsoluteTime(q.value);
          if (t === null || t === 0) return `invalid "${name}" time`;
          const key = name === "valid-after" ? "validAfter" : "validBefore";
          if (out[key] !== null) return `multiple "${name}" clauses`;
          out[key] = t;
        }
        break;
      }
      if (!matched) return "unknown key option";
    }
    if (i >= opts.length || opts[i] === " " || opts[i] === "\t") break;
    if (opts[i] !== ",") return "unknown key option";
    i++;
    if (i >= opts.length) return "unexpected end-of-options";
  }
  if (out.validAfter !== null && out.validBefore !== null && out.validBefore <= out.validAfter)
    return '"valid-before" time is before "valid-after"';
  return out;
}

function keyIdentity(type: string, blob: Uint8Array): string {
  if (unsupportedKeyType(type) === null) {
    try {
      const key = parseSshPublicKey(blob);
      return `${type}:${Buffer.from(key.key.export({ format: "der", type: "spki" })).toString("base64")}`;
    } catch (error) {
      if (!(error instanceof SshWireError)) throw error;
    }
  }
  return `${type}:blob:${Buffer.from(blob).toString("base64")}`;
}

/** Canonical identity of a public key blob, comparable with AllowedSigner.keyId. */
export function sshKeyIdentity(blob: Uint8Array): string {
  try {
    return keyIdentity(new SshReader(blob).ascii(), blob);
  } catch {
    return `invalid:blob:${Buffer.from(blob).toString("base64")}`;
  }
}

function parseLine(text: string, lineNo: number): AllowedSigner | string | null {
  let at = 0;
  while (at < text.length && WHITESPACE.includes(text[at]!)) at++;
  if (at >= text.length || text[at] === "#") return null;
  const principal = nextToken(text, at);
  if (principal === null) return "invalid line";
  let rest = text.slice(principal.rest);
  let key = readKey(rest);
  let options: Options = { certAuthority: false, namespaces: null, validAfter: null, validBefore: null };
  if (key === null) {
    const end = advancePastOptions(rest);
    if (end === -1) return "invalid options";
    const opts = rest.slice(0, end);
    rest = rest.slice(end);
    if (rest === "") return "missing key";
    rest = rest.slice(1).replace(/^[ \t]+/, "");
    key = readKey(rest);
    if (key === null) return "invalid key";
    const parsed = parseOptions(opts);
    if (typeof parsed === "string") return `bad options: ${parsed}`;
    options = parsed;
  }
  return {
    line: lineNo,
    principals: principal.token,
    ...options,
    keyType: key.type,
    keyBlob: key.blob,
    keyId: keyIdentity(key.type, key.blob),
    fingerprint: sshFingerprint(key.blob),
  };
}

/** Parses an allowed_signers file; never throws. */
export function parseAllowedSigners(text: string): AllowedSignersFile {
  const entries: AllowedSigner[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const result = parseLine(line, index + 1);
    if (result === null) return;
    if (typeof result === "string") errors.push({ line: index + 1, message: result });
    else entries.push(result);
  });
  return { entries, errors };
}

function timeValid(entry: AllowedSigner, verifyTime: number): boolean {
  if (entry.validAfter !== null && verifyTime < entry.validAfter) return false;
  if (entry.validBefore !== null && verifyTime > entry.validBefore) return false;
  return true;
}

/**
 * `ssh-keygen -Y find-principals`: the principals of the FIRST line whose key equals the
 * signing key and that is valid at verifyTime (namespaces are not checked here), split on commas.
 */
export function findPrincipals(file: AllowedSignersFile, keyId: string, verifyTime: number): string[] {
  for (const entry of file.entries) {
    if (entry.certAuthority || entry.keyId !== keyId) continue;
    if (!timeValid(entry, verifyTime)) continue;
    return entry.principals.split(",").filter((p) => p !== "");
  }
  return [];
}

/**
 * `ssh-keygen -Y verify -I principal -n namespace` (sshsig_check_allowed_keys): is there a line
 * listing this principal, with this key, allowing this namespace, valid at verifyTime?
 */
export function checkAllowedKey(
  file: AllowedSignersFile,
  keyId: string,
  principal: string,
  namespace: string,
  verifyTime: number,
): AllowedSigner | null {
  for (const entry of file.entries) {
    if (matchPatternList(principal, entry.principals) !== 1) continue;
    if (entry.certAuthority || entry.keyId !== keyId) continue;
    if (entry.namespaces !== null && matchPatternList(namespace, entry.namespaces) !== 1) continue;
    if (!timeValid(entry, verifyTime)) continue;
    return entry;
  }
  return null;
}
