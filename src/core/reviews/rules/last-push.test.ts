import { describe, expect, it } from "vitest";
import { applyLastPushRule } from "./last-push.js";
import type { ApproverSet } from "../approvers.js";
import { HEAD, OLD } from "../__fixtures__/facts.js";

const approval = (login: string, commitId = HEAD) => ({ login, commitId, reviewId: 1 });
function set(logins: string[]): ApproverSet {
  return { approvers: logins.map((l) => approval(l)), ignored: [], changesRequested: [] };
}

describe("applyLastPushRule", () => {
  it("attack: the last pusher as the only approver fails, and their approval is removed", () => {
    const outcome = applyLastPushRule(set(["bob"]), { lastPusher: "bob", headSha: HEAD });
    expect(outcome.result.status).toBe("fail");
    expect(outcome.result.missing).toEqual([{ kind: "last-push-approval", pusher: "bob" }]);
    expect(outcome.approvers.approvers).toEqual([]);
    expect(outcome.approvers.ignored).toMatchObject([
      { login: "bob", reason: expect.stringContaining("most recent") },
    ]);
  });

  it("matches the pusher case-insensitively", () => {
    const outcome = applyLastPushRule(set(["Bob"]), { lastPusher: "bOB", headSha: HEAD });
    expect(outcome.approvers.approvers).toEqual([]);
  });

  it("passes with another approver on the head; keeps them for other rules", () => {
    const outcome = applyLastPushRule(set(["bob", "alice"]), { lastPusher: "bob", headSha: HEAD });
    expect(outcome.result.status).toBe("pass");
    expect(outcome.approvers.approvers.map((a) => a.login)).toEqual(["alice"]);
  });

  it("another approver's approval of an older head does not approve the last push", () => {
    const input: ApproverSet = { approvers: [approval("alice", OLD)], ignored: [], changesRequested: [] };
    const outcome = applyLastPushRule(input, { lastPusher: "author", headSha: HEAD });
    expect(outcome.result.status).toBe("fail");
    expect(outcome.approvers.approvers).toHaveLength(1);
  });

  it("errors (fail closed) when the last pusher is unknown", () => {
    const outcome = applyLastPushRule(set(["alice"]), { lastPusher: null, headSha: HEAD });
    expect(outcome.result.status).toBe("error");
    expect(outcome.result.missing[0]?.kind).toBe("facts");
  });
});
