/**
 * End to end through the real Probot app: an installation on selected repositories of org `beta`.
 * The app audits branch protection of exactly the repositories the installation covers: those
 * named in installation.created, a repository added later (installation_repositories.added), and,
 * when the org policy in `beta/.github` changes, every repository of the installation (as listed
 * by GET /installation/repositories), never one outside it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRIFT_LABEL } from "../../src/github/protection/alert-issue.js";
import { startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import { settle } from "@pullgate/sandbox";

const ORG = "beta";

function orgPolicy(mode: "audit" | "enforce", approvals: number): string {
  return [
    "version: 1",
    "branches:",
    "  - branch: main",
    "    environment: production",
    "    reviews:",
    `      required_approvals: ${approvals}`,
    "    protection:",
    `      mode: ${mode}`,
    "",
  ].join("\n");
}

describe("e2e: an installation on selected repositories", () => {
  let h: AppHarness;
  let olivia: Person;
  let installationId: number;
  const ids: Record<string, number> = {};

  /** Commits the org policy to beta/.github's main as olivia, and waits for the app to react. */
  async function writeOrgPolicy(text: string): Promise<void> {
    const dir = await h.t.clone(ORG, ".github", olivia.token);
    await h.t.commit(dir, { ".github/pullgate.yml": text }, "org policy");
    const pushed = await h.t.push(dir, "HEAD:refs/heads/main");
    if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
    await h.settle();
  }

  async function protection(
    repo: string,
  ): Promise<{ required_pull_request_reviews?: { required_approving_review_count: number } } | null> {
    const r = await settle(
      olivia.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
        owner: ORG,
        repo,
        branch: "main",
      }),
    );
    if (r.status === 404) return null;
    expect(r.status).toBe(200);
    return r.data as { required_pull_request_reviews?: { required_approving_review_count: number } };
  }

  async function driftIssues(repo: string): Promise<{ number: number; state: string }[]> {
    const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo,
      state: "all",
      labels: DRIFT_LABEL,
    });
    return data as unknown as { number: number; state: string }[];
  }

  /** Everything the app could have done to a repository: issues of any kind, protection, check runs. */
  async function untouched(repo: string): Promise<void> {
    const { data: issues } = await olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo,
      state: "all",
    });
    expect(issues).toEqual([]);
    expect(await protection(repo)).toBeNull();
    const { data: rulesets } = await olivia.octokit.request("GET /repos/{owner}/{repo}/rulesets", {
      owner: ORG,
      repo,
    });
    expect(rulesets).toEqual([]);
  }

  beforeAll(async () => {
    h = await startAppHarness();
    olivia = h.people.olivia;
    await h.t.createOrgWithoutApp(ORG, olivia.login);
    await h.t.createRepo(ORG, ".github", { private: false });
    for (const name of ["svc-a", "svc-b", "svc-c", "svc-d"])
      await h.t.createRepo(ORG, name, { private: true });
    for (const name of [".github", "svc-a", "svc-b", "svc-c", "svc-d"]) {
      const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}", { owner: ORG, repo: name });
      ids[name] = Number(data.id);
    }
    // The org policy is there before the app is: installing it is what starts the audits.
    await writeOrgPolicy(orgPolicy("audit", 1));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  /** What the sandbox delivered to the app (the harness points webhooks at the app, not the test receiver). */
  const delivered = (event: string, action: string) =>
    h.t.sandbox.webhooks.deliveries().filter((d) => d.event === event && d.action === action);

  it("installation.created with selected repositories audits exactly those (drift issue in audit mode)", async () => {
    installationId = await h.t.installApp(ORG, [".github", "svc-a"]);
    await h.settle();
    const created = delivered("installation", "created").at(-1);
    expect(created?.status_code).toBe(200);
    expect((created?.payload.installation as { repository_selection: string }).repository_selection).toBe(
      "selected",
    );
    const open = await driftIssues("svc-a");
    expect(open).toHaveLength(1);
    expect(open[0]?.state).toBe("open");
    for (const repo of ["svc-b", "svc-c", "svc-d"]) await untouched(repo);
  });

  it("a repository added to the installation (installation_repositories.added) gets audited", async () => {
    const r = await settle(
      olivia.octokit.request("PUT /user/installations/{installation_id}/repositories/{repository_id}", {
        installation_id: installationId,
        repository_id: ids["svc-c"]!,
      }),
    );
    expect(r.status).toBe(204);
    await h.settle();
    expect(delivered("installation_repositories", "added").at(-1)?.status_code).toBe(200);
    expect(await driftIssues("svc-c")).toHaveLength(1);
    for (const repo of ["svc-b", "svc-d"]) await untouched(repo);
  });

  it("installation_repositories.removed is accepted and changes nothing in the repository", async () => {
    const path = "/user/installations/{installation_id}/repositories/{repository_id}";
    const params = { installation_id: installationId, repository_id: ids["svc-d"]! };
    expect((await settle(olivia.octokit.request(`PUT ${path}`, params))).status).toBe(204);
    await h.settle();
    expect(await driftIssues("svc-d")).toHaveLength(1);
    expect((await settle(olivia.octokit.request(`DELETE ${path}`, params))).status).toBe(204);
    await h.settle();
    expect(delivered("installation_repositories", "removed").at(-1)?.status_code).toBe(200);
    // The app has no business there any more: the issue it opened stays as it was, nothing new.
    expect(await driftIssues("svc-d")).toHaveLength(1);
    expect(await protection("svc-d")).toBeNull();
  });

  it("an org policy change re-audits every repository of the installation and none outside it", async () => {
    await writeOrgPolicy(orgPolicy("enforce", 2));
    for (const repo of ["svc-a", "svc-c"]) {
      const applied = await protection(repo);
      expect(applied, repo).not.toBeNull();
      expect(applied?.required_pull_request_reviews?.required_approving_review_count).toBe(2);
    }
    // Removed from the installation before the change: not protected by the app.
    expect(await protection("svc-d")).toBeNull();
    await untouched("svc-b");
  });
});
