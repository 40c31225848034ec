/**
 * End to end: the app's ETag cache (src/github/http-cache, docs/performance.md, "Conditional
 * requests") never hides an access change. Every cached read is revalidated with GitHub on every
 * use (If-None-Match); a roster or a permission that changed has a new ETag, so GitHub answers 200
 * with the new body and the evaluation decides on it. The attack: a code owner approves, the cache
 * holds the roster and permission that made the approval count, then the approver loses access and
 * the access webhook is lost. A cache that answered on its own (a freshness lifetime, a stale
 * entry served on a 304 for another representation) would keep the check green; here the re-run
 * turns it red.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";

const MEMBERS = "GET /orgs/{org}/teams/{team_slug}/members";
const PERMISSION = "GET /repos/{owner}/{repo}/collaborators/{username}/permission";
const PROD_FIX = "Get an approval from one of @acme/sre for clusters/prod/app.yaml.";

describe("e2e: a cached 304 never hides an access change", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Runs `act` with webhook delivery off: its webhooks are lost, as a dropped delivery would be. */
  const withoutWebhooks = async (act: () => Promise<unknown>) => {
    await h.settle();
    h.t.sandbox.setWebhookUrl(undefined);
    try {
      await act();
      await h.t.idle();
    } finally {
      h.t.sandbox.setWebhookUrl(h.server.webhookUrl);
    }
  };
  const setTeam = (who: Person, member: boolean) =>
    h.people.olivia.octokit.request(
      member
        ? "PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"
        : "DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}",
      { org: ORG, team_slug: "sre", username: who.login },
    );
  const setPermission = (who: Person, permission: "pull" | "push") =>
    h.people.olivia.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: ORG,
      repo: REPO,
      username: who.login,
      permission,
    });
  /** Re-runs the check ("Re-run", check_run.rerequested) and returns the new one with what it cost. */
  const rerun = async (headSha: string) => {
    await h.settle();
    const counter = h.t.sandbox.instrumentation;
    counter.resetCounts();
    await h.rerequest(headSha);
    await h.settle();
    const cost = { counted: counter.requestCounts(), notModified: counter.notModifiedRequestCounts() };
    return { check: await h.check(headSha), cost };
  };

  it("the attack: a code owner's approval, its roster cached, then removed from @acme/sre with the webhook lost: the re-run's roster read is a full 200 and the check turns red", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "cache-team-removed", { "clusters/prod/app.yaml": "replicas: 41\n" });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");
    expect(decisionOf(green).approvedBy).toEqual(["bob"]);

    // Warm: nothing changed, so the rosters are revalidated and answered 304 (the cache is in use).
    const warm = await rerun(pr.headSha);
    expect(warm.check?.id).toBeGreaterThan(green?.id ?? Infinity);
    expect(warm.check?.conclusion).toBe("success");
    expect(warm.cost.notModified[MEMBERS]).toBeGreaterThanOrEqual(1);
    expect(warm.cost.counted[MEMBERS]).toBeUndefined();

    await withoutWebhooks(() => setTeam(bob, false));
    try {
      // No membership webhook reached the app, and its cache holds the roster with bob in it.
      expect((await h.check(pr.headSha))?.id).toBe(warm.check?.id);
      const after = await rerun(pr.headSha);
      expect(after.check?.id).toBeGreaterThan(warm.check?.id ?? Infinity);
      expect(after.check?.conclusion).toBe("failure");
      expect(readable(after.check)).toContain("@acme/sre");
      expect(fixes(after.check)).toContain(PROD_FIX);
      // @acme/sre's roster changed, so its ETag no longer matched: GitHub sent the new roster (a
      // counted 200), which is what the evaluation decided on.
      expect(after.cost.counted[MEMBERS]).toBeGreaterThanOrEqual(1);
    } finally {
      await setTeam(bob, true);
      await h.settle();
    }
  });

  it("a permission downgrade (write to read) after the permission was cached: the re-run reads the new permission and the approval no longer counts", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(alice, "cache-permission-downgrade", {
      "clusters/prod/app.yaml": "replicas: 42\n",
    });
    await h.review(bob, pr.number, "APPROVE");
    const green = await h.check(pr.headSha);
    expect(green?.conclusion).toBe("success");

    const warm = await rerun(pr.headSha);
    expect(warm.check?.conclusion).toBe("success");
    expect(warm.cost.notModified[PERMISSION]).toBeGreaterThanOrEqual(1);
    expect(warm.cost.counted[PERMISSION]).toBeUndefined();

    await withoutWebhooks(() => setPermission(bob, "pull"));
    try {
      const after = await rerun(pr.headSha);
      expect(after.check?.conclusion).toBe("failure");
      expect(readable(after.check)).toContain("@bob's approval does not count: read-only permission");
      expect(decisionOf(after.check).approvedBy).toEqual([]);
      expect(after.cost.counted[PERMISSION]).toBeGreaterThanOrEqual(1);
    } finally {
      await setPermission(bob, "push");
      await h.settle();
    }
    // Restored: the permission's ETag changed again, and the re-run counts bob's approval again.
    const restored = await rerun(pr.headSha);
    expect(restored.check?.conclusion).toBe("success");
    expect(decisionOf(restored.check).approvedBy).toEqual(["bob"]);
  });
});
