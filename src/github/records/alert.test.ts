import { describe, expect, it } from "vitest";
import type { GitHub } from "../octokit.js";
import {
  ALERT_ISSUE_MARKER,
  ALERT_LABEL,
  alertIssueBody,
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
function fakeGitHub(
  open: IssueView[] | ((listing: number) => IssueView[]),
  comments: { user: { login: string }; body: string }[] = [],
) {
  const calls: {
    listed: Record<string, unknown>[];
    created: unknown[];
    commented: number[];
    updated: Record<string, unknown>[];
  } = {
    listed: [],
    created: [],
    commented: [],
    updated: [],
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
        update: (params: Record<string, unknown>) => {
          calls.updated.push(params);
          return Promise.resolve({ data: {} });
        },
      },
      repos: { createCommitStatus: () => Promise.resolve({ data: {} }) },
    },
    paginate: (method: unknown, params: Record<string, unknown>) => {
      if (method === listForRepo) {
        calls.listed.push(params);
        return Promise.resolve(typeof open === "function" ? open(calls.listed.length) : open);
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
    expect(calls.listed.length).toBeGreaterThan(0);
    for (const listing of calls.listed)
      expect(listing).toEqual(expect.objectContaining({ labels: ALERT_LABEL, creator: BOT, state: "open" }));
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
  const first = { key: "bypass:aaa", body: "**aaa** reached `main`" };
  const issue = { number: 3, user: { login: BOT }, body: alertIssueBody(first) };
  it("finds the event in the issue body the app opened the issue with, or in the app's own comments", () => {
    expect(alreadyReported(issue, [], first, BOT)).toBe(true);
    const second = { key: "bypass:bbb", body: "**bbb**" };
    expect(
      alreadyReported(issue, [{ user: { login: BOT }, body: eventMarker(second.key) }], second, BOT),
    ).toBe(true);
    expect(alreadyReported(issue, [], second, BOT)).toBe(false);
  });
  it("a comment by someone else with the marker does not silence the alert", () => {
    const event = { key: "bypass:ccc", body: "**ccc**" };
    expect(
      alreadyReported(issue, [{ user: { login: "mallory" }, body: eventMarker(event.key) }], event, BOT),
    ).toBe(false);
  });
  it("a marker planted in the app's issue body by an edit does not silence the alert", () => {
    // Anyone with write access can edit the body: mallory adds the marker of the commit she is
    // about to push straight to main.
    const next = { key: "bypass:ddd", body: "**ddd** reached `main`" };
    const edited = { ...issue, body: `${issue.body}\n${eventMarker(next.key)}` };
    expect(alreadyReported(edited, [], next, BOT)).toBe(false);
  });
  it("an edited body no longer vouches even for the event the issue was opened for", () => {
    const edited = { ...issue, body: `${issue.body}\n\n(triaged, nothing to see)` };
    expect(alreadyReported(edited, [], first, BOT)).toBe(false);
    // Not the app's issue: its body vouches for nothing, however exact.
    expect(alreadyReported({ ...issue, user: { login: "mallory" } }, [], first, BOT)).toBe(false);
  });
  it("markers cannot be closed early by an odd key", () => {
    expect(eventMarker("x --> y")).not.toContain("-->  y");
    expect(eventMarker("x --> y").match(/-->/g)).toHaveLength(1);
  });
});

describe("raiseAlert: what others can edit or label never suppresses an alert", () => {
  const REPO = { owner: "acme", repo: "gitops" };
  const first = { key: "bypass:aaa", body: "**aaa** reached `main`" };
  const next = { key: "bypass:bbb", body: "**bbb** reached `main`" };

  it("a human who labels their own issue pullgate-alert does not receive the alert", async () => {
    // mallory opens an issue, labels it, and copies both markers in: the alert still opens the
    // app's own issue, with the event in it.
    const own = {
      number: 4,
      user: { login: "mallory" },
      body: `${ALERT_ISSUE_MARKER}\n${eventMarker(next.key)}\n${alertIssueBody(next)}`,
    };
    const { gh, calls } = fakeGitHub([own]);
    expect(await raiseAlert(gh, REPO, BOT, next)).toEqual({ issue: 100, duplicate: false });
    expect(calls.commented).toEqual([]);
    expect(calls.created).toEqual([expect.objectContaining({ body: alertIssueBody(next) })]);
  });

  it("the app's issue body edited to carry the next event's marker: the event is still commented", async () => {
    const issue = {
      number: 3,
      user: { login: BOT },
      body: `${alertIssueBody(first)}\n${eventMarker(next.key)}`,
    };
    const { gh, calls } = fakeGitHub([issue]);
    expect(await raiseAlert(gh, REPO, BOT, next)).toEqual({ issue: 3, duplicate: false });
    expect(calls.commented).toEqual([3]);
  });

  it("a replay of the event the app's unedited issue was opened for adds nothing", async () => {
    const { gh, calls } = fakeGitHub([{ number: 3, user: { login: BOT }, body: alertIssueBody(first) }]);
    expect(await raiseAlert(gh, REPO, BOT, first)).toEqual({ issue: 3, duplicate: true });
    expect(calls.commented).toEqual([]);
    expect(calls.created).toEqual([]);
  });
});

describe("raiseAlert: two raises that each open an issue end with one", () => {
  const REPO = { owner: "acme", repo: "gitops" };
  const event = { key: "bypass:aaa", body: "**aaa** reached `main`" };

  it("the newer issue is closed as a duplicate of the older, whose body already reports the event", async () => {
    // Our listing finds nothing; by the time we have created #100, another replica's #42, opened
    // for the same event, is listed too.
    const other = { number: 42, user: { login: BOT }, body: alertIssueBody(event) };
    const { gh, calls } = fakeGitHub((listing) =>
      listing === 1 ? [] : [other, { number: 100, user: { login: BOT }, body: alertIssueBody(event) }],
    );
    expect(await raiseAlert(gh, REPO, BOT, event)).toEqual({ issue: 42, duplicate: true });
    expect(calls.commented).toEqual([]);
    expect(calls.updated).toEqual([
      expect.objectContaining({ issue_number: 100, state: "closed", body: expect.stringContaining("#42") }),
    ]);
    // The pointer left behind is no alert issue of ours any more (and names no event).
    const body = String(calls.updated[0]?.body);
    expect(body).not.toContain(ALERT_ISSUE_MARKER);
    expect(body).not.toContain(eventMarker(event.key));
  });

  it("an event the older issue does not report yet is commented there", async () => {
    const other = {
      number: 42,
      user: { login: BOT },
      body: alertIssueBody({ key: "bypass:zzz", body: "z" }),
    };
    const { gh, calls } = fakeGitHub((listing) =>
      listing === 1 ? [] : [other, { number: 100, user: { login: BOT }, body: alertIssueBody(event) }],
    );
    expect(await raiseAlert(gh, REPO, BOT, event)).toEqual({ issue: 42, duplicate: false });
    expect(calls.commented).toEqual([42]);
    expect(calls.updated).toEqual([expect.objectContaining({ issue_number: 100, state: "closed" })]);
  });

  it("the older of the two keeps its issue; a look-alike of someone else's is no older issue", async () => {
    const decoy = { number: 7, user: { login: "mallory" }, body: alertIssueBody(event) };
    const { gh, calls } = fakeGitHub((listing) =>
      listing === 1 ? [decoy] : [decoy, { number: 100, user: { login: BOT }, body: alertIssueBody(event) }],
    );
    expect(await raiseAlert(gh, REPO, BOT, event)).toEqual({ issue: 100, duplicate: false });
    expect(calls.updated).toEqual([]);
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
