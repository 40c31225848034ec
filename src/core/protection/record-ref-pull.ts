import { DEFAULT_RECORD_REF_PREFIX } from "../policy/parse.js";
import type { RuleResult } from "../verdict/types.js";

/**
 * Pull requests into record refs (`approved/<env>`). A record ref holds only commits pullgate
 * signed; a PR merged into it puts a commit there that no agent accepts and that the publisher
 * cannot chain onto, so such a PR must fail its check, whatever policy its base's tree carries
 * (docs/protection.md, "Pull requests into record refs").
 *
 * Which prefix names the record refs is read where pullgate itself reads it for publishing: the
 * policy of the governed branches. The record ref's own tree is a copy of a governed branch's tree,
 * but its head may have been pushed by anyone the ref's protection let through, so its policy is
 * only ever used to widen the set of prefixes, never to narrow it.
 */

/** What one place said about the record-ref prefix. */
export type PrefixSource =
  /** A policy parsed there and names this prefix (its default "approved/" when it names none). */
  | { kind: "policy"; prefix: string; where: string }
  /** No pullgate policy there (nor an org policy). */
  | { kind: "none"; where: string }
  /** The policy there could not be read or parsed. */
  | { kind: "error"; reason: string; where: string };

export type RecordRefJudgement =
  | { kind: "record-ref"; prefix: string; environment: string; namedBy: string }
  | { kind: "not-record-ref" }
  /** The prefix could not be established and the base might be a record ref: fail closed. */
  | { kind: "unsure"; reason: string };

/**
 * Is `baseRef` a record ref? `governing` is what the policy of the governed branches says (the
 * repository's default branch, merged over the org policy); `base` what the policy at the PR's
 * base commit says. A base matching the prefix of either is a record ref. When the governing policy
 * is missing or unreadable, pullgate's default prefix counts too (records may have been published
 * under it); when it is unreadable and the base matches nothing, the answer is `unsure`.
 */
export function judgeRecordRefBase(
  baseRef: string,
  governing: PrefixSource,
  base: PrefixSource,
): RecordRefJudgement {
  const candidates: { prefix: string; namedBy: string }[] = [];
  if (governing.kind === "policy") {
    candidates.push({ prefix: governing.prefix, namedBy: governing.where });
  } else {
    candidates.push({
      prefix: DEFAULT_RECORD_REF_PREFIX,
      namedBy: `pullgate's default prefix (${governing.kind === "none" ? "no policy" : "no readable policy"} at ${governing.where})`,
    });
  }
  if (base.kind === "policy") candidates.push({ prefix: base.prefix, namedBy: base.where });
  for (const { prefix, namedBy } of candidates) {
    if (prefix !== "" && baseRef.startsWith(prefix) && baseRef.length > prefix.length) {
      return { kind: "record-ref", prefix, environment: baseRef.slice(prefix.length), namedBy };
    }
  }
  if (governing.kind === "error") {
    return {
      kind: "unsure",
      reason: `cannot tell whether ${baseRef} is a record ref: the policy at ${governing.where} could not be read (${governing.reason})`,
    };
  }
  return { kind: "not-record-ref" };
}

/** The failing rule a PR into a record ref gets. */
export function recordRefPullRule(
  baseRef: string,
  judgement: { prefix: string; environment: string; namedBy: string },
): RuleResult {
  return {
    id: "record-ref",
    title: "Record ref",
    status: "fail",
    summary: `${baseRef} is a record ref (prefix ${judgement.prefix}, from ${judgement.namedBy}): only pullgate writes it, never a pull request.`,
    satisfied: [],
    missing: [
      {
        kind: "protection",
        setting: "record_ref",
        expected: `${baseRef} written only by pullgate`,
        actual: `a pull request into ${baseRef}`,
      },
    ],
    fix: [
      `Close this pull request. To change what ${judgement.environment} runs, open the pull request into the branch that feeds ${judgement.environment}; when it merges there approved, pullgate publishes the record on ${baseRef} itself.`,
    ],
  };
}
