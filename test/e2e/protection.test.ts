import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, basePolicy, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { readable } from "../helpers/check-text.js";

const enforce = ["    protection:", "      mode: enforce"].join("\n");
const audit = ["    protection:", "      mode: audit"].join("\n");

async function protection(h: AppHarness): Promise<Record<string, unknown> | null> {
  try {
    const { data } = await h.people.olivia.octokit.request(
      "GET /repos/{owner}/{repo}/branches/{branch}/protection",
      {
        owner: ORG,
        repo: REPO,
        branch: "main",
      },
    );
    return data as Record<string, unknown>;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

describe("e2e: branch protection through the app (audit mode)", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(audit) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("an unprotected governed branch fails the PR check with the protection drift and how to fix it", async () => {
    const { alice, olivia } = h.people;
    expect(await protection(h)).toBeNull();
    const pr = await h.openPull(alice, "dev-change", { "clusters/dev/app.yaml": "replicas: 5\n" });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain("protection");
    expect(text.toLowerCase()).toContain("pull request");
  });
});

describe("e2e: branch protection through the app (enforce mode)", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(enforce) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("the policy landing on main makes the app apply the protection it requires", async () => {
    const applied = await protection(h);
    expect(applied).not.toBeNull();
    const checks = (
      applied?.required_status_checks as {
        strict: boolean;
        checks: { context: string; app_id: number | null }[];
      }
    ).checks;
    expect(checks).toContainEqual({ context: "pullgate", app_id: h.t.sandbox.app.id });
    expect((applied?.allow_force_pushes as { enabled: boolean }).enabled).toBe(false);
  });

  it("a PR check passes the protection rule once the branch is protected", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "dev-ok", { "clusters/dev/app.yaml": "replicas: 6\n" });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(readable(check)).not.toMatch(/expected .* found/);
    expect(check?.conclusion).toBe("success");
  });

  it("an admin weakening the protection is reverted at once (branch_protection_rule event)", async () => {
    const { olivia } = h.people;
    await olivia.octokit.request("DELETE /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: ORG,
      repo: REPO,
      branch: "main",
    });
    await h.settle();
    const restored = await protection(h);
    expect(restored).not.toBeNull();
    expect(
      (restored?.required_status_checks as { checks: { context: string; app_id: number | null }[] }).checks,
    ).toContainEqual({
      context: "pullgate",
      app_id: h.t.sandbox.app.id,
    });
  });
});
