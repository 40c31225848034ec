import { describe, expect, it } from "vitest";
import type { GitHub } from "../octokit.js";
import {
  ALERT_ISSUE_MARKER,
  ALERT_LABEL,
  alreadyReported,
  eventMarker,
  ownAlertIssue,
  raiseAlert,
  type IssueView,
} from "./alert.js";
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

/**
 * A GitHub whose open `pullgate-alert` issues are `open`, whatever filter is asked for: the code
 * must not rely on the server honouring `creator` (a proxy, an older GHES, the sandbox).
 */
function fakeGitHub(open: IssueView[], comments: { user: { login: string }; body: string }[] = []) {
  const calls: { listed: Record<string, unknown>[]; created: unknown[]; commented: number[] } = {
    listed: [],
    created: [],
    commented: [],
  };
  const listForRepo = () => undefined;
  const listComments = () => undefined;
  const gh = {
    rest: {
      issues: {
        listForRepo,
        listComments,
        create: (params: unknown) => {
          calls.created.push(params);
          return Promise.resolve({ data: { number: 100 } });
        },
        createComment: (params: { issue_number: number }) => {
          calls.commented.push(params.issue_number);
          return Promise.resolve({ data: {} });
        },
      },
      repos: { createCommitStatus: () => Promise.resolve({ data: {} }) },
    },
    paginate: (method: unknown, params: Record<string, unknown>) => {
      if (method === listForRepo) {
        calls.listed.push(params);
        return Promise.resolve(open);
      }
      if (method === listComments) return Promise.resolve(comments);
      return Promise.reject(new Error("unexpected request"));
    },
  };
  // A structural fake of the few Octokit calls raiseAlert makes (the full type is Probot's).
  return { gh: gh as unknown as GitHub, calls };
}

describe("raiseAlert: a triager's labelled issue is never where the alert goes", () => {
  const REPO = { owner: "acme", repo: "gitops" };
  const event = { key: "bypass:abc", body: "**abc** reached `main`" };
  const decoy = { number: 9, user: { login: "mallory" }, body: `${ALERT_ISSUE_MARKER}\nnothing to see here` };

  it("opens the app's own issue instead of commenting on mallory's look-alike", async () => {
    const { gh, calls } = fakeGitHub([decoy]);
    expect(await raiseAlert(gh, REPO, BOT, event)).toEqual({ issue: 100, duplicate: false });
    expect(calls.commented).toEqual([]);
    expect(calls.created).toEqual([
      expect.objectContaining({
        labels: [ALERT_LABEL],
        body: expect.stringContaining(eventMarker(event.key)),
      }),
    ]);
    // The server-side filter is asked for too; the check above does not depend on it.
    expect(calls.listed).toEqual([
      expect.objectContaining({ labels: ALERT_LABEL, creator: BOT, state: "open" }),
    ]);
  });

  it("a look-alike with the event's marker does not make the event a duplicate", async () => {
    const planted = { ...decoy, body: `${ALERT_ISSUE_MARKER}\n${eventMarker(event.key)}` };
    const { gh, calls } = fakeGitHub([planted]);
    expect(await raiseAlert(gh, REPO, BOT, event)).toEqual({ issue: 100, duplicate: false });
    expect(calls.created).toHaveLength(1);
  });

  it("comments on the app's own issue, once per event", async () => {
    const own = { number: 3, user: { login: BOT }, body: `${ALERT_ISSUE_MARKER}\n...` };
    const first = fakeGitHub([decoy, own]);
    expect(await raiseAlert(first.gh, REPO, BOT, event)).toEqual({ issue: 3, duplicate: false });
    expect(first.calls.commented).toEqual([3]);
    expect(first.calls.created).toEqual([]);
    const replay = fakeGitHub([decoy, own], [{ user: { login: BOT }, body: eventMarker(event.key) }]);
    expect(await raiseAlert(replay.gh, REPO, BOT, event)).toEqual({ issue: 3, duplicate: true });
    expect(replay.calls.commented).toEqual([]);
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
