import type { Status, Verdict } from "../verdict/types.js";

/**
 * The machine-readable decision pullgate stores in its own check run. Check runs can only be
 * written by the app that owns them, so this is a record no other actor can forge: the record
 * publisher reads it back statelessly when the PR merges.
 */
export interface Decision {
  version: 1;
  repository: string;
  pullRequest: number;
  headSha: string;
  headTree: string | null;
  baseRef: string;
  baseSha: string;
  environment: string | null;
  policyDigest: string;
  /** Logins whose approvals counted, lowercase, sorted. */
  approvedBy: string[];
  /** Reviews considered: who, state, and the commit each was given on. */
  reviews: { user: string; state: string; commitId: string }[];
  /** Signature verdicts per commit: sha, verified, signer fingerprint. */
  signatures: { commit: string; verified: boolean; format: string; key: string | null }[];
  /** Who pushed the head, when known (from the synchronize event). */
  lastPusher: string | null;
  /** The verdict's status and each rule's status; the prose stays in the rendered check. */
  status: Status;
  rules: { id: string; status: Status }[];
}

/** Who the decision is about: the repository ("owner/repo"), the PR and the head it judged. */
export interface DecisionSubject {
  repository: string;
  pullRequest: number;
  headSha: string;
  lastPusher: string | null;
}

/** What a decision says beyond its subject and verdict; absent fields mean "not known or not judged". */
export interface DecisionDetail {
  headTree?: string | null;
  baseRef?: string;
  baseSha?: string;
  environment?: string | null;
  approvedBy?: readonly string[];
  reviews?: readonly { user: string; state: string; commitId: string }[];
  signatures?: readonly {
    commit: string;
    verified: boolean;
    format: string;
    keyFingerprint: string | null;
  }[];
}

/**
 * The one builder of a Decision: every check pullgate writes carries one made here, so the record
 * publisher reads back the same shape whether the PR passed, failed, was refused or failed closed.
 * Approvers are lowercased, deduplicated and sorted; the status and rule ids come from the verdict.
 */
export function buildDecision(
  subject: DecisionSubject,
  verdict: Verdict,
  detail: DecisionDetail = {},
): Decision {
  return {
    version: 1,
    repository: subject.repository,
    pullRequest: subject.pullRequest,
    headSha: subject.headSha,
    headTree: detail.headTree ?? null,
    baseRef: detail.baseRef ?? "",
    baseSha: detail.baseSha ?? "",
    environment: detail.environment ?? null,
    policyDigest: verdict.policyDigest,
    approvedBy: [...new Set((detail.approvedBy ?? []).map((a) => a.toLowerCase()))].sort(),
    reviews: (detail.reviews ?? []).map((r) => ({ user: r.user, state: r.state, commitId: r.commitId })),
    signatures: (detail.signatures ?? []).map((v) => ({
      commit: v.commit,
      verified: v.verified,
      format: v.format,
      key: v.keyFingerprint,
    })),
    lastPusher: subject.lastPusher,
    status: verdict.status,
    rules: verdict.rules.map((r) => ({ id: r.id, status: r.status })),
  };
}

/** The decision of a check that failed closed before any fact was known: only its subject and verdict. */
export function emptyDecision(subject: DecisionSubject, verdict: Verdict): Decision {
  return buildDecision(subject, verdict);
}

const BEGIN = "<!-- pullgate-decision:";
const END = ":pullgate-decision -->";

/** Embeds the decision as base64 JSON inside an HTML comment, invisible in the rendered check. */
export function encodeDecision(decision: Decision): string {
  return `${BEGIN}${Buffer.from(JSON.stringify(decision)).toString("base64")}${END}`;
}

/** Reads a decision back from a check run's output text; null if absent or malformed. */
export function decodeDecision(text: string | null | undefined): Decision | null {
  if (!text) return null;
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start + BEGIN.length);
  if (start < 0 || end < 0) return null;
  try {
    const value: unknown = JSON.parse(
      Buffer.from(text.slice(start + BEGIN.length, end), "base64").toString("utf8"),
    );
    if (typeof value !== "object" || value === null) return null;
    const d = value as Partial<Decision>;
    if (d.version !== 1 || typeof d.headSha !== "string" || typeof d.policyDigest !== "string") return null;
    if (!Array.isArray(d.approvedBy) || !Array.isArray(d.rules) || typeof d.status !== "string") return null;
    return d as Decision;
  } catch {
    return null;
  }
}
