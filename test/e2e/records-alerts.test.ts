/**
 * End to end, invariant 5 (docs/architecture.md) from the other side: a commit that reaches the
 * governed branch without an approved pull request gets no record, a failing `pullgate/record`
 * commit status and an alert in the repository's one `pullgate-alert` issue (a comment per further
 * event, never a second issue). The sandbox repo has no branch protection here, so the org admin
 * can push and merge past pullgate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { git, mergePull, openApprovedPull, recordHead } from "../helpers/records.js";

describe("e2e: bypasses publish no record and raise one alert issue", () => {
  let h: AppHarness;
  let admin: string;
  let record: string | null;

  beforeAll(async () => {
    h = await startAppHarness();
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "first", [
      { "clusters/prod/app.yaml": "replicas: 3\n" },
    ]);
    await mergePull(h, olivia, pr.number, "squash");
    record = await recordHead(h);
    expect(record).not.toBeNull();
    admin = await h.clone(olivia);
  });
  afterAll(async () => {
    await h?.close();
  });

  const statuses = async (sha: string) =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/statuses", {
        owner: ORG,
        repo: REPO,
        ref: sha,
      })
    ).data.map((s) => ({ context: s.context, state: s.state, description: s.description }));
  const alertIssues = async () =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
        owner: ORG,
        repo: REPO,
        labels: "pullgate-alert",
        state: "all",
      })
    ).data.filter((i) => !i.pull_request);
  const comments = async (issue: number) =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
        owner: ORG,
        repo: REPO,
        issue_number: issue,
      })
    ).data.map((c) => c.body ?? "");

  /** The admin commits straight onto main and pushes (no pull request at all). */
  async function directPush(files: Record<string, string>): Promise<string> {
    const { olivia } = h.people;
    await git(h, admin, ["fetch", "-q", "origin", "main"]);
    await git(h, admin, ["checkout", "-q", "-B", "main", "origin/main"]);
    const sha = await h.commit(admin, olivia, files, "hotfix straight to main");
    const pushed = await h.t.push(admin, "HEAD:refs/heads/main");
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
    return sha;
  }

  it("a direct push to main by the org admin: no record, failing status, one alert issue", async () => {
    expect(await alertIssues()).toEqual([]);
    const sha = await directPush({ "clusters/prod/app.yaml": "replicas: 50\n" });
    expect(await recordHead(h)).toBe(record);
    expect(await statuses(sha)).toEqual([
      expect.objectContaining({ context: "pullgate/record", state: "failure" }),
    ]);
    const issues = await alertIssues();
    expect(issues).toHaveLength(1);
    expect(issues[0]?.state).toBe("open");
    expect(issues[0]?.body).toContain(sha);
    expect(issues[0]?.body).toContain("@olivia");
    expect(issues[0]?.body).toContain("no merged pull request produced this commit");
  });

  it("a second bypass adds a comment to the same issue instead of opening another", async () => {
    const [issue] = await alertIssues();
    if (issue === undefined) throw new Error("no alert issue");
    const sha = await directPush({ "clusters/prod/app.yaml": "replicas: 60\n" });
    expect(await recordHead(h)).toBe(record);
    expect(await statuses(sha)).toEqual([
      expect.objectContaining({ context: "pullgate/record", state: "failure" }),
    ]);
    const issues = await alertIssues();
    expect(issues.map((i) => i.number)).toEqual([issue.number]);
    const bodies = await comments(issue.number);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain(sha);
  });

  it("a pull request merged without pullgate's passing check: no record, and the alert says why", async () => {
    const { mallory, olivia } = h.people;
    const pr = await h.openPull(mallory, "unapproved", { "clusters/prod/app.yaml": "replicas: 0\n" });
    expect((await h.check(pr.headSha))?.conclusion).toBe("failure");
    // Nothing protects main here, so the admin can merge it anyway.
    const sha = await mergePull(h, olivia, pr.number, "merge");
    expect(await recordHead(h)).toBe(record);
    expect(await statuses(sha)).toEqual([
      expect.objectContaining({ context: "pullgate/record", state: "failure" }),
    ]);
    const [issue, ...others] = await alertIssues();
    expect(others).toEqual([]);
    const bodies = await comments(issue?.number ?? 0);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain(sha);
    expect(bodies[1]).toContain(`pull request #${pr.number} was merged without pullgate's passing check`);
  });

  it("the next approved merge after the bypasses still publishes record #2, with no alert repeated", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "after-bypass", [
      { "clusters/prod/app.yaml": "replicas: 5\n" },
    ]);
    // Its push event's `before` is the unapproved merge, which has no record: the publisher looks at
    // it (it may be a late approved landing), finds it is not, and skips it without alerting again.
    const sha = await mergePull(h, olivia, pr.number, "squash");
    const head = await recordHead(h);
    expect(head).not.toBe(record);
    const { data: recordCommit } = await olivia.octokit.request(
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
      {
        owner: ORG,
        repo: REPO,
        commit_sha: head ?? "",
      },
    );
    expect(recordCommit.parents.map((p) => p.sha)).toEqual([record, sha]);
    expect(recordCommit.message).toContain("Pullgate-Sequence: 2\n");
    expect(await statuses(sha)).toEqual([]);
    const [issue, ...others] = await alertIssues();
    expect(others).toEqual([]);
    expect(await comments(issue?.number ?? 0)).toHaveLength(2);
  });

  it("a record ref pullgate may not push (protected for others): one record built, not one per retry, and none published", async () => {
    const { alice, bob, olivia } = h.people;
    const before = await recordHead(h);
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: ORG,
      repo: REPO,
      branch: "approved/production",
      required_status_checks: null,
      enforce_admins: true,
      required_pull_request_reviews: null,
      restrictions: { users: ["olivia"], teams: [] },
    });
    const pr = await openApprovedPull(h, alice, bob, "refused-ref", [
      { "clusters/prod/app.yaml": "replicas: 6\n" },
    ]);
    await h.t.admin.request("DELETE /sandbox/requests");
    await mergePull(h, olivia, pr.number, "squash");
    expect(await recordHead(h)).toBe(before);
    // GitHub's 422 here is a refusal, not a lost race: rebuilding and re-signing would not help.
    const { data } = await h.t.admin.request("GET /sandbox/requests");
    const counts = (data as { counts: Record<string, number> }).counts;
    expect(counts["POST /repos/{owner}/{repo}/git/commits"]).toBe(1);
    expect(counts["PATCH /repos/{owner}/{repo}/git/refs/{ref}"]).toBe(1);
  });
});
