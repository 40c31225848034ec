/** Which counting approvers belong to a set of principals (owners, path-rule approvers, admins). */
import type { Approval } from "../approvers.js";
import type { ParsedPrincipal, TeamDirectory } from "../principals.js";
import { formatPrincipal, isResolvable, parsePrincipal, principalIncludes } from "../principals.js";

export interface QualifyingApproval {
  approval: Approval;
  /** The first principal the approver satisfies, for the explanation ("via @acme/ops"). */
  via: ParsedPrincipal;
}

export function qualifyingApprovals(
  principals: readonly string[],
  approvers: readonly Approval[],
  teams: TeamDirectory,
): QualifyingApproval[] {
  const parsed = principals.map(parsePrincipal);
  const result: QualifyingApproval[] = [];
  for (const approval of approvers) {
    const via = parsed.find((p) => principalIncludes(p, approval.login, teams));
    if (via) result.push({ approval, via });
  }
  return result;
}

/** Principals nobody can satisfy here: email addresses (GitHub resolves them, we cannot) and malformed entries. */
export function unresolvablePrincipals(principals: readonly string[]): string[] {
  return principals.filter((p) => !isResolvable(parsePrincipal(p)));
}

export function describeQualifying(q: QualifyingApproval): string {
  const via = q.via.kind === "team" ? ` (member of ${formatPrincipal(q.via)})` : "";
  return `@${q.approval.login}${via}`;
}
