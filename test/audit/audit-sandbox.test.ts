import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitHub } from "../../src/github/octokit.js";
import { auditRepository } from "../../src/github/protection/audit.js";
import { auditOrganization, type OrgAudit } from "../../src/github/protection/org-audit.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import {
  auditOptions,
  fullClassicProtection,
  fullRules,
  ORG_POLICY,
  probotOctokit,
  recordRefRuleset,
  writeFiles,
} from "./harness.js";

const ORG = "acme";

describe("auditRepository on the sandbox", () => {
  let t: TestSandbox;
  let alice: TestUser; // org owner
  let bob: TestUser; // member with read access only
  let app: GitHub;
  let appId: number;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    app = probotOctokit(t, await t.installationToken(ORG));
    appId = t.sandbox.app.id;
  }, 60_000);
  afterAll(async () => t?.close());

  const repo = (name: string) => ({ owner: ORG, repo: name });

  async function protect(name: string, body: Record<string, unknown>, branch = "main"): Promise<void> {
    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo(name),
      branch,
      required_status_checks: null,
      enforce_admins: null,
      required_pull_request_reviews: null,
      restrictions: null,
      ...body,
    } as never);
  }

  async function signatures(name: string): Promise<void> {
    await alice.octokit.request(
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures",
      {
        ...repo(name),
        branch: "main",
      },
    );
  }

  async function repoRuleset(name: string, body: Record<string, unknown>): Promise<number> {
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      ...repo(name),
      ...body,
    } as never);
    return (data as { id: number }).id;
  }

  it("reports every missing setting of an unprotected repository, and its unprotected record ref", async () => {
    await t.createRepo(ORG, "bare");
    const report = await auditRepository(app, repo("bare"), auditOptions(t));
    expect(report.status).toBe("drift");
    expect(report.policySources).toEqual([`${ORG}/.github:.github/pullgate.yml`]);
    expect(report.branches).toHaveLength(1);
    const main = report.branches[0]!;
    expect(main).toMatchObject({ branch: "main", environment: "production", mode: "audit", status: "drift" });
    expect(main.drift.map((d) => d.setting).sort()).toEqual(
      [
        "code_owner_review",
        "deletions",
        "dismiss_stale_reviews",
        "force_pushes",
        "pull_request",
        "pullgate_check",
        "required_approvals",
        "signed_commits",
        "up_to_date",
      ].sort(),
    );
    expect(main.result.status).toBe("fail");
    expect(report.approvedRefs).toHaveLength(1);
    expect(report.approvedRefs[0]).toMatchObject({ ref: "approved/production", status: "drift" });
    expect(report.approvedRefs[0]!.drift.map((d) => d.setting).sort()).toEqual([
      "ref_creation",
      "ref_deletion",
      "ref_update",
    ]);
  });

  it("passes a repository whose classic protection and record ruleset meet the policy", async () => {
    await t.createRepo(ORG, "good");
    await protect("good", fullClassicProtection(appId));
    await signatures("good");
    await repoRuleset("good", recordRefRuleset(appId));
    const report = await auditRepository(app, repo("good"), auditOptions(t));
    expect(report.branches[0]?.drift).toEqual([]);
    expect(report.approvedRefs[0]?.drift).toEqual([]);
    expect(report.status).toBe("ok");
  });

  it("catches protection weakened by an admin (approvals lowered, admins exempted, check unpinned)", async () => {
    await t.createRepo(ORG, "weakened");
    await protect("weakened", fullClassicProtection(appId));
    await signatures("weakened");
    await repoRuleset("weakened", recordRefRuleset(appId));
    expect((await auditRepository(app, repo("weakened"), auditOptions(t))).status).toBe("ok");

    const weak = fullClassicProtection(appId);
    weak.enforce_admins = false;
    weak.required_status_checks = { strict: true, contexts: ["pullgate"] };
    weak.required_pull_request_reviews = {
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      required_approving_review_count: 0,
    };
    await protect("weakened", weak);
    const report = await auditRepository(app, repo("weakened"), auditOptions(t));
    expect(report.status).toBe("drift");
    const drift = report.branches[0]!.drift;
    expect(drift.map((d) => d.setting).sort()).toEqual([
      "enforce_admins",
      "pullgate_check",
      "required_approvals",
    ]);
    expect(drift.find((d) => d.setting === "pullgate_check")?.actual).toContain("from any source");
  });

  it("flags a ruleset that meets the policy but lets everyone with write access bypass it", async () => {
    await t.createRepo(ORG, "broad");
    await repoRuleset("broad", recordRefRuleset(appId));
    await repoRuleset("broad", {
      name: "main rules",
      target: "branch",
      enforcement: "active",
      bypass_actors: [{ actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "always" }],
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      rules: fullRules(appId),
    });
    const report = await auditRepository(app, repo("broad"), auditOptions(t));
    const main = report.branches[0]!;
    expect(main.status).toBe("drift");
    expect(main.drift).toHaveLength(1);
    expect(main.drift[0]).toMatchObject({ setting: "bypass" });
    expect(main.drift[0]!.actual).toContain("role:write");
    expect(main.drift[0]!.fix).toContain("ruleset 'main rules'");
  });

  it("accepts an org ruleset that meets the policy without any classic protection", async () => {
    await t.createOrg("globex", "alice");
    await t.createRepo("globex", ".github");
    await writeFiles(t, "globex", ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    await t.createRepo("globex", "svc");
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: "globex",
      name: "org main",
      target: "branch",
      enforcement: "active",
      bypass_actors: [],
      conditions: {
        ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
      rules: fullRules(appId),
    } as never);
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: "globex",
      ...recordRefRuleset(appId),
      conditions: {
        ref_name: { include: ["refs/heads/approved/*"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
    } as never);
    const gh = probotOctokit(t, await t.installationToken("globex"));
    const report = await auditRepository(gh, { owner: "globex", repo: "svc" }, auditOptions(t));
    expect(report.branches[0]?.drift).toEqual([]);
    expect(report.approvedRefs[0]?.drift).toEqual([]);
    expect(report.status).toBe("ok");
    expect(report.branches[0]!.result.satisfied.join("\n")).toContain("ruleset 'org main' (org)");
  });

  it("names team bypass actors through the org's teams: an allowed team passes, another is drift", async () => {
    await t.createOrg("umbrella", "alice");
    await t.createRepo("umbrella", ".github");
    await writeFiles(t, "umbrella", ".github", alice.token, {
      ".github/pullgate.yml": ORG_POLICY.replace(
        "mode: audit",
        'mode: audit\n      allowed_bypass: ["@umbrella/break-glass"]',
      ),
    });
    const team = async (name: string) =>
      (
        (await alice.octokit.request("POST /orgs/{org}/teams", { org: "umbrella", name })).data as {
          id: number;
        }
      ).id;
    const breakGlass = await team("break-glass");
    const devs = await team("devs");
    const gh = probotOctokit(t, await t.installationToken("umbrella"));
    const withBypass = async (name: string, teamId: number) => {
      await t.createRepo("umbrella", name);
      await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
        owner: "umbrella",
        repo: name,
        name: "main rules",
        target: "branch",
        enforcement: "active",
        bypass_actors: [{ actor_id: teamId, actor_type: "Team", bypass_mode: "always" }],
        conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
        rules: fullRules(appId),
      } as never);
      return auditRepository(gh, { owner: "umbrella", repo: name }, auditOptions(t));
    };
    const allowed = await withBypass("allowed", breakGlass);
    expect(allowed.branches[0]?.drift).toEqual([]);
    const other = await withBypass("other", devs);
    expect(other.branches[0]?.drift).toHaveLength(1);
    expect(other.branches[0]?.drift[0]?.actual).toContain("@umbrella/devs may bypass");
  });

  it("reads org rulesets through the repository when the org endpoint is refused", async () => {
    await t.createOrg("hooli", "alice");
    await t.createRepo("hooli", ".github");
    await writeFiles(t, "hooli", ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    await t.createRepo("hooli", "svc");
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: "hooli",
      name: "org main",
      target: "branch",
      enforcement: "active",
      bypass_actors: [],
      conditions: {
        ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
      rules: fullRules(appId),
    } as never);
    await alice.octokit.request("POST /orgs/{org}/rulesets", {
      org: "hooli",
      ...recordRefRuleset(appId),
      conditions: {
        ref_name: { include: ["refs/heads/approved/*"], exclude: [] },
        repository_name: { include: ["~ALL"], exclude: [] },
      },
    } as never);
    // bob administers the repository but does not own the org: GET /orgs/hooli/rulesets/{id} is 403.
    await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: "hooli",
      repo: "svc",
      username: "bob",
      permission: "admin",
    });
    await t.admin.request("DELETE /sandbox/requests");
    const report = await auditRepository(
      probotOctokit(t, bob.token),
      { owner: "hooli", repo: "svc" },
      auditOptions(t),
    );
    expect(report.status).toBe("ok");
    const { data } = await t.admin.request("GET /sandbox/requests");
    const counts = (data as { counts: Record<string, number> }).counts;
    // Refused once, then not asked again during the run: both rulesets come through the repository.
    expect(counts["GET /orgs/{org}/rulesets/{ruleset_id}"]).toBe(1);
    expect(counts["GET /repos/{owner}/{repo}/rulesets/{ruleset_id}"]).toBe(2);
  });

  it("fails closed with a clear reason when the token cannot read branch protection", async () => {
    await t.createRepo(ORG, "hidden");
    await alice.octokit.request("PUT /orgs/{org}/memberships/{username}", {
      org: ORG,
      username: "bob",
      role: "member",
    });
    const report = await auditRepository(probotOctokit(t, bob.token), repo("hidden"), auditOptions(t));
    expect(report.status).toBe("error");
    const main = report.branches[0]!;
    expect(main.status).toBe("error");
    expect(main.result.status).toBe("error");
    expect(main.result.summary).toMatch(
      /classic branch protection of acme\/hidden:main.*403.*Administration: read/,
    );
  });

  it("fixes a repository: clean after, and nothing that was stricter is weakened", async () => {
    await t.createRepo(ORG, "fixme");
    // Stricter than the policy in places (4 approvals, linear history, an extra "ci" check from
    // any source), short of it elsewhere (no signatures, force pushes allowed, pullgate unpinned).
    await protect("fixme", {
      required_status_checks: { strict: false, checks: [{ context: "ci" }] },
      enforce_admins: false,
      required_pull_request_reviews: { required_approving_review_count: 4 },
      required_linear_history: true,
      allow_force_pushes: true,
    });
    const report = await auditRepository(app, repo("fixme"), auditOptions(t, "all"));
    const main = report.branches[0]!;
    expect(main.fix?.before.length).toBeGreaterThan(0);
    expect(main.fix?.error).toBeUndefined();
    expect(main.fix?.fixed).toBe(true);
    expect(main.drift).toEqual([]);
    expect(report.approvedRefs[0]?.fix?.fixed).toBe(true);
    expect(report.status).toBe("ok");

    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      ...repo("fixme"),
      branch: "main",
    });
    expect(data.required_pull_request_reviews?.required_approving_review_count).toBe(4);
    expect(data.required_linear_history?.enabled).toBe(true);
    expect(data.required_signatures?.enabled).toBe(true);
    expect(data.enforce_admins?.enabled).toBe(true);
    expect(data.allow_force_pushes?.enabled).toBe(false);
    const checks = data.required_status_checks?.checks ?? [];
    expect(checks).toContainEqual({ context: "pullgate", app_id: appId });
    expect(checks.map((c) => c.context)).toContain("ci");

    // A second run finds nothing to do and writes nothing.
    const again = await auditRepository(app, repo("fixme"), auditOptions(t, "all"));
    expect(again.status).toBe("ok");
    expect(again.branches[0]?.fix).toBeUndefined();
  });

  it("fixes a broad ruleset bypass with binding classic protection, leaving people's rulesets alone", async () => {
    // "broad" (above) has a ruleset meeting the policy with the write role on its bypass list.
    const { data: before } = await alice.octokit.request("GET /repos/{owner}/{repo}/rulesets", repo("broad"));
    const report = await auditRepository(app, repo("broad"), auditOptions(t, "all"));
    expect(report.branches[0]?.fix?.before.map((d) => d.setting)).toEqual(["bypass"]);
    expect(report.branches[0]?.fix?.fixed).toBe(true);
    expect(report.status).toBe("ok");
    const { data: after } = await alice.octokit.request("GET /repos/{owner}/{repo}/rulesets", repo("broad"));
    expect(after).toEqual(before);
  });

  it("re-enables pullgate's own record ruleset when someone disabled it, without creating a second one", async () => {
    await t.createRepo(ORG, "records");
    expect((await auditRepository(app, repo("records"), auditOptions(t, "all"))).status).toBe("ok");
    const list = async () =>
      (await alice.octokit.request("GET /repos/{owner}/{repo}/rulesets", repo("records"))).data as {
        id: number;
        name: string;
        enforcement: string;
      }[];
    const [own] = await list();
    expect(own?.name).toBe("pullgate records (approved/*)");
    await alice.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...repo("records"),
      ruleset_id: own!.id,
      enforcement: "disabled",
    });
    expect((await auditRepository(app, repo("records"), auditOptions(t))).approvedRefs[0]?.status).toBe(
      "drift",
    );
    const fixed = await auditRepository(app, repo("records"), auditOptions(t, "all"));
    expect(fixed.approvedRefs[0]?.fix?.fixed).toBe(true);
    const now = await list();
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ id: own!.id, enforcement: "active" });
  });

  it("resetting pullgate's own record ruleset keeps what someone added to it and drops their exclusion", async () => {
    await t.createRepo(ORG, "records-tightened");
    expect((await auditRepository(app, repo("records-tightened"), auditOptions(t, "all"))).status).toBe("ok");
    const { data: listed } = await alice.octokit.request(
      "GET /repos/{owner}/{repo}/rulesets",
      repo("records-tightened"),
    );
    const own = (listed as { id: number; name: string }[]).find(
      (r) => r.name === "pullgate records (approved/*)",
    );
    // An admin widens it to release/* and adds a rule, but also carves approved/production out of it.
    await alice.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...repo("records-tightened"),
      ruleset_id: own!.id,
      conditions: {
        ref_name: {
          include: ["refs/heads/approved/*", "refs/heads/approved/**/*", "refs/heads/release/*"],
          exclude: ["refs/heads/approved/production"],
        },
      },
      rules: [
        { type: "creation" },
        { type: "update", parameters: { update_allows_fetch_and_merge: false } },
        { type: "deletion" },
        { type: "non_fast_forward" },
        { type: "required_linear_history" },
      ],
    } as never);
    const drifted = await auditRepository(app, repo("records-tightened"), auditOptions(t));
    expect(drifted.approvedRefs[0]?.status).toBe("drift");

    const fixed = await auditRepository(app, repo("records-tightened"), auditOptions(t, "all"));
    expect(fixed.approvedRefs[0]?.fix?.fixed).toBe(true);
    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...repo("records-tightened"),
      ruleset_id: own!.id,
    });
    const detail = data as unknown as {
      conditions: { ref_name: { include: string[]; exclude: string[] } };
      rules: { type: string }[];
    };
    expect(detail.conditions.ref_name.exclude).toEqual([]);
    expect(detail.conditions.ref_name.include).toContain("refs/heads/release/*");
    expect(detail.rules.map((r) => r.type)).toContain("required_linear_history");
  });

  it("in policy mode fixes only branches whose policy says enforce", async () => {
    await t.createRepo(ORG, "audit-only");
    const report = await auditRepository(app, repo("audit-only"), auditOptions(t, "policy"));
    expect(report.status).toBe("drift");
    expect(report.branches[0]?.fix).toBeUndefined();
    const protection = await alice.octokit
      .request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
        ...repo("audit-only"),
        branch: "main",
      })
      .then(
        () => "protected",
        (e: { status: number }) => e.status,
      );
    expect(protection).toBe(404);
  });

  it("audits a repository created after installation like any other", async () => {
    await t.createRepo(ORG, "newcomer");
    await t.idle();
    const created = t.webhooks.find(
      (w) =>
        w.event === "repository" && w.action === "created" && JSON.stringify(w.payload).includes("newcomer"),
    );
    expect(created).toBeDefined();
    const report = await auditRepository(app, repo("newcomer"), auditOptions(t));
    expect(report.status).toBe("drift");
    expect(report.branches[0]?.branch).toBe("main");
  });

  it("reports a broken policy as an error naming the file, without touching anything", async () => {
    await t.createRepo(ORG, "broken");
    await writeFiles(t, ORG, "broken", alice.token, { ".github/pullgate.yml": "version: 1\nbranches: 7\n" });
    const report = await auditRepository(app, repo("broken"), auditOptions(t, "all"));
    expect(report.status).toBe("error");
    expect(report.error).toContain("acme/broken@");
    expect(report.error).toContain(".github/pullgate.yml:2:");
    expect(report.branches).toEqual([]);
  });

  it("lists the same repositories through the installation as through the org", async () => {
    const names = (audit: OrgAudit) => audit.repositories.map((r) => r.repo);
    const byOrg = await auditOrganization(app, ORG, auditOptions(t));
    const byInstallation = await auditOrganization(app, ORG, { ...auditOptions(t), listing: "installation" });
    expect(names(byOrg).length).toBeGreaterThan(5);
    expect(names(byInstallation)).toEqual(names(byOrg));
  });

  it("says a repository without any policy is not governed", async () => {
    await t.createOrg("initech", "alice");
    await t.createRepo("initech", "loose");
    const gh = probotOctokit(t, await t.installationToken("initech"));
    const report = await auditRepository(gh, { owner: "initech", repo: "loose" }, auditOptions(t));
    expect(report.status).toBe("ungoverned");
    expect(report.branches).toEqual([]);
  });
});
