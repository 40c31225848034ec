/**
 * End-to-end: merge queue. The sandbox has no merge queue, so these tests build the group commit
 * the way GitHub does (the base branch merged with the PR head, on a `gh-readonly-queue/...`
 * branch) and deliver `merge_group.checks_requested` themselves, HMAC-signed with the app's
 * webhook secret exactly as GitHub signs it, to the real Probot server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { readable } from "../helpers/check-text.js";

describe("e2e: merge_group.checks_requested", () => {
  let h: AppHarness;
  let mainSha: string;
  let repository: unknown;

  beforeAll(async () => {
    h = await startAppHarness();
    const { data } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: "heads/main",
    });
    mainSha = data.object.sha;
    repository = h.t.sandbox.webhooks.deliveries().find((d) => d.event === "push")?.payload.repository;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** GitHub's group commit for PR `number`: main merged with `prHead`, pushed to the queue ref. */
  async function buildGroup(
    dir: string,
    number: number,
    prHead: string,
  ): Promise<{ sha: string; ref: string }> {
    const env = {
      GIT_AUTHOR_NAME: "GitHub",
      GIT_AUTHOR_EMAIL: "noreply@github.com",
      GIT_COMMITTER_NAME: "GitHub",
      GIT_COMMITTER_EMAIL: "noreply@github.com",
    };
    expect((await h.t.git(dir, ["checkout", "-q", "--detach", mainSha])).code).toBe(0);
    const merged = await h.t.git(dir, ["merge", "-q", "--no-ff", "--no-edit", prHead], env);
    expect(merged.code, merged.stderr).toBe(0);
    const sha = (await h.t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    const ref = `refs/heads/gh-readonly-queue/main/pr-${number}-${mainSha}`;
    expect((await h.t.push(dir, `HEAD:${ref}`)).code).toBe(0);
    await h.settle();
    return { sha, ref };
  }

  function payload(group: { sha: string; ref: string }): Record<string, unknown> {
    return {
      action: "checks_requested",
      merge_group: {
        head_sha: group.sha,
        head_ref: group.ref,
        base_sha: mainSha,
        base_ref: "refs/heads/main",
        head_commit: {
          id: group.sha,
          tree_id: "",
          message: "Merge group",
          timestamp: new Date().toISOString(),
        },
      },
      repository,
      installation: { id: h.installationId },
      sender: { login: "github-merge-queue[bot]", id: 1, type: "Bot" },
    };
  }

  it("passes a group whose PR passes pullgate on its current head", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "queued-ok", { "clusters/prod/app.yaml": "replicas: 41\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    const group = await buildGroup(pr.dir, pr.number, pr.headSha);
    expect(await h.deliver("merge_group", payload(group))).toBe(200);
    const check = await h.check(group.sha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("success");
    expect(check?.title).toBe(`Merge group: #${pr.number} approved`);
    expect(readable(check)).toContain(`#${pr.number} | pullgate passed on ${pr.headSha.slice(0, 7)}`);
  });

  it("blocks a group whose PR does not pass, saying which and how to fix it", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "queued-unapproved", { "clusters/prod/app.yaml": "replicas: 42\n" });
    const group = await buildGroup(pr.dir, pr.number, pr.headSha);
    expect(await h.deliver("merge_group", payload(group))).toBe(200);
    const check = await h.check(group.sha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe(`Merge group blocked: #${pr.number} not approved`);
    const text = readable(check);
    expect(text).toContain(`pullgate's check on its head ${pr.headSha.slice(0, 7)} is failure`);
    expect(text).toContain(
      `Make #${pr.number}'s pullgate check pass (its check run says what is missing), then queue it again.`,
    );
  });

  it("blocks a group built from a head the PR has since moved away from", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "queued-moved", { "clusters/prod/app.yaml": "replicas: 43\n" });
    const group = await buildGroup(pr.dir, pr.number, pr.headSha);
    // After queueing, a new (approved) head is pushed: the group does not contain it.
    expect((await h.t.git(pr.dir, ["checkout", "-q", "queued-moved"])).code).toBe(0);
    await h.commit(pr.dir, alice, { "clusters/prod/app.yaml": "replicas: 430\n" }, "more");
    expect((await h.t.push(pr.dir, "HEAD:refs/heads/queued-moved")).code).toBe(0);
    await h.settle();
    await h.review(bob, pr.number, "APPROVE");
    expect(await h.deliver("merge_group", payload(group))).toBe(200);
    const check = await h.check(group.sha);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain("the merge group does not contain its current head");
    expect(readable(check)).toContain(`Re-queue #${pr.number} so the group is built from its current head.`);
  });

  it("fails closed on a group ref that names no pull request, and refuses a forged delivery", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "queued-odd", { "clusters/dev/app.yaml": "replicas: 44\n" });
    const group = await buildGroup(pr.dir, pr.number, pr.headSha);
    const odd = { ...group, ref: "refs/heads/gh-readonly-queue/main/something-else" };
    expect(await h.deliver("merge_group", payload(odd))).toBe(200);
    const check = await h.check(group.sha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe("pullgate could not evaluate this merge group");
    expect(readable(check)).toContain("cannot tell which pull requests merge group");

    const forged = await h.deliver("merge_group", payload(group), { signature: `sha256=${"f".repeat(64)}` });
    expect(forged).toBeGreaterThanOrEqual(400);
    expect(forged).toBeLessThan(500);
    expect((await h.check(group.sha))?.id).toBe(check?.id);
  });
});
