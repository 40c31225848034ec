/**
 * Which PR a head's check reports. A check run belongs to a commit, not to a PR: GitHub shows the
 * head's latest pullgate check on every PR with that head, and a required check that is `neutral`
 * counts as passing. So a second PR of the same head into an ungoverned or weaker branch must not
 * be able to turn the check of the PR into a governed branch neutral or green: the check reports
 * the strictest outcome (a record-ref refusal, then any failure, beats a pass; a pass beats "not
 * governed"). Used for a PR head (src/github/evaluate-head.ts); pure.
 */
import type { Status } from "../verdict/types.js";

/** What the pick needs of one PR's outcome. */
export type OutcomeKind =
  | { kind: "ungoverned"; baseRef: string }
  | { kind: "record-ref"; baseRef: string }
  | { kind: "evaluated"; baseRef: string; status: Status };

export interface PullOutcome<T> {
  number: number;
  outcome: OutcomeKind;
  /** The caller's own evaluation, returned as picked. */
  value: T;
}

function describe(o: PullOutcome<unknown>): string {
  const e = o.outcome;
  if (e.kind === "ungoverned") return `#${o.number} into ${e.baseRef}: not governed`;
  if (e.kind === "record-ref") return `#${o.number} into the record ref ${e.baseRef}: refused`;
  return `#${o.number} into ${e.baseRef}: ${e.status === "pass" ? "passes" : "does not pass"}`;
}

/**
 * The strictest of `all`, whose first entry is the event's own PR: failing first (a record-ref
 * refusal before any other failure); then the own PR when it is governed; then any governed PR;
 * else the own PR. Notes name the others, for the check's summary.
 */
export function pickStrictest<T>(all: readonly PullOutcome<T>[]): {
  reported: PullOutcome<T>;
  notes: string[];
} {
  const own = all[0];
  if (!own) throw new Error("pickStrictest needs at least the event's own PR");
  const governed = all.filter((o) => o.outcome.kind === "evaluated");
  const failing =
    all.find((o) => o.outcome.kind === "record-ref") ??
    governed.find((o) => o.outcome.kind === "evaluated" && o.outcome.status !== "pass");
  const reported = failing ?? (own.outcome.kind === "evaluated" ? own : governed[0]) ?? own;
  const notes = all
    .filter((o) => o !== reported)
    .map(
      (o) =>
        `This head is also the head of ${describe(o)}. A check belongs to the commit, so it reports #${reported.number}, the strictest.`,
    );
  return { reported, notes };
}
