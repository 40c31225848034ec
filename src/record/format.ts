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
 * Promotion and break-glass (issue 18) are marks on a record: optional fields written as fixed
 * paragraphs at the start of the body (after the refresh paragraph, if any), for the reason the
 * refresh paragraph is one (docs/architecture.md, "Record contract"): a new trailer would make every
 * agent deployed today refuse the record and every record after it. The signature covers the whole
 * message, so the marks are as authenticated as the trailers; the parser reads them only at their
 * place and in their one canonical spelling, and refuses a mark-looking paragraph anywhere else.
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
  /**
   * Promotion mark: the record of another (or the same) environment whose tree this record's tree,
   * or its promoted directory, equals (policy `promotion`, src/core/promotion). Absent: not a promotion.
   */
  promotedFrom?: PromotedFrom;
  /**
   * Break-glass mark: this record's pull request passed through the break-glass path (policy
   * `break_glass`, src/core/break-glass) without the rules it did not satisfy. Absent: a normal record.
   */
  breakGlass?: BreakGlassMark;
}

export interface PromotedFrom {
  /** The environment whose record was matched, e.g. "staging". */
  environment: string;
  /** That record's Pullgate-Sequence. */
  sequence: number;
  /** That record's commit (40-hex). */
  recordCommit: string;
}

export interface BreakGlassMark {
  /** The policy admins whose approvals opened the break-glass path: at least two, distinct. */
  approvedBy: string[];
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
  problems.push(...markProblems(fields));
  return problems;
}

/** Why the optional marks are not canonical (empty when they are, or are absent). */
function markProblems(fields: RecordFields): string[] {
  const problems: string[] = [];
  const from = fields.promotedFrom;
  if (from !== undefined) {
    if (!ENVIRONMENT.test(from.environment))
      problems.push(`promoted-from: ${JSON.stringify(from.environment)} is not an environment name`);
    if (!isPositiveInteger(from.sequence))
      problems.push(`promoted-from: ${JSON.stringify(from.sequence)} is not a positive integer`);
    if (!SHA1.test(from.recordCommit))
      problems.push(`promoted-from: ${JSON.stringify(from.recordCommit)} is not a 40-hex commit SHA`);
  }
  const glass = fields.breakGlass;
  if (glass !== undefined) {
    // No admin alone (src/core/break-glass): a mark naming fewer than two distinct admins is not one.
    const distinct = new Set(glass.approvedBy.map((login) => login.toLowerCase()));
    if (glass.approvedBy.length < 2) problems.push("break-glass: at least two approving admins are required");
    if (distinct.size !== glass.approvedBy.length) problems.push("break-glass: an admin is listed twice");
    for (const login of glass.approvedBy)
      if (!LOGIN.test(login)) problems.push(`break-glass: ${JSON.stringify(login)} is not a GitHub login`);
  }
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
const BREAK_GLASS_PREFIX = "Break-glass: ";
const PROMOTION_PREFIX = "Promoted from ";

/**
 * The break-glass paragraph, byte for byte: the pull request (the record's Pullgate-Pull-Request)
 * and the admins whose approvals opened the path.
 */
export function breakGlassParagraph(pullRequest: number, mark: BreakGlassMark): string {
  return (
    `${BREAK_GLASS_PREFIX}pull request #${pullRequest} passed without the rules it did not satisfy, ` +
    `on the approvals of policy admins ${mark.approvedBy.map((login) => `@${login}`).join(", ")}.`
  );
}

/** The promotion paragraph, byte for byte. */
export function promotionParagraph(from: PromotedFrom): string {
  return (
    `${PROMOTION_PREFIX}${from.environment} record #${from.sequence} (${from.recordCommit}): ` +
    `the tree this record approves was recorded there first.`
  );
}

const BREAK_GLASS_LINE =
  /^Break-glass: pull request #([1-9][0-9]{0,15}) passed without the rules it did not satisfy, on the approvals of policy admins (@[^,\s]+(?:, @[^,\s]+)*)\.$/;
const PROMOTION_LINE =
  /^Promoted from (\S+) record #([1-9][0-9]{0,15}) \(([0-9a-f]{40})\): the tree this record approves was recorded there first\.$/;

/** Whether a body paragraph looks like one of the app's own fixed paragraphs. */
function isMarkLike(paragraph: string): boolean {
  return paragraph.startsWith(REFRESH_PREFIX) || isNewMarkLike(paragraph);
}

/**
 * Whether a paragraph looks like a break-glass or promotion mark. Only these are refused out of
 * place: a refresh paragraph later in the body has always been plain text to the parser, and
 * records already published keep parsing exactly as before.
 */
function isNewMarkLike(paragraph: string): boolean {
  return paragraph.startsWith(BREAK_GLASS_PREFIX) || paragraph.startsWith(PROMOTION_PREFIX);
}

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
  const body = formatBody(fields, options);
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

function formatBody(fields: RecordFields, options: FormatOptions): string {
  const parts: string[] = [];
  let summary = options.summary?.replace(/\r/g, "").trim() ?? "";
  // The app's fixed paragraphs come first, in this order: refresh, break-glass, promotion.
  if (summary.startsWith(REFRESH_PREFIX)) {
    const [refresh = "", ...rest] = summary.split("\n\n");
    parts.push(refresh);
    summary = rest.join("\n\n").trim();
  }
  if (fields.breakGlass !== undefined) parts.push(breakGlassParagraph(fields.pullRequest, fields.breakGlass));
  if (fields.promotedFrom !== undefined) parts.push(promotionParagraph(fields.promotedFrom));
  if (summary !== "") {
    // Free text must never be read as one of the fixed paragraphs (a mark the app did not mean).
    if (summary.split(/\n\n+/).some(isMarkLike))
      throw new Error("summary must not contain a refresh, break-glass or promotion paragraph");
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
  const marks = readBodyMarks(body, fields, errors);
  if (errors.length > 0) return fail(subject, body);
  return {
    fields: {
      ...fields,
      ...(marks.breakGlass === undefined ? {} : { breakGlass: marks.breakGlass }),
      ...(marks.promotedFrom === undefined ? {} : { promotedFrom: marks.promotedFrom }),
    },
    errors,
    subject,
    body,
    argocdSeal: values.get(TRAILER.argocdSeal)?.[0] ?? null,
    refreshOf: marks.refreshOf,
  };
}

/**
 * The app's fixed paragraphs at the start of the body: [refresh] [break-glass] [promotion], each
 * optional, each in its one canonical spelling. Only that place counts (what follows may quote data
 * from GitHub, which must never be able to add or hide a mark), and a break-glass or promotion
 * paragraph anywhere else, out of order, or twice, is an error rather than ignored text.
 */
function readBodyMarks(
  body: string,
  fields: RecordFields,
  errors: string[],
): { refreshOf: number | null; breakGlass?: BreakGlassMark; promotedFrom?: PromotedFrom } {
  const paragraphs = body === "" ? [] : body.split("\n\n");
  let at = 0;
  let refreshOf: number | null = null;
  let breakGlass: BreakGlassMark | undefined;
  let promotedFrom: PromotedFrom | undefined;
  if (paragraphs[at]?.startsWith(REFRESH_PREFIX)) {
    refreshOf = readRefreshParagraph(paragraphs[at] ?? "", fields.sequence, errors);
    at++;
  }
  if (paragraphs[at]?.startsWith(BREAK_GLASS_PREFIX)) {
    breakGlass = readBreakGlassParagraph(paragraphs[at] ?? "", fields, errors);
    at++;
  }
  if (paragraphs[at]?.startsWith(PROMOTION_PREFIX)) {
    promotedFrom = readPromotionParagraph(paragraphs[at] ?? "", errors);
    at++;
  }
  const stray = paragraphs.slice(at).findIndex(isNewMarkLike);
  if (stray >= 0) {
    errors.push(
      `body paragraph ${at + stray + 1} looks like a break-glass or promotion paragraph out of its place ` +
        "(they come first, after a refresh paragraph, in that order, once each)",
    );
  }
  return {
    refreshOf,
    ...(breakGlass === undefined ? {} : { breakGlass }),
    ...(promotedFrom === undefined ? {} : { promotedFrom }),
  };
}

function readBreakGlassParagraph(
  paragraph: string,
  fields: RecordFields,
  errors: string[],
): BreakGlassMark | undefined {
  const m = BREAK_GLASS_LINE.exec(paragraph);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    errors.push(
      `the break-glass paragraph is not in its canonical form: ${JSON.stringify(paragraph.slice(0, 120))}`,
    );
    return undefined;
  }
  if (Number(m[1]) !== fields.pullRequest) {
    errors.push(`the break-glass paragraph names PR #${m[1]}, the record PR #${fields.pullRequest}`);
    return undefined;
  }
  const mark: BreakGlassMark = { approvedBy: m[2].split(", ").map((entry) => entry.slice(1)) };
  const problems = markProblems({ ...fields, breakGlass: mark });
  if (problems.length > 0) {
    errors.push(...problems);
    return undefined;
  }
  // One spelling per mark: re-formatting must give back the very paragraph.
  if (breakGlassParagraph(fields.pullRequest, mark) !== paragraph) {
    errors.push("the break-glass paragraph is not in its canonical form");
    return undefined;
  }
  return mark;
}

function readPromotionParagraph(paragraph: string, errors: string[]): PromotedFrom | undefined {
  const m = PROMOTION_LINE.exec(paragraph);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
    errors.push(
      `the promotion paragraph is not in its canonical form: ${JSON.stringify(paragraph.slice(0, 120))}`,
    );
    return undefined;
  }
  const from: PromotedFrom = { environment: m[1], sequence: Number(m[2]), recordCommit: m[3] };
  if (!ENVIRONMENT.test(from.environment) || !Number.isSafeInteger(from.sequence)) {
    errors.push(
      `the promotion paragraph names ${JSON.stringify(from.environment)} #${m[2]}, not an environment and sequence`,
    );
    return undefined;
  }
  if (promotionParagraph(from) !== paragraph) {
    errors.push("the promotion paragraph is not in its canonical form");
    return undefined;
  }
  return from;
}

/** The re-issued sequence from the body's first paragraph (the refresh paragraph); errors for a near miss. */
function readRefreshParagraph(first: string, sequence: number, errors: string[]): number | null {
  // Only the first paragraph counts: it is the app's own text (the decision block that may follow
  // quotes data from GitHub, which must never be able to turn a record into a refresh).
  if (sequence < 2 || first !== refreshSummary(sequence - 1)) {
    errors.push(
      `the refresh paragraph must be exactly ${JSON.stringify(refreshSummary(Math.max(1, sequence - 1)))}`,
    );
    return null;
  }
  return sequence - 1;
}
