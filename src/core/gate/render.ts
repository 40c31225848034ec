import type { Missing, RuleResult, Status, Verdict } from "../verdict/types.js";
import type { CheckAnnotation } from "../secrets/index.js";
import { encodeDecision, type Decision } from "./decision.js";

/**
 * GitHub caps check-run `output.title`, `summary` and `text` at 65,535 each, and counts UTF-8
 * **bytes**, not JavaScript's UTF-16 `.length` (docs/github-api.md, "Limits"): a 3,000-file PR with
 * non-ASCII paths rendered to 65,535 characters is 78,453 bytes, which GitHub refuses with a 422 that
 * nothing retries, leaving the check in progress.
 */
export const CHECK_OUTPUT_LIMIT = 65_535;

/** Our own cap for the title: it is one line in GitHub's checks list (far below GitHub's limit). */
export const CHECK_TITLE_LIMIT = 250;

export interface CheckOutput {
  conclusion: "success" | "failure";
  title: string;
  summary: string;
  text: string;
  /** Line annotations (secrets findings), at most 50 per batch: one check-run request each. */
  annotationBatches?: CheckAnnotation[][];
}

const ICON: Record<Status, string> = { pass: "✅", fail: "❌", error: "⚠️", pending: "⏳" };

/**
 * Escapes text that came from outside (file paths, logins, reasons) so it cannot inject markdown,
 * HTML or a forged decision comment into the check run.
 */
export function escapeMarkdown(value: string): string {
  return value.replace(/[\\`*_{}[\]()#+!|<>&~]/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\r?\n/g, " ");
}

function code(value: string): string {
  return `<code>${escapeMarkdown(value)}</code>`;
}

function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

function describeMissing(m: Missing): string {
  switch (m.kind) {
    case "owner-approval":
      return `${m.files.length} file(s) need ${m.needed - m.have} more approval(s) from ${m.owners.map(escapeMarkdown).join(", ")} (${escapeMarkdown(m.rule)}): ${listFiles(m.files)}`;
    case "changes-requested":
      return `@${escapeMarkdown(m.reviewer)} requested changes on ${code(shortSha(m.commit))}`;
    case "approvals":
      return `${m.needed - m.have} more approval(s) needed (${m.have} of ${m.needed})`;
    case "signature":
      return `commit ${code(shortSha(m.commit))}: ${escapeMarkdown(m.reason)}${m.signer ? ` (signer ${escapeMarkdown(m.signer)})` : ""}`;
    case "admin-approval":
      return `sensitive file(s) changed, an approval from ${m.admins.map(escapeMarkdown).join(", ")} is needed: ${listFiles(m.files)}`;
    case "last-push-approval":
      return `@${escapeMarkdown(m.pusher)} pushed last, so their approval cannot be the one that counts`;
    case "protection":
      return `${escapeMarkdown(m.setting)}: expected ${escapeMarkdown(m.expected)}, found ${escapeMarkdown(m.actual)}`;
    case "facts":
      return escapeMarkdown(m.reason);
  }
}

function listFiles(files: string[], max = 20): string {
  const shown = files.slice(0, max).map(code).join(", ");
  return files.length > max ? `${shown} and ${files.length - max} more` : shown;
}

function ruleRow(rule: RuleResult): string {
  return `| ${ICON[rule.status]} | ${escapeMarkdown(rule.title)} | ${escapeMarkdown(rule.summary)} |`;
}

function ruleSection(rule: RuleResult): string {
  const lines = [`### ${ICON[rule.status]} ${escapeMarkdown(rule.title)}`, ""];
  for (const m of rule.missing) lines.push(`- ${describeMissing(m)}`);
  if (rule.fix.length > 0) {
    lines.push("", "**How to fix:**");
    for (const f of rule.fix) lines.push(`- ${escapeMarkdown(f)}`);
  }
  for (const n of rule.notes ?? []) lines.push("", `> ${escapeMarkdown(n)}`);
  if (rule.satisfied.length > 0) {
    lines.push("", "<details><summary>Already satisfied</summary>", "");
    for (const s of rule.satisfied) lines.push(`- ${escapeMarkdown(s)}`);
    lines.push("", "</details>");
  }
  return lines.join("\n");
}

/** Where the reader finds what a truncated check could not show (the rule table is never cut). */
export const TRUNCATION_NOTE =
  "\n\n… (truncated: GitHub limits check output to 65,535 bytes. Every changed file is in the pull " +
  "request's “Files changed” tab; `pullgate owners --codeowners .github/CODEOWNERS PATH...` names the " +
  "owners of any path, and “Re-evaluate” renders this check again.)";

/**
 * The longest prefix of `text` that is at most `maxBytes` UTF-8 bytes and ends on a character
 * boundary (a cut inside a multi-byte sequence would send GitHub invalid UTF-8 or a replacement
 * character). Prefers ending at a line break when one is close, so markdown rows stay whole.
 */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // UTF-8 continuation bytes are 0b10xxxxxx: back off to the first byte of the character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  // (end - 1 must not be negative: Buffer.lastIndexOf would then search from the end.)
  const lastBreak = end > 0 ? bytes.lastIndexOf(0x0a, end - 1) : -1;
  if (lastBreak > 0 && end - lastBreak < 1_024) end = lastBreak;
  return bytes.subarray(0, end).toString("utf8");
}

/**
 * `text` within `limit` UTF-8 bytes: unchanged when it fits, else cut on a character boundary with
 * `note` (which says where the rest is) appended, the whole still within `limit`. Never throws: an
 * output GitHub would refuse must become one it accepts, not a failed write.
 */
export function truncateBytes(text: string, limit: number, note: string = TRUNCATION_NOTE): string {
  if (Buffer.byteLength(text, "utf8") <= limit) return text;
  const noteBytes = Buffer.byteLength(note, "utf8");
  if (noteBytes >= limit) return utf8Prefix(note, limit);
  return utf8Prefix(text, limit - noteBytes) + note;
}

/** Any check output made to fit GitHub's limits (title on one line, within our title cap). */
export function fitOutput<T extends { title: string; summary: string; text?: string }>(output: T): T {
  const title = utf8Prefix(output.title.replace(/\r?\n/g, " "), CHECK_TITLE_LIMIT);
  return {
    ...output,
    title,
    summary: truncateBytes(output.summary, CHECK_OUTPUT_LIMIT),
    ...(output.text !== undefined ? { text: truncateBytes(output.text, CHECK_OUTPUT_LIMIT) } : {}),
  };
}

function title(verdict: Verdict): string {
  const failing = verdict.rules.filter((r) => r.status !== "pass");
  if (verdict.status === "pass") return `All ${verdict.rules.length} rules pass`;
  if (verdict.status === "error") return "pullgate could not evaluate this pull request";
  return `${failing.length} of ${verdict.rules.length} rules not satisfied: ${failing.map((r) => r.title).join(", ")}`;
}

/**
 * Renders a verdict as check-run output: a rule table in the summary, what is missing and how to
 * fix it in the text, and the machine-readable decision first in the text (before any text that
 * came from the PR, so a file name cannot plant a forged decision ahead of it).
 */
export function renderCheck(
  verdict: Verdict,
  decision: Decision,
  notes: string[] = [],
  annotationBatches: CheckAnnotation[][] = [],
): CheckOutput {
  const summaryLines = [
    verdict.status === "pass"
      ? `Every rule passed for head ${code(shortSha(verdict.headSha))}.`
      : `Head ${code(shortSha(verdict.headSha))} cannot merge yet: ${verdict.rules.filter((r) => r.status !== "pass").length} rule(s) not satisfied.`,
    "",
    "| | Rule | Result |",
    "| --- | --- | --- |",
    ...verdict.rules.map(ruleRow),
    "",
    `Policy ${code(verdict.policyDigest)}${decision.environment ? ` · environment ${code(decision.environment)}` : ""}`,
    ...notes.map((n) => `\n> ${escapeMarkdown(n)}`),
  ];
  const sections = verdict.rules.filter((r) => r.status !== "pass").map(ruleSection);
  const passed = verdict.rules.filter((r) => r.status === "pass").map(ruleSection);
  const text = [
    encodeDecision(decision),
    "",
    ...sections,
    ...(passed.length > 0
      ? ["", "<details><summary>Passed rules</summary>", "", ...passed, "", "</details>"]
      : []),
  ].join("\n");
  // The decision comes first in the text, so a cut (at the end) never reaches it.
  const output: CheckOutput = fitOutput({
    conclusion: verdict.status === "pass" ? "success" : "failure",
    title: title(verdict),
    summary: summaryLines.join("\n"),
    text,
  });
  // Secrets findings at file and line, built without the secret (src/core/secrets/verdict.ts).
  return annotationBatches.length > 0 ? { ...output, annotationBatches } : output;
}

/** A check that requires nothing: the base is not governed (neutral, so GitHub does not block on it). */
export interface NeutralOutput {
  conclusion: "neutral";
  title: string;
  summary: string;
}

/**
 * The check of a PR whose base no pullgate policy names, with the notes about other PRs of the
 * same head. The text of every check comes from here, never built by hand in an adapter.
 */
export function renderUngoverned(baseRef: string, notes: readonly string[] = []): NeutralOutput {
  return fitOutput({
    conclusion: "neutral",
    title: `No pullgate policy governs ${baseRef}`,
    summary: [
      `The base branch ${code(baseRef)} is not named in the pullgate policy read from its own head, so nothing is required here.`,
      ...notes.map((n) => `\n> ${escapeMarkdown(n)}`),
    ].join("\n"),
  });
}

/**
 * The check of a PR into a record ref (docs/protection.md, "Pull requests into record refs"): the
 * verdict's one failing rule, titled with what to do.
 */
export function renderRecordRefRefusal(
  verdict: Verdict,
  decision: Decision,
  notes: string[] = [],
): CheckOutput {
  return fitOutput({
    ...renderCheck(verdict, decision, notes),
    title: `${decision.baseRef} is a record ref written only by pullgate: close this pull request`,
  });
}
