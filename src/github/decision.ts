import type { Status } from "../core/verdict/types.js";

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
