import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHub } from "../../src/github/octokit.js";
import { DRIFT_LABEL, syncDriftIssue } from "../../src/github/protection/alert-issue.js";
import { auditAndAlert } from "../../src/github/protection/audit-and-alert.js";
import { auditRepository } from "../../src/github/protection/audit.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import { auditOptions, fullClassicProtection, ORG_POLICY, probotOctokit, writeFiles } from "./harness.js";

const ORG = "acme";

interface Issue {
  number: number;
  state: string;
  body: string | null;
  labels: { name: string }[];
  user: { login: string } | null;
}

describe("drift issue and enforce mode on the sandbox", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let app: GitHub;
  let appId: number;
  let bot: string;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    app = probotOctokit(t, await t.installationToken(ORG));
    appId = t.sandbox.app.id;
    bot = `${t.sandbox.app.slug}[bot]`;
  }, 60_000);
  afterAll(async () => t?.close());

  const repo = (name: string) => ({ owner: ORG, repo: name });

  async function issues(name: string): Promise<Issue[]> {
    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/issues", {
      ...repo(name),
      state: "all",
      labels: DRIFT_LABEL,
    });
    return data as unknown as Issue[];
  }

  async function protect(name: string, body: Record<string, unknown>): Promise<void> {
    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo(name),
      branch: "main",
      ...body,
    } as never);
  }

  it("opens one issue on drift, leaves it alone while unchanged, edits it on change, closes it when fixed, reopens it", async () => {
    await t.createRepo(ORG, "tracked");
    const options = { author: bot };

    const first = await auditRepository(app, repo("tracked"), auditOptions(t));
    const opened = await syncDriftIssue(app, repo("tracked"), first, options);
    expect(opened.action).toBe("create");
    let list = await issues("tracked");
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: "open", user: { login: bot } });
    expect(list[0]!.labels.map((l) => l.name)).toContain(DRIFT_LABEL);
    expect(list[0]!.body).toContain("| pull_request | required | not required |");

    const same = await syncDriftIssue(
      app,
      repo("tracked"),
      await auditRepository(app, repo("tracked"), auditOptions(t)),
      options,
    );
    expect(same).toEqual({ action: "none", number: opened.number });

    // Partly protected: the drift changes, the same issue is edited.
    await protect("tracked", { ...fullClassicProtection(appId), enforce_admins: false });
    const partial = await auditRepository(app, repo("tracked"), auditOptions(t));
    expect(await syncDriftIssue(app, repo("tracked"), partial, options)).toEqual({
      action: "update",
      number: opened.number,
    });
    list = await issues("tracked");
    expect(list).toHaveLength(1);
    expect(list[0]!.body).toContain("enforce_admins");
    expect(list[0]!.body).not.toContain("| pull_request |");

    // Fixed: closed.
    const fixed = await auditRepository(app, repo("tracked"), auditOptions(t, "all"));
    expect(fixed.status).toBe("ok");
    expect(await syncDriftIssue(app, repo("tracked"), fixed, options)).toEqual({
      action: "close",
      number: opened.number,
    });
    expect((await issues("tracked"))[0]?.state).toBe("closed");

    // Weakened again: the same issue comes back.
    await alice.octokit.request("DELETE /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo("tracked"),
      branch: "main",
    });
    const again = await auditRepository(app, repo("tracked"), auditOptions(t));
    expect(await syncDriftIssue(app, repo("tracked"), again, options)).toEqual({
      action: "update",
      number: opened.number,
    });
    list = await issues("tracked");
    expect(list).toHaveLength(1);
    expect(list[0]?.state).toBe("open");
  });

  it("does not take over an issue someone else labelled, even with pullgate's text pasted in", async () => {
    await t.createRepo(ORG, "labelled");
    const audit = await auditRepository(app, repo("labelled"), auditOptions(t));
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/issues", {
      ...repo("labelled"),
      title: "pullgate: branch protection drift",
      body: "<!-- pullgate:protection-drift --> all good, close me",
      labels: [DRIFT_LABEL],
    });
    const result = await syncDriftIssue(app, repo("labelled"), audit, { author: bot });
    expect(result.action).toBe("create");
    expect(result.number).not.toBe(data.number);
    const theirs = (await issues("labelled")).find((i) => i.number === data.number);
    expect(theirs?.body).toBe("<!-- pullgate:protection-drift --> all good, close me");
  });

  it("in enforce mode reverts an admin's weakening on the next event, so no issue is ever opened", async () => {
    await t.createRepo(ORG, "enforced");
    await writeFiles(t, ORG, "enforced", alice.token, {
      ".github/pullgate.yml": ORG_POLICY.replace("mode: audit", "mode: enforce"),
    });
    const options = auditOptions(t, "policy");
    const first = await auditAndAlert(app, repo("enforced"), options);
    expect(first.audit.status).toBe("ok");
    expect(first.audit.branches[0]?.fix?.fixed).toBe(true);
    expect(first.issue).toEqual({ action: "none" });

    // An admin lowers the protection (what a branch_protection_rule event reports).
    await protect("enforced", {
      required_status_checks: null,
      enforce_admins: false,
      required_pull_request_reviews: null,
      restrictions: null,
      allow_force_pushes: true,
    });
    const reverted = await auditAndAlert(app, repo("enforced"), options);
    expect(reverted.audit.status).toBe("ok");
    expect(reverted.audit.branches[0]?.fix?.before.map((d) => d.setting)).toEqual(
      expect.arrayContaining(["pull_request", "force_pushes", "enforce_admins", "pullgate_check"]),
    );
    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo("enforced"),
      branch: "main",
    });
    expect(data.enforce_admins?.enabled).toBe(true);
    expect(data.allow_force_pushes?.enabled).toBe(false);
    expect(await issues("enforced")).toEqual([]);
  });
});
