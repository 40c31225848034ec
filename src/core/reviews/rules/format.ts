/** Small text helpers shared by the rules, so every rule words the same things the same way. */
import type { Approval } from "../approvers.js";
import { shortSha } from "../approvers.js";

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** "a, b, c and 4 more": file lists in prose stay short; Missing items carry the full list. */
export function listFiles(files: readonly string[], max = 5): string {
  if (files.length <= max) return files.join(", ");
  return `${files.slice(0, max).join(", ")} and ${files.length - max} more`;
}

export function describeApproval(approval: Approval): string {
  return `@${approval.login} approved at ${shortSha(approval.commitId)}`;
}

export function logins(approvals: readonly Approval[]): string {
  return approvals.map((a) => `@${a.login}`).join(", ");
}

/** Rule counts from the policy must be whole numbers; anything else is a policy bug (fail closed). */
export function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
