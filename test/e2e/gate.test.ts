import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../helpers/app-harness.js";

describe("e2e: the pullgate app gates pull requests on the sandbox", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("passes a signed PR once a code owner approves it", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "bump-prod", { "clusters/prod/app.yaml": "replicas: 3\n" });
    const before = await h.check(pr.headSha);
    expect(before?.conclusion).toBe("failure");
    expect(before?.text).toContain("@acme/sre");
    await h.review(bob, pr.number, "APPROVE");
    const after = await h.check(pr.headSha);
    expect(after?.summary).toContain("Every rule passed");
    expect(after?.conclusion).toBe("success");
  });
});

describe("e2e smoke: merge publishes a record", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("publishes approved/production after an approved squash merge", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "bump", { "clusters/prod/app.yaml": "replicas: 4\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: "acme",
      repo: "gitops",
      pull_number: pr.number,
      merge_method: "squash",
    });
    await h.settle();
    const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: "acme",
      repo: "gitops",
      ref: "heads/approved/production",
    });
    expect(data.object.sha).toMatch(/^[0-9a-f]{40}$/);
  });
});
