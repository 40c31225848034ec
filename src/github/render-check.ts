import type { Missing, RuleResult, Status, Verdict } from "../core/verdict/types.js";
import { encodeDecision, type Decision } from "./decision.js";

/** GitHub caps check-run summary and text at 65,535 characters each. */
export const CHECK_OUTPUT_LIMIT = 65_535;

export interface CheckOutput {
  conclusion: "success" | "failure";
  title: string;
  summary: string;
  text: string;
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

function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = "\n\n… (truncated: GitHub limits check output to 65,535 characters)";
  return text.slice(0, limit - note.length) + note;
}

function title(verdict: Verdict): string {
  const failing = verdict.rules.filter((r) => r.status !== "pass");
  if (verdict.status === "pass") return `All ${verdict.rules.length} rules pass`;
  if (verdict.status === "error") return "pullgate could not evaluate this pull request";
  return `${failing.length} of ${verdict.rules.length} rules not satisfied: ${failing.map((r) => r.title).join(", ")}`.slice(
    0,
    250,
  );
}

/**
 * Renders a verdict as check-run output: a rule table in the summary, what is missing and how to
 * fix it in the text, and the machine-readable decision first in the text (before any text that
 * came from the PR, so a file name cannot plant a forged decision ahead of it).
 */
export function renderCheck(verdict: Verdict, decision: Decision, notes: string[] = []): CheckOutput {
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
  return {
    conclusion: verdict.status === "pass" ? "success" : "failure",
    title: title(verdict),
    summary: truncate(summaryLines.join("\n"), CHECK_OUTPUT_LIMIT),
    text: truncate(text, CHECK_OUTPUT_LIMIT),
  };
}
