/**
 * Break-glass (docs/policy.md, "Break-glass"; issue 18): the documented emergency path that stays
 * inside the model. A pull request labelled with the policy's label (default `pullgate/break-glass`)
 * and approved, on its current head, by at least `approvals` (at least 2) DISTINCT policy admins
 * other than its author and every person who pushed to it, passes without the rules it did not
 * satisfy; its record is marked break-glass (src/record) and the check says so loudly.
 *
 * What it never allows: one admin alone (however many reviews), an admin approving their own PR
 * or their own push, a label with no approvals, approvals of an older head, non-admins, a disabled
 * policy. A rule that errored (facts missing) is not overridden: break-glass skips rules, it does
 * not guess facts.
 *
 * Pure: the adapter hands over the labels, the latest review per person, the pushers and the
 * members of the admin teams.
 */
import type { RuleResult } from "../verdict/types.js";

export { DEFAULT_BREAK_GLASS_LABEL } from "../policy/parse.js";
/** No admin alone: whatever a policy says, fewer than two admins never open the path. */
export const MIN_BREAK_GLASS_APPROVALS = 2;
export const BREAK_GLASS_RULE_ID = "break-glass";

export interface BreakGlassApproval {
  login: string;
  /** The commit the approval was given on. */
  commitId: string;
}

export interface BreakGlassInput {
  /** policy `break_glass.enabled`. */
  enabled: boolean;
  /** policy `break_glass.label`. */
  label: string;
  /** The PR's labels now. */
  labels: readonly string[];
  /** Latest review per person whose state is APPROVED (what the review rules count from). */
  approvals: readonly BreakGlassApproval[];
  /** The head under evaluation: only approvals of it count. */
  headSha: string;
  author: string;
  /** Everyone who pushed commits to the PR (and committed them), when known. */
  pushers: readonly string[];
  /** policy `break_glass.admins`: "@login" or "@org/team" (emails never match a login). */
  admins: readonly string[];
  /** Members of the teams among `admins`, keyed "org/team" in lower case (as in ReviewFacts). */
  teamMembers: Readonly<Record<string, readonly string[]>>;
  /** policy `break_glass.approvals`; raised to 2 when lower. */
  required: number;
}

export type BreakGlassIgnoredWhy = "author" | "pusher" | "not-admin" | "stale" | "duplicate";

export type BreakGlassRefusal =
  | { kind: "label-absent"; label: string }
  | { kind: "disabled" }
  | { kind: "not-enough-admins"; have: number; required: number }
  | { kind: "ignored-approval"; login: string; why: BreakGlassIgnoredWhy };

export type BreakGlassJudgement =
  | { ok: true; approvers: string[]; required: number; text: string }
  | {
      ok: false;
      /** The label is on the PR: someone asked for break-glass (the check must say why not). */
      requested: boolean;
      refusals: BreakGlassRefusal[];
      text: string;
    };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Whether `login` is one of `admins`, directly or through a team whose members are known. */
function isAdmin(login: string, admins: readonly string[], teams: BreakGlassInput["teamMembers"]): boolean {
  return admins.some((principal) => {
    if (!principal.startsWith("@")) return false;
    const name = principal.slice(1);
    if (!name.includes("/")) return same(name, login);
    const members = teams[name.toLowerCase()];
    return members !== undefined && members.some((member) => same(member, login));
  });
}

export function judgeBreakGlass(input: BreakGlassInput): BreakGlassJudgement {
  const requested = input.labels.some((label) => label === input.label);
  if (!requested) {
    return {
      ok: false,
      requested: false,
      refusals: [{ kind: "label-absent", label: input.label }],
      text: `Break-glass was not requested (no \`${input.label}\` label).`,
    };
  }
  if (!input.enabled) {
    return {
      ok: false,
      requested: true,
      refusals: [{ kind: "disabled" }],
      text: `Break-glass is not enabled for this branch (break_glass.enabled), so the \`${input.label}\` label gives nothing.`,
    };
  }
  const required = Math.max(
    MIN_BREAK_GLASS_APPROVALS,
    Number.isSafeInteger(input.required) ? input.required : 0,
  );
  const refusals: BreakGlassRefusal[] = [];
  const approvers: string[] = [];
  const ignore = (login: string, why: BreakGlassIgnoredWhy) =>
    refusals.push({ kind: "ignored-approval", login, why });
  // One person, one approval: a second entry for a login (in any letter case) never counts, even
  // when the first did not (the input is the latest review per person already).
  const seen = new Set<string>();
  for (const approval of input.approvals) {
    const { login } = approval;
    const key = login.toLowerCase();
    const repeated = seen.has(key);
    seen.add(key);
    if (repeated) ignore(login, "duplicate");
    else if (same(login, input.author)) ignore(login, "author");
    else if (input.pushers.some((pusher) => same(pusher, login))) ignore(login, "pusher");
    else if (!isAdmin(login, input.admins, input.teamMembers)) ignore(login, "not-admin");
    else if (approval.commitId !== input.headSha) ignore(login, "stale");
    else approvers.push(login);
  }
  if (approvers.length >= required) {
    return {
      ok: true,
      approvers,
      required,
      text:
        `BREAK-GLASS: ${approvers.map((a) => `@${a}`).join(", ")} (policy admins, neither the author nor a pusher) ` +
        `approved this head with the \`${input.label}\` label; the rules it does not satisfy are skipped, and its record is marked break-glass.`,
    };
  }
  refusals.unshift({ kind: "not-enough-admins", have: approvers.length, required });
  const why = refusals
    .filter(
      (r): r is Extract<BreakGlassRefusal, { kind: "ignored-approval" }> => r.kind === "ignored-approval",
    )
    .map((r) => `@${r.login}: ${IGNORED_WHY[r.why]}`);
  return {
    ok: false,
    requested: true,
    refusals,
    text:
      `Break-glass refused: ${approvers.length} of the ${required} distinct policy admins it needs approved this head` +
      (approvers.length > 0 ? ` (${approvers.map((a) => `@${a}`).join(", ")})` : "") +
      (why.length > 0 ? `; not counted: ${why.join("; ")}` : "") +
      ".",
  };
}

const IGNORED_WHY: Record<BreakGlassIgnoredWhy, string> = {
  author: "the author cannot open break-glass for their own pull request",
  pusher: "pushed to the pull request",
  "not-admin": "not a break-glass admin",
  stale: "approved an older head",
  duplicate: "already counted",
};

export interface BreakGlassOutcome {
  /** The rules to combine: failed rules skipped when break-glass was used, plus the break-glass rule. */
  rules: RuleResult[];
  /** Break-glass decided the outcome: the record gets the mark, alerts and metrics fire. */
  used: boolean;
  /** Ids of the rules that failed and were skipped. */
  skipped: string[];
  /** The admins whose approvals opened the path (the record's mark), when used. */
  approvers: string[];
}

/**
 * Applies a judgement to the evaluated rules. Not requested: the rules as they are. Requested and
 * refused: the rules plus a break-glass rule that fails when anything else fails (saying why the
 * path stayed shut) and passes otherwise (not needed). Granted: each failing rule passes as
 * "skipped by break-glass" (errors stay errors), plus a passing break-glass rule; `used` only when
 * something was skipped.
 */
export function applyBreakGlass(
  rules: readonly RuleResult[],
  judgement: BreakGlassJudgement,
): BreakGlassOutcome {
  const notUsed = (extra: RuleResult[]): BreakGlassOutcome => ({
    rules: [...rules, ...extra],
    used: false,
    skipped: [],
    approvers: [],
  });
  const title = "Break-glass";
  const othersPass = rules.every((rule) => rule.status === "pass");
  if (!judgement.ok) {
    if (!judgement.requested) return notUsed([]);
    return notUsed([
      {
        id: BREAK_GLASS_RULE_ID,
        title,
        status: othersPass ? "pass" : "fail",
        summary: othersPass ? `Not needed: every rule passed. ${judgement.text}` : judgement.text,
        satisfied: [],
        missing: [],
        fix: othersPass
          ? []
          : [
              "Satisfy the failing rules, or have two distinct policy admins who neither wrote nor pushed to this pull request approve its current head.",
            ],
      },
    ]);
  }
  const failing = rules.filter((rule) => rule.status === "fail" || rule.status === "pending");
  if (failing.length === 0) {
    return notUsed([
      {
        id: BREAK_GLASS_RULE_ID,
        title,
        status: "pass",
        summary: "Not needed: every rule passed, so this is a normal record (no break-glass mark).",
        satisfied: judgement.approvers.map((a) => `@${a}`),
        missing: [],
        fix: [],
      },
    ]);
  }
  const skipped = failing.map((rule) => rule.id);
  return {
    rules: [
      ...rules.map((rule) =>
        rule.status === "fail" || rule.status === "pending"
          ? {
              ...rule,
              status: "pass" as const,
              summary: `SKIPPED BY BREAK-GLASS: ${rule.summary}`,
              notes: [...(rule.notes ?? []), `Not satisfied (${rule.status}); skipped by break-glass.`],
            }
          : rule,
      ),
      {
        id: BREAK_GLASS_RULE_ID,
        title,
        status: "pass",
        summary: judgement.text,
        satisfied: judgement.approvers.map((a) => `@${a}`),
        missing: [],
        fix: ["Review this change after the emergency: a follow-up review is requested from the admins."],
        notes: [`Skipped rules: ${skipped.join(", ")}.`],
      },
    ],
    used: true,
    skipped,
    approvers: judgement.approvers,
  };
}
