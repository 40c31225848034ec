/**
 * Reading pullgate's check output in e2e tests: the renderer escapes outside text as HTML numeric
 * entities (`allowed_signers` → `allowed&#95;signers`), so assertions decode it back first.
 */
import { decodeDecision, type Decision } from "../../src/github/decision.js";
import type { CheckView } from "./app-harness.js";

/** `&#95;` → `_` (and every other numeric entity the renderer produces). */
export function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** Title, summary and text of a check as one readable string. */
export function readable(check: CheckView | null): string {
  if (!check) throw new Error("no pullgate check run");
  return decodeEntities([check.title, check.summary, check.text].join("\n"));
}

/** The "How to fix" bullet points of every failing rule. */
export function fixes(check: CheckView | null): string[] {
  const out: string[] = [];
  let inFix = false;
  for (const line of readable(check).split("\n")) {
    if (line.startsWith("**How to fix:**")) inFix = true;
    else if (inFix && line.startsWith("- ")) out.push(line.slice(2));
    else if (inFix && line.trim() !== "") inFix = false;
  }
  return out;
}

/** The machine-readable decision pullgate embedded in the check. */
export function decisionOf(check: CheckView | null): Decision {
  const decision = decodeDecision(check?.text);
  if (!decision) throw new Error("the check carries no decision");
  return decision;
}
