/**
 * End to end, issue 12 finding 3: a lost webhook is not trusted at landing. bob (a member of
 * @acme/sre, which owns clusters/prod/) approves; he is removed from the team but the `membership`
 * webhook is lost (the change is made in the emulator's state, so no event is sent), so the check
 * stays green. At landing the publisher judges each counted approval again with current facts, by
 * the core's own CODEOWNERS and review rules at the base the PR was approved against: no record,
 * and the alert names the approval that lapsed. The request cost of an ordinary merge is measured
 * and printed (docs/performance.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { mergePull, openApprovedPull, recordHead } from "../helpers/records.js";

describe("e2e: landing re-checks team membership and CODEOWNERS coverage", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const alertText = async () => {
    const { olivia } = h.people;
    const { data: issues } = await olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo: REPO,
      labels: "pullgate-alert",
      state: "open",
    });
    const texts: string[] = [];
    for (const issue of issues) {
      texts.push(issue.body ?? "");
      const { data: comments } = await olivia.octokit.request(
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { owner: ORG, repo: REPO, issue_number: issue.number },
      );
      texts.push(...comments.map((c) => c.body ?? ""));
    }
    return texts.join("\n");
  };

  it("an ordinary approved merge still publishes (and costs what docs/performance.md states)", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "recheck-ok", [
      { "clusters/prod/app.yaml": "replicas: 4\n" },
    ]);
    const counter = h.t.sandbox.instrumentation;
    await h.settle();
    counter.resetCounts();
    await mergePull(h, olivia, pr.number, "squash");
    const routes = counter.requestCounts();
    // Counted + 304 per route: the ETag cache answers unchanged reads 304 (not counted by GitHub).
    const served = counter.servedRequestCounts();
    expect(await recordHead(h)).not.toBeNull();
    // The landing re-check: the PR's files (1 page) and the rosters of @acme/sre and @acme/platform.
    expect(served["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"]).toBe(1);
    expect(served["GET /orgs/{org}/teams/{team_slug}/members"]).toBe(2);
    // The record log entry.
    expect(routes["POST /repos/{owner}/{repo}/check-runs"]).toBe(1);
    console.info(
      `[records cost] first approved merge and record: ${counter.totalRequests() - 1} requests ${JSON.stringify(routes)}`,
    );

    const second = await openApprovedPull(h, alice, bob, "recheck-ok-2", [
      { "clusters/prod/app.yaml": "replicas: 5\n" },
    ]);
    await h.settle();
    counter.resetCounts();
    await mergePull(h, olivia, second.number, "squash");
    console.info(
      `[records cost] next approved merge and record: ${counter.totalRequests() - 1} requests ${JSON.stringify(counter.requestCounts())}`,
    );
  });

  it("the approver left the owning team and the membership webhook was lost: the check stays green, the merge gets no record, the alert names the lapsed approval", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "recheck-team", [
      { "clusters/prod/app.yaml": "replicas: 31\n" },
    ]);
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    const team = h.t.sandbox.state.teams[`${ORG}/sre`];
    if (!team) throw new Error("no team acme/sre");
    const role = team.members[bob.login];
    delete team.members[bob.login];
    try {
      await h.settle();
      // Nothing re-gated the PR: the verdict in force is still the green one.
      expect((await h.check(pr.headSha))?.id).toBe(green?.id);
      const before = await recordHead(h);
      const landed = await mergePull(h, olivia, pr.number, "squash");
      expect(await recordHead(h)).toBe(before);
      const said = await alertText();
      expect(said).toContain(landed);
      expect(said).toContain(
        `pull request #${pr.number} would not pass with the facts current when it landed: @bob's approval no longer satisfies @acme/sre for clusters/prod/app.yaml (Code owners)`,
      );
      const { data: statuses } = await olivia.octokit.request(
        "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
        {
          owner: ORG,
          repo: REPO,
          ref: landed,
        },
      );
      expect(statuses).toEqual([expect.objectContaining({ context: "pullgate/record", state: "failure" })]);
    } finally {
      if (role) team.members[bob.login] = role;
    }
  });

  it("with the membership back, the next approved landing publishes again on the unchanged chain", async () => {
    const { alice, bob, olivia } = h.people;
    const before = await recordHead(h);
    const pr = await openApprovedPull(h, alice, bob, "recheck-back", [
      { "clusters/prod/app.yaml": "replicas: 32\n" },
    ]);
    await mergePull(h, olivia, pr.number, "squash");
    const head = await recordHead(h);
    expect(head).not.toBe(before);
    const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner: ORG,
      repo: REPO,
      commit_sha: head ?? "",
    });
    expect(data.parents[0]?.sha).toBe(before);
  });
});
