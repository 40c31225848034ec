/**
 * Access changes (who may approve) and which pull requests they can make stale: pure decisions,
 * no I/O. pullgate counts an approval only from reviewers with write access (and CODEOWNERS team
 * membership) at evaluation time; when access is later lost, a green check would stay green and
 * the record publisher would trust it at merge time. src/github/access-events.ts turns these
 * decisions into re-evaluations.
 */
import type { Decision } from "./decision.js";

/** What an access-change webhook means for verdicts already given. */
export interface AccessChange {
  /** loss: approvals may no longer count (passing PRs may be stale); gain: approvals may now count. */
  direction: "loss" | "gain";
  /** The person whose access changed (lowercase); null when a team's access changed (any of its members). */
  login: string | null;
  /** The repositories affected: one, or every repository of the installation. */
  scope: { kind: "repository"; owner: string; repo: string } | { kind: "installation"; owner: string };
  /** In words, for logs and check texts: "@bob was removed from @acme/sre". */
  reason: string;
}

type PermissionFlags = Partial<Record<"admin" | "maintain" | "push" | "triage" | "pull", boolean>>;

/** The fields of member / membership / organization / team payloads this module reads. */
export interface AccessEventPayload {
  action: string;
  member?: { login: string } | null;
  membership?: { user?: { login: string } | null } | null;
  scope?: string;
  changes?: {
    permission?: { from?: string | null; to?: string | null } | null;
    old_permission?: { from?: string | null } | null;
    repository?: { permissions?: { from?: PermissionFlags | null } | null } | null;
  } | null;
  repository?: { name: string; owner: { login: string } | null; permissions?: PermissionFlags | null } | null;
  team?: { name: string; slug?: string } | null;
  organization?: { login: string } | null;
}

/** GitHub's permission names (legacy and role names) ranked; an unknown name has no rank. */
const RANK: Record<string, number> = {
  none: 0,
  pull: 1,
  read: 1,
  triage: 2,
  push: 3,
  write: 3,
  maintain: 4,
  admin: 5,
};

function rankOfName(name: string | null | undefined): number | undefined {
  return name === null || name === undefined ? undefined : RANK[name.toLowerCase()];
}

function rankOfFlags(flags: PermissionFlags | null | undefined): number | undefined {
  if (!flags) return undefined;
  if (flags.admin) return 5;
  if (flags.maintain) return 4;
  if (flags.push) return 3;
  if (flags.triage) return 2;
  if (flags.pull) return 1;
  return 0;
}

/**
 * The direction of a permission change, failing closed: when either side is unknown the change
 * may be a downgrade, so it is treated as a loss. null = no change.
 */
function direction(from: number | undefined, to: number | undefined): "loss" | "gain" | null {
  if (from === undefined || to === undefined) return "loss";
  if (to < from) return "loss";
  if (to > from) return "gain";
  return null;
}

function teamName(payload: AccessEventPayload): string {
  const org = payload.organization?.login;
  const team = payload.team?.slug ?? payload.team?.name ?? "?";
  return org ? `@${org}/${team}` : `@${team}`;
}

/**
 * What an access-change event means, or null when it cannot change a verdict pullgate gave.
 *
 * Scopes: a collaborator or team-repository change touches that repository. A team membership or
 * org membership change touches every repository of the installation: a CODEOWNERS line may name a
 * team in any repository, whether or not the team has been granted access to it.
 *
 * Additions: only repository-scoped additions (collaborator added or upgraded, team added to the
 * repository or upgraded) re-gate anything; additions to a team or the org are ignored (a failing
 * check stays failing, which is safe: "Re-run" re-evaluates it).
 */
export function classifyAccessEvent(event: string, payload: AccessEventPayload): AccessChange | null {
  const owner = payload.repository?.owner?.login ?? payload.organization?.login;
  if (!owner) return null;
  const repoScope = payload.repository?.name
    ? ({ kind: "repository", owner, repo: payload.repository.name } as const)
    : null;
  const where = repoScope ? `${repoScope.owner}/${repoScope.repo}` : owner;
  const installation = { kind: "installation", owner } as const;

  if (event === "member") {
    const login = payload.member?.login?.toLowerCase();
    if (!login || !repoScope) return null;
    if (payload.action === "removed")
      return {
        direction: "loss",
        login,
        scope: repoScope,
        reason: `@${login} was removed as a collaborator of ${where}`,
      };
    if (payload.action === "added")
      return { direction: "gain", login, scope: repoScope, reason: `@${login} was added to ${where}` };
    if (payload.action === "edited") {
      const from = rankOfName(payload.changes?.permission?.from ?? payload.changes?.old_permission?.from);
      const to = rankOfName(payload.changes?.permission?.to);
      const dir = direction(from, to);
      if (dir === null) return null;
      return {
        direction: dir,
        login,
        scope: repoScope,
        reason: `@${login}'s permission on ${where} changed${dir === "loss" ? " (possibly lowered)" : " (raised)"}`,
      };
    }
    return null;
  }

  if (event === "membership") {
    const login = payload.member?.login?.toLowerCase();
    if (!login || payload.action !== "removed") return null;
    return {
      direction: "loss",
      login,
      scope: installation,
      reason: `@${login} was removed from ${teamName(payload)}`,
    };
  }

  if (event === "organization") {
    const login = payload.membership?.user?.login?.toLowerCase();
    if (!login || payload.action !== "member_removed") return null;
    return { direction: "loss", login, scope: installation, reason: `@${login} was removed from ${owner}` };
  }

  if (event === "team") {
    const team = teamName(payload);
    if (payload.action === "removed_from_repository")
      return {
        direction: "loss",
        login: null,
        // Without the repository named, every repository may be affected.
        scope: repoScope ?? installation,
        reason: `${team} was removed from ${where}`,
      };
    if (payload.action === "added_to_repository" && repoScope)
      return { direction: "gain", login: null, scope: repoScope, reason: `${team} was added to ${where}` };
    if (payload.action === "edited" && payload.changes?.repository) {
      const from = rankOfFlags(payload.changes.repository.permissions?.from);
      const to = rankOfFlags(payload.repository?.permissions);
      const dir = direction(from, to);
      if (dir === null) return null;
      return {
        direction: dir,
        login: null,
        scope: repoScope ?? installation,
        reason: `${team}'s permission on ${where} changed${dir === "loss" ? " (possibly lowered)" : " (raised)"}`,
      };
    }
    return null;
  }
  return null;
}

/** An open pull request and pullgate's verdict in force on its head. */
export interface PullVerdictState {
  repo: { owner: string; repo: string };
  number: number;
  headSha: string;
  /** The newest completed pullgate run's conclusion; null when there is none. */
  conclusion: string | null;
  decision: Decision | null;
  /** An evaluation is under way: it may have read the access before the change. */
  inProgress: boolean;
}

/**
 * Could the change make this PR's verdict wrong?
 * - loss: a passing verdict that counted the person's approval (or, for a team change, any passing
 *   verdict); a passing verdict whose decision cannot be read; or an evaluation under way.
 * - gain: a failing verdict in which an approval did not count (from that person, when one is named).
 */
export function mayBeStale(change: AccessChange, pull: PullVerdictState): boolean {
  if (change.direction === "loss") {
    if (pull.inProgress) return true;
    if (pull.conclusion !== "success") return false;
    if (pull.decision === null) return true;
    if (change.login === null) return true;
    return pull.decision.approvedBy.some((a) => a.toLowerCase() === change.login);
  }
  if (pull.conclusion !== "failure" || pull.decision === null) return false;
  const counted = new Set(pull.decision.approvedBy.map((a) => a.toLowerCase()));
  return pull.decision.reviews.some((r) => {
    const user = r.user.toLowerCase();
    return (
      r.state.toUpperCase() === "APPROVED" &&
      !counted.has(user) &&
      (change.login === null || user === change.login)
    );
  });
}

export interface AccessWorkLimits {
  /** Full re-evaluations per event (each costs about a dozen requests). */
  maxRegates: number;
}

export interface AccessWork {
  /** Re-evaluate through the gate. */
  regate: PullVerdictState[];
  /** Losses beyond the cap: complete a failing check ("access changed, re-run") instead of evaluating. */
  markStale: PullVerdictState[];
  /** Gains beyond the cap: left failing (safe), counted and logged. */
  skipped: PullVerdictState[];
}

/**
 * Which PRs to re-gate, which to mark failing and which to leave, lowest PR numbers first (a
 * stable order, so a repeated event re-gates the same ones). Past the cap a loss fails closed (a
 * failing check costs two requests, not an evaluation); a gain is left failing.
 */
export function planAccessWork(
  change: AccessChange,
  pulls: readonly PullVerdictState[],
  limits: AccessWorkLimits,
): AccessWork {
  const stale = pulls
    .filter((p) => mayBeStale(change, p))
    .sort(
      (a, b) =>
        `${a.repo.owner}/${a.repo.repo}`.localeCompare(`${b.repo.owner}/${b.repo.repo}`) ||
        a.number - b.number,
    );
  const regate = stale.slice(0, Math.max(0, limits.maxRegates));
  const rest = stale.slice(regate.length);
  return change.direction === "loss"
    ? { regate, markStale: rest, skipped: [] }
    : { regate, markStale: [], skipped: rest };
}
