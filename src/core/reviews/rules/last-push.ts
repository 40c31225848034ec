/**
 * GitHub's require_last_push_approval: the most recent push must be approved by someone other than
 * the person who pushed it. Applied before every other rule: the last pusher's approval is removed
 * from the counting approvers (so it satisfies no rule), and this rule then needs at least one
 * remaining counting approval given on the current head. Without it, a reviewer could approve,
 * then push a change of their own and merge on their earlier approval.
 */
import type { RuleResult } from "../../verdict/types.js";
import type { ApproverSet } from "../approvers.js";
import { shortSha } from "../approvers.js";
import { sameLogin } from "../principals.js";
import type { ReviewFacts } from "../types.js";
import { describeApproval } from "./format.js";

export const LAST_PUSH_RULE_ID = "last-push";

export interface LastPushOutcome {
  /** The approvers every other rule must use: the last pusher's approval moved to `ignored`. */
  approvers: ApproverSet;
  result: RuleResult;
}

export function applyLastPushRule(
  set: ApproverSet,
  facts: Pick<ReviewFacts, "lastPusher" | "headSha">,
): LastPushOutcome {
  const id = LAST_PUSH_RULE_ID;
  const title = "Approval of the most recent push";
  const pusher = facts.lastPusher;
  if (pusher === null || pusher.trim() === "") {
    // Unknown pusher: we cannot tell whose approval to discard. Fail closed.
    const reason = "the most recent pusher of the head commit is unknown";
    return {
      approvers: set,
      result: {
        id,
        title,
        status: "error",
        summary: `Cannot evaluate: ${reason}.`,
        satisfied: [],
        missing: [{ kind: "facts", reason }],
        fix: ["Re-run the pullgate check; if it keeps failing, see the app's logs."],
      },
    };
  }

  const own = set.approvers.filter((a) => sameLogin(a.login, pusher));
  const others = set.approvers.filter((a) => !sameLogin(a.login, pusher));
  const approvers: ApproverSet = {
    approvers: others,
    ignored: [
      ...set.ignored,
      ...own.map((a) => ({ ...a, reason: "pushed the most recent commit (last-push approval)" })),
    ],
    changesRequested: set.changesRequested,
  };
  const onHead = others.filter((a) => a.commitId === facts.headSha);
  const passed = onHead.length > 0;
  return {
    approvers,
    result: {
      id,
      title,
      status: passed ? "pass" : "fail",
      summary: passed
        ? `The most recent push by @${pusher} is approved by someone else.`
        : `The most recent push by @${pusher} (${shortSha(facts.headSha)}) needs an approval from someone other than @${pusher}.`,
      satisfied: onHead.map(describeApproval),
      missing: passed ? [] : [{ kind: "last-push-approval", pusher }],
      fix: passed
        ? []
        : [
            `Get an approval of ${shortSha(facts.headSha)} from a reviewer with write access other than @${pusher} and the author.`,
          ],
      ...(own.length > 0
        ? { notes: [`@${pusher}'s own approval does not count: they pushed the most recent commit.`] }
        : {}),
    },
  };
}
