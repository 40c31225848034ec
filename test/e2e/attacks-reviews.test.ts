/**
 * End-to-end attacks on the review rules, one per test, through HMAC-signed webhooks into the real
 * Probot server against the sandbox. Every test asserts the check's conclusion AND that its output
 * names what is missing and how to fix it. One harness: each scenario uses its own branch and PR;
 * scenarios that change people (team membership, permissions) restore them before they end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle } from "@pullgate/sandbox";
import { ORG, REPO, startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";

describe("e2e attacks on reviews", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const setTeam = async (who: Person, team: string, member: boolean) => {
    const route = member
      ? "PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"
      : "DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}";
    await h.people.olivia.octokit.request(route, { org: ORG, team_slug: team, username: who.login });
  };
  const setPermission = async (who: Person, permission: "pull" | "push") => {
    await h.people.olivia.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: ORG,
      repo: REPO,
      username: who.login,
      permission,
    });
  };

  it("3. a prod change approved only by a writer outside @acme/sre fails, listing the files and the team", async () => {
    const { alice, mallory } = h.people;
    const pr = await h.openPull(alice, "attack-3-owner", { "clusters/prod/app.yaml": "replicas: 5\n" });
    await h.review(mallory, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain("Code owners");
    expect(text).toMatch(/clusters\/prod\/app\.yaml.*@acme\/sre|@acme\/sre.*clusters\/prod\/app\.yaml/);
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    // Mallory's approval counts for the approval count, just not for code ownership.
    expect(decisionOf(check).approvedBy).toEqual(["mallory"]);
    expect(decisionOf(check).rules).toContainEqual({ id: "approvals", status: "pass" });
  });

  it("4. self-approval: GitHub refuses it, an author who owns the files cannot stand in for another owner, and an author approval that reaches the API anyway is ignored", async () => {
    const { alice, bob } = h.people;
    // Bob is the only member of @acme/sre, which owns /clusters/prod/.
    const pr = await h.openPull(bob, "attack-4-self", { "clusters/prod/app.yaml": "replicas: 6\n" });
    const refused = await settle(
      bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner: ORG,
        repo: REPO,
        pull_number: pr.number,
        event: "APPROVE",
      }),
    );
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.data)).toContain("Can not approve your own pull request");

    await h.review(alice, pr.number, "APPROVE");
    let check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");

    // Defence in depth: should an author's approval ever be listed (an API that lets it through),
    // pullgate does not count it. Planted in the emulator's state, as GitHub would list it.
    h.t.sandbox.state.reviews["990000001"] = {
      id: 990_000_001,
      repo: `${ORG}/${REPO}`,
      pull_number: pr.number,
      user: bob.login,
      body: "",
      state: "APPROVED",
      commit_id: pr.headSha,
      submitted_at: new Date().toISOString(),
    };
    await h.rerequest(pr.headSha);
    check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain("@bob's approval does not count: author's own approval");
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(decisionOf(check).approvedBy).toEqual(["alice"]);
  });

  it("5. an approval given before a new push is stale: failure after the push, success after re-approval", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "attack-5-stale", { "clusters/prod/app.yaml": "replicas: 7\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");

    const newHead = await h.commit(
      pr.dir,
      alice,
      { "clusters/prod/app.yaml": "replicas: 70\n" },
      "sneak in more",
    );
    const pushed = await h.t.push(pr.dir, "HEAD:refs/heads/attack-5-stale");
    expect(pushed.code).toBe(0);
    await h.settle();
    const after = await h.check(newHead);
    expect(after?.conclusion).toBe("failure");
    const text = readable(after);
    expect(text).toContain(
      `@bob's approval does not count: approved older head ${pr.headSha.slice(0, 7)} (stale)`,
    );
    expect(fixes(after)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(fixes(after)).toContain(
      "Get 1 more approval from reviewers with write access other than the author.",
    );

    await h.review(bob, pr.number, "APPROVE");
    const again = await h.check(newHead);
    expect(again?.conclusion).toBe("success");
    expect(decisionOf(again).approvedBy).toEqual(["bob"]);
  });

  it("13a. a reviewer who approved and then requested changes blocks the PR", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "attack-13-changes", { "clusters/prod/app.yaml": "replicas: 8\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    await bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: ORG,
      repo: REPO,
      pull_number: pr.number,
      event: "REQUEST_CHANGES",
      body: "not this many replicas",
    });
    await h.settle();
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain(`@bob requested changes on ${pr.headSha.slice(0, 7)}`);
    expect(fixes(check)).toContain(
      `Address @bob's requested changes (given on ${pr.headSha.slice(0, 7)}) and get their approval, or have the review dismissed.`,
    );
  });

  it("13c. a dismissed approval no longer counts", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "attack-13-dismissed", { "clusters/prod/app.yaml": "replicas: 11\n" });
    const reviewId = await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    await olivia.octokit.request(
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
      {
        owner: ORG,
        repo: REPO,
        pull_number: pr.number,
        review_id: reviewId,
        message: "approved the wrong PR",
      },
    );
    await h.settle();
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(decisionOf(check).approvedBy).toEqual([]);
  });

  it("13b + 12. a read-only code owner's approval does not count; granting write and re-running the check (rerequested) re-evaluates", async () => {
    const { alice, carol } = h.people;
    await setTeam(carol, "sre", true);
    try {
      const pr = await h.openPull(alice, "attack-13-reader", { "clusters/prod/app.yaml": "replicas: 9\n" });
      await h.review(carol, pr.number, "APPROVE");
      const check = await h.check(pr.headSha);
      expect(check?.conclusion).toBe("failure");
      const text = readable(check);
      expect(text).toContain("@carol's approval does not count: read-only permission");
      expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
      expect(decisionOf(check).approvedBy).toEqual([]);

      // No webhook tells the app about a permission change: "Re-run" (check_run.rerequested) does.
      await setPermission(carol, "push");
      await h.rerequest(pr.headSha);
      const rerun = await h.check(pr.headSha);
      expect(rerun?.id).toBeGreaterThan(check?.id ?? Infinity);
      expect(rerun?.conclusion).toBe("success");
      expect(decisionOf(rerun).approvedBy).toEqual(["carol"]);
    } finally {
      await setPermission(carol, "pull");
      await setTeam(carol, "sre", false);
    }
  });

  it("14. a removed team member's approval no longer counts once the check is re-run", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "attack-14-removed", { "clusters/prod/app.yaml": "replicas: 10\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    await setTeam(bob, "sre", false);
    try {
      await h.rerequest(pr.headSha);
      const check = await h.check(pr.headSha);
      expect(check?.conclusion).toBe("failure");
      expect(readable(check)).toContain("@acme/sre");
      expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
      // Bob still has write access, so he still counts as an approver; just not as a code owner.
      expect(decisionOf(check).approvedBy).toEqual(["bob"]);
    } finally {
      await setTeam(bob, "sre", true);
    }
  });

  it("counts API requests per evaluation of a 1-file PR", async () => {
    const { alice, bob } = h.people;
    const dir = await h.clone(alice);
    await h.t.git(dir, ["checkout", "-q", "-b", "count-requests", "origin/main"]);
    const headSha = await h.commit(dir, alice, { "clusters/dev/app.yaml": "replicas: 3\n" }, "one file");
    expect((await h.t.push(dir, "HEAD:refs/heads/count-requests")).code).toBe(0);
    await h.settle();
    const counter = h.t.sandbox.instrumentation;

    // Opening the PR: one request by the test (POST pulls), the rest by the app.
    counter.resetCounts();
    const { data: pr } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "count",
      head: "count-requests",
      base: "main",
    });
    await h.settle();
    const opened = counter.totalRequests() - 1;
    const openedRoutes = counter.requestCounts();
    // Counted + 304 per route: the ETag cache turns unchanged reads into 304s (not counted by
    // GitHub), but each is still a request this evaluation made.
    const openedServed = counter.servedRequestCounts();
    const openedAll = opened + counter.totalNotModified();
    expect((await h.check(headSha))?.conclusion).toBe("failure");

    // A review: one request by the test (POST reviews), one check read by h.check above is excluded by the reset.
    counter.resetCounts();
    await bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: ORG,
      repo: REPO,
      pull_number: pr.number,
      event: "APPROVE",
    });
    await h.settle();
    const reviewed = counter.totalRequests() - 1;
    const reviewedRoutes = counter.requestCounts();
    const reviewedServed = counter.servedRequestCounts();
    const reviewedAll = reviewed + counter.totalNotModified();

    console.info(
      `[request counts] opened=${opened} counted (${openedAll} with 304s) ${JSON.stringify(openedRoutes)}\n[request counts] review=${reviewed} counted (${reviewedAll} with 304s) ${JSON.stringify(reviewedRoutes)}`,
    );
    // Warm caches (policy, CODEOWNERS and keyring at this base SHA were read by earlier tests; a
    // cold base adds the 3 CODEOWNERS locations, the policy and the keyring: +5). Per evaluation:
    // our last verdict (1), create + complete the check (2), the PR before and after the listings
    // (2), its files, commits, reviews (3), other PRs with this head (1), the org policy (1), one
    // team roster (1: @acme/platform owns the dev file and is the admin team), and one permission
    // per reviewer (0 or 1 here). That is 11 and 12; 13 leaves one request of slack, so any new
    // per-evaluation request is caught here, whether GitHub answers it 200 or 304; the counted
    // requests (what the rate limit is charged) are within the same bound.
    // The secrets rule reads the head's tree and the changed file's blobs (at the head, and at the
    // base for a modified file: docs/policy.md, "secrets"), once per head: cached by SHA, so a
    // re-evaluation reads none. Counted apart so that the bound below still catches any other new
    // per-evaluation request.
    const secretsReads = (served: Record<string, number>) =>
      (served["GET /repos/{owner}/{repo}/git/trees/{tree_sha}"] ?? 0) +
      (served["GET /repos/{owner}/{repo}/git/blobs/{file_sha}"] ?? 0);
    expect(openedServed["GET /repos/{owner}/{repo}/git/blobs/{file_sha}"]).toBe(2);
    expect(openedServed["GET /repos/{owner}/{repo}/git/trees/{tree_sha}"]).toBeLessThanOrEqual(2);
    expect(secretsReads(reviewedServed)).toBe(0);
    expect(openedAll - secretsReads(openedServed)).toBeLessThanOrEqual(13);
    expect(reviewedAll).toBeLessThanOrEqual(13);
    expect(opened).toBeLessThanOrEqual(openedAll);
    expect(reviewed).toBeLessThanOrEqual(reviewedAll);
    expect(openedServed["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"]).toBe(1);
    expect(reviewedServed["GET /repos/{owner}/{repo}/collaborators/{username}/permission"]).toBe(1);
    // Writes are never conditional: creating and completing the check are counted each time.
    expect(openedRoutes["POST /repos/{owner}/{repo}/check-runs"]).toBe(1);
    expect(reviewedRoutes["POST /repos/{owner}/{repo}/check-runs"]).toBe(1);
  });
});
