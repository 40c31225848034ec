/**
 * End to end: access lost after an approval. The sandbox sends GitHub's access-change webhooks
 * (membership, member, organization, team) to the real Probot app, which re-gates exactly the open
 * PRs whose passing verdict counted the person who lost access (src/github/access-events.ts), so
 * a green check does not outlive the approval it rests on, and the merge then gets no record.
 * Request counts (the sandbox's instrumentation) prove an unrelated change costs a listing and
 * one verdict read per open PR, and re-gates nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";
import { mergePull, recordHead } from "../helpers/records.js";
import { ACCESS_CHANGED_FIX, handleAccessChange } from "../../src/github/access-events.js";
import type { GitHub } from "../../src/github/octokit.js";
import { pullgateMetrics } from "../../src/metrics.js";

const LIST_PULLS = "GET /repos/{owner}/{repo}/pulls";
const LIST_RUNS = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs";
const CREATE_RUN = "POST /repos/{owner}/{repo}/check-runs";
const LIST_INSTALLATION_REPOS = "GET /installation/repositories";

describe("e2e: access changes re-gate the PRs they make stale", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const setTeam = async (who: Person, member: boolean) => {
    await h.people.olivia.octokit.request(
      member
        ? "PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"
        : "DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}",
      { org: ORG, team_slug: "sre", username: who.login },
    );
    await h.settle();
  };
  const setCollaborator = async (who: Person, permission: "push" | "pull" | null) => {
    await h.people.olivia.octokit.request(
      permission === null
        ? "DELETE /repos/{owner}/{repo}/collaborators/{username}"
        : "PUT /repos/{owner}/{repo}/collaborators/{username}",
      { owner: ORG, repo: REPO, username: who.login, ...(permission === null ? {} : { permission }) },
    );
    await h.settle();
  };
  /** Open PRs of acme/gitops (every PR of this file stays open unless merged). */
  const openPulls = async () =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/pulls", {
        owner: ORG,
        repo: REPO,
        state: "open",
      })
    ).data.length;
  /**
   * Runs `change` and returns the requests the app made for it (the change's own request excluded
   * from `total`): `routes` are the counted requests per route, `notModified` the reads the app's
   * ETag cache had answered 304 (GitHub does not count them), `served` both (counted + 304 per
   * route), which is what proves a read happened whatever it cost.
   */
  const requestsOf = async (change: () => Promise<void>) => {
    await h.settle();
    const counter = h.t.sandbox.instrumentation;
    counter.resetCounts();
    await change();
    await h.settle();
    return {
      total: counter.totalRequests() - 1,
      routes: counter.requestCounts(),
      notModified: counter.notModifiedRequestCounts(),
      served: counter.servedRequestCounts(),
    };
  };

  it("the attack: a code owner approves, is removed from @acme/sre; the check turns red naming the missing approval, and the merge gets no record", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "access-team-removed", { "clusters/prod/app.yaml": "replicas: 21\n" });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    expect(decisionOf(green).approvedBy).toEqual(["bob"]);

    const pullsInScope = await openPulls();
    try {
      // No "Re-run": the membership.removed webhook alone re-gates the PR.
      const cost = await requestsOf(() => setTeam(bob, false));
      const red = await h.check(pr.headSha);
      expect(red?.id).toBeGreaterThan(green?.id ?? Infinity);
      expect(red?.conclusion).toBe("failure");
      expect(readable(red)).toContain("@acme/sre");
      expect(fixes(red)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
      // Installation-wide (a CODEOWNERS team can own files anywhere): the repositories, each one's
      // open PRs, one verdict read per open PR, then one evaluation for the one PR bob approved.
      // Reads count whether GitHub answered them 200 (counted) or 304 (the ETag cache revalidated
      // them, not counted): `served` is counted + 304 per route. Writes are never conditional.
      expect(cost.served[LIST_INSTALLATION_REPOS]).toBe(1);
      expect(cost.served[LIST_PULLS]).toBe(1);
      expect(cost.routes[CREATE_RUN]).toBe(1);
      // pullgate's own verdict read per open PR, plus the evaluation's read of its past runs.
      expect(cost.served[LIST_RUNS]).toBe(pullsInScope + 1);
      console.info(
        `[access cost] membership.removed, ${pullsInScope} open PRs, 1 re-gated: ${cost.total} requests ${JSON.stringify(cost.routes)}, answered 304: ${JSON.stringify(cost.notModified)}`,
      );

      // Nothing stops the merge here (the demo repository has no branch protection), but the
      // verdict in force is a failure, so no record is published for it.
      const before = await recordHead(h);
      await mergePull(h, olivia, pr.number, "merge");
      expect(await recordHead(h)).toBe(before);
    } finally {
      await setTeam(bob, true);
    }
  });

  it("a collaborator removed after approving: the check turns red (no write access); re-added, it turns green again (documented: repository-scoped additions re-gate failing PRs with that person's uncounted approval)", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "access-collaborator", { "clusters/prod/app.yaml": "replicas: 22\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
    try {
      await setCollaborator(bob, null);
      const red = await h.check(pr.headSha);
      expect(red?.conclusion).toBe("failure");
      expect(readable(red)).toContain("@bob's approval does not count");
      expect(decisionOf(red).approvedBy).toEqual([]);
    } finally {
      await setCollaborator(bob, "push");
    }
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    expect(decisionOf(green).approvedBy).toEqual(["bob"]);
  });

  it("an unrelated removal re-gates nothing: one PR listing and one verdict read per open PR", async () => {
    const { alice, bob, carol } = h.people;
    const pr = await h.openPull(alice, "access-unrelated", { "clusters/prod/app.yaml": "replicas: 23\n" });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    const pullsInScope = await openPulls();
    try {
      const cost = await requestsOf(() => setCollaborator(carol, null));
      // Counted + 304 per route: a verdict read the ETag cache revalidated is still a read made.
      expect(cost.served).toEqual({
        // The test's own DELETE is the one request excluded from `total`.
        "DELETE /repos/{owner}/{repo}/collaborators/{username}": 1,
        [LIST_PULLS]: 1,
        [LIST_RUNS]: pullsInScope,
        // The app's installation token (Probot mints one per installation and caches it).
        ...(cost.routes["POST /app/installations/{installation_id}/access_tokens"]
          ? { "POST /app/installations/{installation_id}/access_tokens": 1 }
          : {}),
      });
      // Only reads are ever answered 304: the DELETE and the token were counted.
      expect(Object.keys(cost.notModified).every((route) => route.startsWith("GET "))).toBe(true);
      console.info(
        `[access cost] member.removed (unrelated), ${pullsInScope} open PRs: ${cost.total} requests, answered 304: ${JSON.stringify(cost.notModified)}`,
      );
      expect((await h.check(pr.headSha))?.id).toBe(green?.id);
    } finally {
      // An addition for someone with no uncounted approval: verdicts read, nothing re-gated.
      const cost = await requestsOf(() => setCollaborator(carol, "pull"));
      expect(cost.routes[CREATE_RUN]).toBeUndefined();
    }
  });

  it("a team removed from the repository re-gates every passing PR there (any member's approval may have rested on it)", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "access-team-repo", { "clusters/prod/app.yaml": "replicas: 26\n" });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    const teamRepo = (method: "PUT" | "DELETE") =>
      olivia.octokit.request(`${method} /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}`, {
        org: ORG,
        team_slug: "sre",
        owner: ORG,
        repo: REPO,
        ...(method === "PUT" ? { permission: "push" } : {}),
      });
    await teamRepo("PUT");
    await h.settle();
    const passing = (
      await Promise.all(
        (
          await olivia.octokit.request("GET /repos/{owner}/{repo}/pulls", {
            owner: ORG,
            repo: REPO,
            state: "open",
          })
        ).data.map(async (p) => (await h.check(p.head.sha))?.conclusion),
      )
    ).filter((c) => c === "success").length;
    const cost = await requestsOf(async () => {
      await teamRepo("DELETE");
    });
    // One new check per passing PR; bob is still a collaborator with write, so this one stays green.
    expect(cost.routes[CREATE_RUN]).toBe(passing);
    const after = await h.check(pr.headSha);
    expect(after?.id).toBeGreaterThan(green?.id ?? Infinity);
    expect(after?.conclusion).toBe("success");
    console.info(
      `[access cost] team.removed_from_repository, ${passing} passing PRs re-gated: ${cost.total} requests`,
    );
  });

  it("a lost webhook: access removed with no event leaves the check green, but the publisher re-checks the approvers' access at landing and publishes no record", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "access-no-webhook", { "clusters/prod/app.yaml": "replicas: 25\n" });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    // Changed in the emulator's state, as if GitHub's delivery had been lost.
    const repo = h.t.sandbox.state.repos[`${ORG}/${REPO}`];
    if (!repo) throw new Error("no repository");
    delete repo.collaborators[bob.login];
    try {
      await h.settle();
      expect((await h.check(pr.headSha))?.id).toBe(green?.id);
      const before = await recordHead(h);
      await mergePull(h, olivia, pr.number, "squash");
      expect(await recordHead(h)).toBe(before);
      const { data: alerts } = await olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
        owner: ORG,
        repo: REPO,
        labels: "pullgate-alert",
        state: "open",
      });
      const { data: comments } = await olivia.octokit.request(
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { owner: ORG, repo: REPO, issue_number: alerts[0]?.number ?? 0 },
      );
      const said = [alerts[0]?.body ?? "", ...comments.map((c) => c.body ?? "")].join("\n");
      expect(said).toContain(
        `@bob approved pull request #${pr.number} but no longer had write access to ${ORG}/${REPO} when it landed`,
      );
    } finally {
      repo.collaborators[bob.login] = "write";
    }
  });

  it("past the re-gate cap a loss fails closed: the check is marked failing with 'access changed', and a re-run evaluates it again", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "access-capped", { "clusters/prod/app.yaml": "replicas: 24\n" });
    await h.review(bob, pr.number, "APPROVE");
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");

    // The handler driven directly with a cap of zero re-gates: nothing may be evaluated.
    const gh = (await h.t.installationOctokit(ORG)) as unknown as GitHub;
    const metrics = pullgateMetrics();
    const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;
    const outcome = await handleAccessChange(
      {
        appId: h.t.sandbox.app.id,
        log,
        metrics,
        gate: () => Promise.reject(new Error("no re-gate expected past the cap")),
        limits: { maxRegates: 0 },
      },
      gh,
      {
        direction: "loss",
        login: "bob",
        scope: { kind: "repository", owner: ORG, repo: REPO },
        reason: "@bob was removed as a collaborator of acme/gitops",
      },
    );
    await h.settle();
    expect(outcome.regated).toBe(0);
    expect(outcome.marked).toBeGreaterThanOrEqual(1);
    expect(
      metrics.registry.value("pullgate_access_changes_total", { outcome: "marked", direction: "loss" }),
    ).toBe(outcome.marked);
    const marked = await h.check(pr.headSha);
    expect(marked?.conclusion).toBe("failure");
    expect(readable(marked)).toContain("access changed after this head was evaluated");
    expect(fixes(marked)).toContain(ACCESS_CHANGED_FIX);
    expect(decisionOf(marked).approvedBy).toEqual([]);

    // bob still has access: re-running evaluates the head and it passes again.
    await h.rerequest(pr.headSha);
    expect((await h.check(pr.headSha))?.conclusion).toBe("success");
  });

  it("past the repository budget of an installation-wide loss nothing is silent: an error names the change and the metric counts it", async () => {
    const gh = (await h.t.installationOctokit(ORG)) as unknown as GitHub;
    const metrics = pullgateMetrics();
    const errors: string[] = [];
    const log = {
      info: () => {},
      warn: () => {},
      debug: () => {},
      error: (_fields: unknown, message: string) => errors.push(message),
    } as never;
    const outcome = await handleAccessChange(
      {
        appId: h.t.sandbox.app.id,
        log,
        metrics,
        gate: () => Promise.reject(new Error("nothing can be re-gated with no repository in budget")),
        limits: { maxRepositories: 0 },
      },
      gh,
      {
        direction: "loss",
        login: "bob",
        scope: { kind: "installation", owner: ORG },
        reason: "@bob was removed from acme",
      },
    );
    expect(outcome).toMatchObject({ repositories: 0, regated: 0, marked: 0, unchecked: 1 });
    expect(
      metrics.registry.value("pullgate_access_changes_total", { outcome: "unchecked", direction: "loss" }),
    ).toBe(1);
    expect(errors).toEqual([
      "pullgate could not re-check 1 repositories (over the per-event limit) after an access change; re-run their pullgate checks",
    ]);
  });
});
