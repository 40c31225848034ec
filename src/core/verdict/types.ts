/**
 * A verdict is data, not prose: the GitHub adapter renders it as a check run, the CLI as JSON.
 * Modelled on policy-bot's result trees: every rule says its status, what is satisfied, what is
 * missing and how to fix it.
 */
export type Status = "pass" | "fail" | "error" | "pending";

/** Something a rule still needs, typed so renderers can build tables from it. */
export type Missing =
  /** These files still need an approval from one of these owners (CODEOWNERS or a path rule). */
  | { kind: "owner-approval"; files: string[]; owners: string[]; needed: number; have: number; rule: string }
  /** The PR needs more approvals overall. */
  | { kind: "approvals"; needed: number; have: number }
  /** A writer's latest review requests changes: it blocks until they approve or it is dismissed. */
  | { kind: "changes-requested"; reviewer: string; commit: string }
  /** A commit has no valid signature by a trusted key (reason says why). */
  | { kind: "signature"; commit: string; reason: string; signer: string | null }
  /** A sensitive file (CODEOWNERS, policy, keyring, workflows) changed without a policy admin's approval. */
  | { kind: "admin-approval"; files: string[]; admins: string[] }
  /** The most recent pusher cannot be the only approver. */
  | { kind: "last-push-approval"; pusher: string }
  /** Branch protection setting that differs from the policy. */
  | { kind: "protection"; setting: string; expected: string; actual: string }
  /** The facts could not be gathered completely (truncated listing, API error, timeout). */
  | { kind: "facts"; reason: string };

export interface RuleResult {
  /** Stable id: "signatures", "approvals", "codeowners", "path:<name>", "sensitive-paths", "protection", "facts". */
  id: string;
  /** Short human title for the rule table. */
  title: string;
  status: Status;
  /** One line: what the rule found. */
  summary: string;
  /** What is already satisfied (e.g. "@alice approved at abc1234"). */
  satisfied: string[];
  missing: Missing[];
  /** How to fix each missing item, imperative sentences. */
  fix: string[];
  /** Optional context that is neither satisfied nor missing, e.g. "@alice's approval does not count: author's own approval". */
  notes?: string[];
}

export interface Verdict {
  /**
   * pass only if every rule passed (docs/architecture.md, invariant 1); error if any rule errored;
   * else fail/pending.
   */
  status: Status;
  /** The exact head SHA all facts were fetched for. */
  headSha: string;
  /** sha256:<hex> of the canonical effective policy. */
  policyDigest: string;
  rules: RuleResult[];
}
