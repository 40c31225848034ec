import { describe, expect, it } from "vitest";
import { ALERT_ISSUE_MARKER, alreadyReported, eventMarker, ownAlertIssue } from "./alert.js";
import { formatLogId, newestEntry, parseLogId, RECORD_LOG_CHECK } from "./record-log.js";

const BOT = "pullgate[bot]";

describe("ownAlertIssue: only the app's own alert issue is reused", () => {
  it("ignores an issue a person labelled pullgate-alert, even with the marker copied in", () => {
    const issues = [
      { number: 9, user: { login: "mallory" }, body: `${ALERT_ISSUE_MARKER} mine now` },
      { number: 3, user: { login: "Pullgate[bot]" }, body: `${ALERT_ISSUE_MARKER}\n...` },
      { number: 5, user: { login: BOT }, body: "an old issue without the marker" },
      { number: 7, user: { login: BOT }, body: ALERT_ISSUE_MARKER, pull_request: {} },
    ];
    expect(ownAlertIssue(issues, BOT)?.number).toBe(3);
    expect(ownAlertIssue(issues.slice(0, 1), BOT)).toBeNull();
  });
});

describe("alreadyReported: one comment per event, not per delivery", () => {
  const issue = {
    number: 3,
    user: { login: BOT },
    body: `${ALERT_ISSUE_MARKER}\n${eventMarker("bypass:aaa")}`,
  };
  it("finds the event in the issue body or in the app's own comments", () => {
    expect(alreadyReported(issue, [], "bypass:aaa", BOT)).toBe(true);
    expect(
      alreadyReported(issue, [{ user: { login: BOT }, body: eventMarker("bypass:bbb") }], "bypass:bbb", BOT),
    ).toBe(true);
    expect(alreadyReported(issue, [], "bypass:bbb", BOT)).toBe(false);
  });
  it("a comment by someone else with the marker does not silence the alert", () => {
    expect(
      alreadyReported(
        issue,
        [{ user: { login: "mallory" }, body: eventMarker("bypass:ccc") }],
        "bypass:ccc",
        BOT,
      ),
    ).toBe(false);
  });
  it("markers cannot be closed early by an odd key", () => {
    expect(eventMarker("x --> y")).not.toContain("-->  y");
    expect(eventMarker("x --> y").match(/-->/g)).toHaveLength(1);
  });
});

describe("record log ids", () => {
  const entry = { environment: "prod/eu", sequence: 12, record: "f".repeat(40) };
  it("round-trips, and rejects anything else", () => {
    expect(parseLogId(formatLogId(entry))).toEqual(entry);
    expect(parseLogId("pullgate-record:v1:prod:0:" + "f".repeat(40))).toBeNull();
    expect(parseLogId("pullgate-record:v1:prod:1:" + "F".repeat(40))).toBeNull();
    expect(parseLogId("something else")).toBeNull();
    expect(parseLogId(null)).toBeNull();
  });
  it("the newest entry is the app's own, completed, for the environment", () => {
    const run = (over: object) => ({
      name: RECORD_LOG_CHECK,
      app_id: 1,
      status: "completed",
      external_id: formatLogId(entry),
      ...over,
    });
    expect(newestEntry([run({})], 1, "prod/eu")).toEqual(entry);
    expect(newestEntry([run({ app_id: 2 })], 1, "prod/eu")).toBeNull();
    expect(newestEntry([run({ name: "pullgate" })], 1, "prod/eu")).toBeNull();
    expect(newestEntry([run({ status: "in_progress" })], 1, "prod/eu")).toBeNull();
    expect(newestEntry([run({})], 1, "staging")).toBeNull();
    const newer = run({ external_id: formatLogId({ ...entry, sequence: 13 }) });
    expect(newestEntry([run({}), newer], 1, "prod/eu")?.sequence).toBe(13);
  });
});
