/**
 * The approved-revision record's commit message (docs/architecture.md, "Record contract"): a subject
 * line, an optional body (human text and/or a fenced JSON decision block for offline audit), and a
 * LAST paragraph made only of git trailers, so `git interpret-trailers --parse` reads exactly the
 * record's fields (test/record/trailers.git.test.ts checks that against git).
 *
 * A refresh record (the same source re-issued as proof of freshness) keeps `Pullgate-Record: 1` and
 * the same trailers, so agents already deployed accept it; its body starts with the fixed refresh
 * paragraph (refreshSummary), which the parser reads and the verifier checks against the parents.
 *
 * Formatting is total over valid fields and parsing is strict: every required trailer exactly once
 * (Approved-By at least once), every value in its canonical form, no unknown trailer. A parser that
 * tolerated variants would let two different messages mean the same record, or one message mean
 * different things to us and to git.
 */

export const RECORD_VERSION = "1";

/** Trailer keys, spelled exactly as the contract spells them. */
export const TRAILER = {
  record: "Pullgate-Record",
  repository: "Pullgate-Repository",
  environment: "Pullgate-Environment",
  branch: "Pullgate-Branch",
  sequence: "Pullgate-Sequence",
  sourceCommit: "Pullgate-Source-Commit",
  sourceTree: "Pullgate-Source-Tree",
  pullRequest: "Pullgate-Pull-Request",
  approvedBy: "Pullgate-Approved-By",
  policyDigest: "Pullgate-Policy-Digest",
  issuedAt: "Pullgate-Issued-At",
  key: "Pullgate-Key",
  /**
   * Argo CD 3.5+ source integrity, `strict` mode: a correctly signed commit whose message carries this
   * trailer is a "seal" — Argo CD verifies history only back to the newest seal. Every record is a seal
   * (the app reviewed everything it approves), so strict mode verifies the record alone and does not
   * walk into the source history, whose commits are signed by people, not by the app.
   */
  argocdSeal: "Argocd-gpg-seal",
} as const;

/** The record's fields: one per trailer. */
export interface RecordFields {
  /** owner/name of the GitHub repository the record approves a revision of. */
  repository: string;
  /** Deployment environment, e.g. "production" (the ref is approved/<environment>). */
  environment: string;
  /** The protected branch the source commit landed on, e.g. "main". */
  branch: string;
  /** 1 for the first record of the environment, +1 for each next one. */
  sequence: number;
  /** 40-hex SHA-1 of the merged commit on the protected branch. */
  sourceCommit: string;
  /** 40-hex SHA-1 of that commit's tree (and of the record commit's tree). */
  sourceTree: string;
  /** Number of the pull request whose approved head this tree is. */
  pullRequest: number;
  /** GitHub logins whose approvals counted, at least one, in the order given. */
  approvedBy: string[];
  /** "sha256:<64 lowercase hex>" of the effective policy the decision was made under. */
  policyDigest: string;
  /** RFC 3339 UTC, whole seconds: "2026-11-22T02:00:00Z". */
  issuedAt: string;
  /** Uppercase hex fingerprint of the OpenPGP key that signs the record. */
  key: string;
}

export interface RecordMessageParse {
  /** The fields, when every check passed; null otherwise. */
  fields: RecordFields | null;
  /** Everything wrong with the message; empty when fields is non-null. */
  errors: string[];
  /** The subject line (first line). */
  subject: string;
  /** Everything between the subject and the trailer paragraph, without surrounding blank lines. */
  body: string;
  /** The Argocd-gpg-seal justification, when present. */
  argocdSeal: string | null;
  /**
   * For a refresh record, the sequence of the record it re-issues (from the body's refresh
   * paragraph); null for a record of a landing. The verifier checks it against the parents.
   */
  refreshOf: number | null;
}

const SHA1 = /^[0-9a-f]{40}$/;
const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;
const POLICY_DIGEST = /^sha256:[0-9a-f]{64}$/;
const FINGERPRINT = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/;
/** GitHub owner/name: letters, digits, '-', '_', '.'; never "." or ".." as a component. */
const REPOSITORY = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
/** An environment becomes part of a ref name: keep it to a safe, single-component alphabet. */
const ENVIRONMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** GitHub logins (and "name[bot]" for apps). */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;
const RFC3339_UTC_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
/** Trailer value text: printable, no leading/trailing space, no control characters. */
const SAFE_TEXT = /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u;

/** A name usable as an environment (it becomes part of the ref approved/<environment>). */
export function isEnvironmentName(value: string): boolean {
  return ENVIRONMENT.test(value);
}

/** An owner/name repository identifier. */
export function isRepositoryName(value: string): boolean {
  return isRepository(value);
}

/** Why a field value is not canonical, or null when it is. Shared by the formatter and the parser. */
export function fieldProblems(fields: RecordFields): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, key: string, value: unknown, expected: string) => {
    if (!ok) problems.push(`${key}: ${JSON.stringify(value)} is not ${expected}`);
  };
  check(isRepository(fields.repository), TRAILER.repository, fields.repository, "owner/name");
  check(ENVIRONMENT.test(fields.environment), TRAILER.environment, fields.environment, "an environment name");
  check(isBranch(fields.branch), TRAILER.branch, fields.branch, "a branch name");
  check(isPositiveInteger(fields.sequence), TRAILER.sequence, fields.sequence, "a positive integer");
  check(SHA1.test(fields.sourceCommit), TRAILER.sourceCommit, fields.sourceCommit, "a 40-hex commit SHA");
  check(SHA1.test(fields.sourceTree), TRAILER.sourceTree, fields.sourceTree, "a 40-hex tree SHA");
  check(isPositiveInteger(fields.pullRequest), TRAILER.pullRequest, fields.pullRequest, "a positive integer");
  if (fields.approvedBy.length === 0)
    problems.push(`${TRAILER.approvedBy}: at least one approver is required`);
  for (const login of fields.approvedBy)
    check(LOGIN.test(login), TRAILER.approvedBy, login, "a GitHub login");
  if (new Set(fields.approvedBy).size !== fields.approvedBy.length) {
    problems.push(`${TRAILER.approvedBy}: an approver is listed twice`);
  }
  check(
    POLICY_DIGEST.test(fields.policyDigest),
    TRAILER.policyDigest,
    fields.policyDigest,
    "sha256:<64 hex>",
  );
  check(
    parseIssuedAt(fields.issuedAt) !== null,
    TRAILER.issuedAt,
    fields.issuedAt,
    "an RFC 3339 UTC time like 2026-01-02T03:04:05Z",
  );
  check(FINGERPRINT.test(fields.key), TRAILER.key, fields.key, "an uppercase hex key fingerprint");
  return problems;
}

function isPositiveInteger(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

function isRepository(value: string): boolean {
  if (!REPOSITORY.test(value)) return false;
  return value.split("/").every((part) => part !== "." && part !== "..");
}

/** A git branch name as it may appear in a trailer: a valid ref component path, no spaces. */
function isBranch(value: string): boolean {
  if (value.length === 0 || value.length > 255) return false;
  if (!/^[A-Za-z0-9._/-]+$/.test(value)) return false;
  if (value.startsWith("/") || value.endsWith("/") || value.endsWith(".") || value.endsWith(".lock")) {
    return false;
  }
  if (value.includes("..") || value.includes("//") || value.startsWith("-")) return false;
  return value.split("/").every((part) => !part.startsWith("."));
}

/** Milliseconds since the epoch for a canonical "YYYY-MM-DDTHH:MM:SSZ", or null. */
export function parseIssuedAt(value: string): number | null {
  const m = RFC3339_UTC_SECONDS.exec(value);
  if (m === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls over impossible dates (Feb 30): require the canonical round trip.
  return formatIssuedAt(new Date(ms)) === value ? ms : null;
}

/** Canonical Issued-At text for a time (whole seconds, UTC). */
export function formatIssuedAt(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** First 12 hex digits, the subject line's short SHA. */
export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

/**
 * The first body paragraph of a refresh record, byte for byte. Old agents ignore the body; new ones
 * read it (parseRecordMessage's refreshOf) and require the parents to agree.
 */
export function refreshSummary(previousSequence: number): string {
  return (
    `Refresh of record #${previousSequence}: the same source commit and tree, re-signed as proof of ` +
    `freshness; nothing new to deploy.`
  );
}

const REFRESH_PREFIX = "Refresh of record #";

/**
 * git interpret-trailers ends the message at the first line that starts with "---" followed by
 * whitespace or the end of the line (format-patch's divider): trailers after it are not trailers
 * to git. Records never contain such a line (the formatter refuses every "---" line; so does the
 * parser, which keeps our reading and git's identical).
 */
const DIVIDER_LINE = /^---/m;

export function recordSubject(
  fields: Pick<RecordFields, "environment" | "sequence" | "sourceCommit">,
): string {
  return `pullgate: approve ${fields.environment} #${fields.sequence} (${shortSha(fields.sourceCommit)})`;
}

export interface FormatOptions {
  /**
   * Machine-readable decision for offline audit (reviews, signature verdicts, rules). Written as a
   * fenced ```json block in the body; it is informative only: verification never reads it.
   */
  decision?: unknown;
  /** Free human text put before the decision block. Must not end with a trailer-looking paragraph. */
  summary?: string;
  /** Justification for Argo CD's seal trailer; defaults to a sentence naming the PR. false omits it. */
  argocdSeal?: string | false;
}

/**
 * The full commit message for a record. Throws (a programming error in the caller) if a field is not
 * canonical: the app must never sign a record the agents would refuse.
 */
export function formatRecordMessage(fields: RecordFields, options: FormatOptions = {}): string {
  const problems = fieldProblems(fields);
  if (problems.length > 0) throw new Error(`invalid record fields: ${problems.join("; ")}`);
  const summary = options.summary?.replace(/\r/g, "").trim() ?? "";
  if (
    summary.startsWith(REFRESH_PREFIX) &&
    summary.split("\n\n")[0] !== refreshSummary(fields.sequence - 1)
  ) {
    throw new Error(`a refresh record's summary must be refreshSummary(${fields.sequence - 1})`);
  }

  const seal =
    options.argocdSeal === false
      ? null
      : (options.argocdSeal ?? `approved by pullgate for ${fields.repository}#${fields.pullRequest}`);
  if (seal !== null && !SAFE_TEXT.test(seal)) throw new Error("invalid Argo CD seal justification");

  const paragraphs = [recordSubject(fields)];
  const body = formatBody(options);
  if (body !== "") paragraphs.push(body);
  paragraphs.push(trailerParagraph(fields, seal));
  return paragraphs.join("\n\n") + "\n";
}

/** The trailer paragraph in the one canonical order (no trailing newline). */
function trailerParagraph(fields: RecordFields, seal: string | null): string {
  const trailers: [string, string][] = [
    [TRAILER.record, RECORD_VERSION],
    [TRAILER.repository, fields.repository],
    [TRAILER.environment, fields.environment],
    [TRAILER.branch, fields.branch],
    [TRAILER.sequence, String(fields.sequence)],
    [TRAILER.sourceCommit, fields.sourceCommit],
    [TRAILER.sourceTree, fields.sourceTree],
    [TRAILER.pullRequest, String(fields.pullRequest)],
    ...fields.approvedBy.map((login): [string, string] => [TRAILER.approvedBy, login]),
    [TRAILER.policyDigest, fields.policyDigest],
    [TRAILER.issuedAt, fields.issuedAt],
    [TRAILER.key, fields.key],
  ];
  if (seal !== null) trailers.push([TRAILER.argocdSeal, seal]);
  return trailers.map(([k, v]) => `${k}: ${v}`).join("\n");
}

function formatBody(options: FormatOptions): string {
  const parts: string[] = [];
  if (options.summary !== undefined && options.summary.trim() !== "") {
    const summary = options.summary.replace(/\r/g, "").trim();
    // A blank-line-separated paragraph made of "Key: value" lines would be read as trailers by
    // humans skimming; the trailers paragraph is always last, so git is not confused, but keep the
    // body visibly prose by refusing lines that start with our trailer prefix.
    if (/^pullgate-/im.test(summary)) throw new Error("summary must not contain Pullgate- lines");
    // git interpret-trailers stops at a "---" line (the patch divider of format-patch messages).
    if (DIVIDER_LINE.test(summary)) throw new Error('summary must not contain a line starting with "---"');
    parts.push(summary);
  }
  if (options.decision !== undefined) {
    // JSON.stringify never emits a raw newline inside a string, so the block has no blank line and
    // no "---" line (git's patch divider) and cannot run into the trailer paragraph.
    const json = JSON.stringify(options.decision, null, 2);
    if (json === undefined) throw new Error("decision is not JSON-serialisable");
    parts.push("Decision:\n```json\n" + json + "\n```");
  }
  return parts.join("\n\n");
}

/** The JSON decision from a record body, or null when there is none or it is not valid JSON. */
export function extractDecision(body: string): unknown {
  const m = /```json\n([\s\S]*?)\n```/.exec(body);
  if (m === null || m[1] === undefined) return null;
  try {
    return JSON.parse(m[1]) as unknown;
  } catch {
    return null;
  }
}

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$/;

/**
 * Parses and validates a record message. Never throws: anything unexpected is an error string.
 */
export function parseRecordMessage(message: string): RecordMessageParse {
  const errors: string[] = [];
  const fail = (subject = "", body = ""): RecordMessageParse => ({
    fields: null,
    errors,
    subject,
    body,
    argocdSeal: null,
    refreshOf: null,
  });

  if (typeof message !== "string") {
    errors.push("message is not text");
    return fail();
  }
  if (message.includes("\r")) errors.push("message contains a carriage return");
  if (/[^\P{Cc}\n]/u.test(message)) errors.push("message contains control characters");
  if (!message.endsWith("\n")) errors.push("message does not end with a newline");
  if (DIVIDER_LINE.test(message))
    errors.push('message has a line starting with "---" (git\'s patch divider)');
  if (errors.length > 0) return fail();

  const paragraphs = message.slice(0, -1).split("\n\n");
  if (paragraphs.length < 2) {
    errors.push("message has no trailer paragraph after the subject");
    return fail();
  }
  if (paragraphs.some((p) => p === "" || p.startsWith("\n") || p.endsWith("\n"))) {
    errors.push("message has extra blank lines");
    return fail();
  }
  const subjectParagraph = paragraphs[0] ?? "";
  if (subjectParagraph.includes("\n")) errors.push("subject must be a single line");
  const subject = subjectParagraph.split("\n")[0] ?? "";
  const body = paragraphs.slice(1, -1).join("\n\n");
  const trailerLines = (paragraphs[paragraphs.length - 1] ?? "").split("\n");

  const values = new Map<string, string[]>();
  for (const [i, line] of trailerLines.entries()) {
    const m = TRAILER_LINE.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      errors.push(`trailer line ${i + 1} is not "Key: value": ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    // git treats trailer keys case-insensitively; the canonical spelling is required so that a
    // "pullgate-sequence" line can never shadow or duplicate the real one unnoticed.
    const known = Object.values(TRAILER).find((k) => k.toLowerCase() === m[1]?.toLowerCase());
    if (known === undefined) {
      errors.push(`unknown trailer ${m[1]}`);
      continue;
    }
    if (known !== m[1]) {
      errors.push(`trailer ${m[1]} must be spelled ${known}`);
      continue;
    }
    if (!SAFE_TEXT.test(m[2])) {
      errors.push(`trailer ${known} has an empty or badly spaced value`);
      continue;
    }
    values.set(known, [...(values.get(known) ?? []), m[2]]);
  }

  const one = (key: string): string => {
    const found = values.get(key) ?? [];
    if (found.length !== 1) {
      errors.push(
        found.length === 0 ? `missing trailer ${key}` : `trailer ${key} appears ${found.length} times`,
      );
      return "";
    }
    return found[0] ?? "";
  };
  const integer = (key: string): number => {
    const text = one(key);
    if (text === "") return 0;
    if (!POSITIVE_INTEGER.test(text) || !Number.isSafeInteger(Number(text))) {
      errors.push(`${key}: ${JSON.stringify(text)} is not a positive integer without leading zeros`);
      return 0;
    }
    return Number(text);
  };

  const version = one(TRAILER.record);
  if (version !== "" && version !== RECORD_VERSION) errors.push(`unsupported ${TRAILER.record}: ${version}`);
  const fields: RecordFields = {
    repository: one(TRAILER.repository),
    environment: one(TRAILER.environment),
    branch: one(TRAILER.branch),
    sequence: integer(TRAILER.sequence),
    sourceCommit: one(TRAILER.sourceCommit),
    sourceTree: one(TRAILER.sourceTree),
    pullRequest: integer(TRAILER.pullRequest),
    approvedBy: values.get(TRAILER.approvedBy) ?? [],
    policyDigest: one(TRAILER.policyDigest),
    issuedAt: one(TRAILER.issuedAt),
    key: one(TRAILER.key),
  };
  if ((values.get(TRAILER.argocdSeal)?.length ?? 0) > 1)
    errors.push(`trailer ${TRAILER.argocdSeal} appears twice`);
  if (errors.length > 0) return fail(subject, body);

  errors.push(...fieldProblems(fields));
  if (errors.length === 0 && subject !== recordSubject(fields)) {
    errors.push(`subject ${JSON.stringify(subject)} does not match the trailers`);
  }
  // One message per record: the trailers in the formatter's order (every record ever published was
  // written by it), so a reordered block is not a second spelling of the same record.
  const seal = values.get(TRAILER.argocdSeal)?.[0] ?? null;
  if (errors.length === 0 && trailerLines.join("\n") !== trailerParagraph(fields, seal)) {
    errors.push("trailers are not in the canonical order");
  }
  const refreshOf = readRefreshParagraph(body, fields.sequence, errors);
  if (errors.length > 0) return fail(subject, body);
  return {
    fields,
    errors,
    subject,
    body,
    argocdSeal: values.get(TRAILER.argocdSeal)?.[0] ?? null,
    refreshOf,
  };
}

/** The re-issued sequence when the body starts with the refresh paragraph; errors for a near miss. */
function readRefreshParagraph(body: string, sequence: number, errors: string[]): number | null {
  const first = body.split("\n\n")[0] ?? "";
  // Only the first paragraph counts: it is the app's own text (the decision block that may follow
  // quotes data from GitHub, which must never be able to turn a record into a refresh).
  if (!first.startsWith(REFRESH_PREFIX)) return null;
  if (sequence < 2 || first !== refreshSummary(sequence - 1)) {
    errors.push(
      `the refresh paragraph must be exactly ${JSON.stringify(refreshSummary(Math.max(1, sequence - 1)))}`,
    );
    return null;
  }
  return sequence - 1;
}
