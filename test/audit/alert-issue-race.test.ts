/**
 * The drift issue stays one issue per drift state when syncs race (issue 12, finding 4): in one
 * process they are serialized; across replicas, the replica whose create lost closes its own
 * issue as a duplicate, and later syncs keep using the oldest open one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHub } from "../../src/github/octokit.js";
import {
  DRIFT_LABEL,
  DRIFT_TITLE,
  planDriftIssue,
  renderDriftIssueBody,
  syncDriftIssue,
  type ExistingIssue,
} from "../../src/github/protection/alert-issue.js";
import { auditRepository } from "../../src/github/protection/audit.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import { auditOptions, ORG_POLICY, probotOctokit, writeFiles } from "./harness.js";

const ORG = "acme";

describe("drift issue plan with duplicates", () => {
  const issue = (number: number, state: string): ExistingIssue => ({
    number,
    state,
    title: DRIFT_TITLE,
    body: "<!-- pullgate:protection-drift -->\nold",
    author: "pullgate[bot]",
  });

  it("uses the oldest open issue when a race left several open, not the newest", () => {
    const existing = [issue(3, "open"), issue(9, "closed"), issue(5, "open")];
    expect(planDriftIssue(existing, "<!-- pullgate:protection-drift -->\nnew", "pullgate[bot]")).toEqual({
      action: "update",
      number: 3,
      body: "<!-- pullgate:protection-drift -->\nnew",
      reopen: false,
    });
    expect(planDriftIssue(existing, null, "pullgate[bot]")).toEqual({ action: "close", number: 3 });
  });
});

describe("drift issue syncs that race, on the sandbox", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let app: GitHub;
  let bot: string;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    app = probotOctokit(t, await t.installationToken(ORG));
    bot = `${t.sandbox.app.slug}[bot]`;
  }, 60_000);
  afterAll(async () => t?.close());

  const repo = (name: string) => ({ owner: ORG, repo: name });
  const openIssues = async (name: string) =>
    (
      await alice.octokit.request("GET /repos/{owner}/{repo}/issues", {
        ...repo(name),
        state: "open",
        labels: DRIFT_LABEL,
      })
    ).data.map((i) => i.number);

  it("concurrent syncs in one process open one issue", async () => {
    await t.createRepo(ORG, "burst");
    const report = await auditRepository(app, repo("burst"), auditOptions(t));
    expect(renderDriftIssueBody(report)).not.toBeNull();
    t.sandbox.instrumentation.resetCounts();
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() => syncDriftIssue(app, repo("burst"), report, { author: bot })),
    );
    expect(results.filter((r) => r.action === "create")).toHaveLength(1);
    expect(t.sandbox.instrumentation.count("POST /repos/{owner}/{repo}/issues")).toBe(1);
    expect(await openIssues("burst")).toHaveLength(1);
  });

  it("a replica whose create lost the race closes its own issue; the next sync uses the survivor", async () => {
    await t.createRepo(ORG, "replicas");
    const report = await auditRepository(app, repo("replicas"), auditOptions(t));
    const body = renderDriftIssueBody(report) as string;
    // The other replica creates the issue between this replica's listing and its create.
    let otherReplica: number | null = null;
    const racing = new Proxy(app, {
      get(target, prop, receiver) {
        if (prop !== "request") return Reflect.get(target, prop, receiver);
        return async (route: string, params: Record<string, unknown>) => {
          if (route === "POST /repos/{owner}/{repo}/issues" && otherReplica === null) {
            const { data } = await app.request("POST /repos/{owner}/{repo}/issues", {
              ...repo("replicas"),
              title: DRIFT_TITLE,
              body,
              labels: [DRIFT_LABEL],
            });
            otherReplica = data.number;
          }
          return (target.request as (r: string, p: Record<string, unknown>) => Promise<unknown>)(
            route,
            params,
          );
        };
      },
    });
    const result = await syncDriftIssue(racing, repo("replicas"), report, { author: bot });
    expect(otherReplica).not.toBeNull();
    expect(result).toEqual({ action: "none", number: otherReplica });
    expect(await openIssues("replicas")).toEqual([otherReplica]);

    // Later syncs keep to the survivor, with nothing to change.
    t.sandbox.instrumentation.resetCounts();
    expect(await syncDriftIssue(app, repo("replicas"), report, { author: bot })).toEqual({
      action: "none",
      number: otherReplica,
    });
    expect(t.sandbox.instrumentation.count("PATCH /repos/{owner}/{repo}/issues/{issue_number}")).toBe(0);
  });
});
