/**
 * End-to-end attacks on the branch → environment map (docs/architecture.md, invariant 9). Two
 * developers with write access (mallory, and alice approving for her) can create branches and
 * approve each other, but may not make anything feed production without the production rules
 * (an SRE code owner's approval, signed commits). A branch's own copy of the policy is the base of
 * its own pull requests, so it may not be what says which environment that branch feeds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { recordHead } from "../helpers/records.js";

/** Rules of the attackers' choosing: unsigned commits, one approval from anyone. */
const WEAK_RULES = [
  "    signatures:",
  "      required: false",
  "    reviews:",
  "      required_approvals: 1",
  "      require_code_owner_review: false",
];
const STAGING = ["  - branch: staging", "    environment: staging", ...WEAK_RULES, ""].join("\n");
const STAGING_CLAIMS_PRODUCTION = [
  "  - branch: staging",
  "    environment: production",
  ...WEAK_RULES,
  "",
].join("\n");
/** Release branches feed `release` under the default rules (signed commits, a code owner's approval). */
const RELEASE = ["  - branch: release/*", "    environment: release", ""].join("\n");
const RELEASE_WEAK = ["  - branch: release/*", "    environment: release", ...WEAK_RULES, ""].join("\n");
const HIJACK = ["  - branch: hijack", "    environment: production", ...WEAK_RULES, ""].join("\n");

describe("e2e attacks: a branch's own policy cannot make it feed an environment", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(STAGING + RELEASE) });
    // olivia (platform admin) creates staging from main: the default branch's policy governs it.
    await h.openPull(h.people.olivia, "staging", { "clusters/staging/app.yaml": "replicas: 1\n" });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function alertComments(): Promise<string[]> {
    const { data: issues } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo: REPO,
      state: "all",
    });
    const bodies: string[] = [];
    for (const issue of issues) {
      if (!issue.title.startsWith("pullgate:")) continue;
      bodies.push(issue.body ?? "");
      const { data: comments } = await h.people.olivia.octokit.request(
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { owner: ORG, repo: REPO, issue_number: issue.number },
      );
      bodies.push(...comments.map((c) => c.body ?? ""));
    }
    return bodies;
  }

  /** A PR by mallory into `base`, approved by alice, merged by mallory: the landing under test. */
  async function land(
    branch: string,
    base: string,
    files: Record<string, string>,
    alsoApprovedBy: "olivia" | null = null,
  ): Promise<string> {
    const { alice, mallory } = h.people;
    const pr = await h.openPull(mallory, branch, files, { base });
    await h.review(alice, pr.number, "APPROVE");
    if (alsoApprovedBy !== null) await h.review(h.people[alsoApprovedBy], pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    // The gate judges a PR by its base's policy: the attackers' rules are met.
    expect(check?.conclusion).toBe("success");
    const merged = await h.world.merge(mallory, pr.number, "merge");
    await h.settle();
    return merged;
  }

  it("control: a landing on staging, which the default branch's policy governs, gets its staging record", async () => {
    const before = await recordHead(h, "staging");
    await land("to-staging", "staging", { "clusters/staging/app.yaml": "replicas: 2\n" });
    const after = await recordHead(h, "staging");
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });

  it("attack: a new branch whose own policy claims production gets no production record, and an alert says why", async () => {
    const production = await recordHead(h, "production");
    await h.openPull(h.people.mallory, "hijack", { ".github/pullgate.yml": basePolicy(HIJACK) });
    const merged = await land("hijack-change", "hijack", { "clusters/prod/app.yaml": "replicas: 0\n" });
    expect(await recordHead(h, "production")).toBe(production);
    const alerts = (await alertComments()).filter((b) => b.includes(merged));
    expect(alerts.join("\n")).toContain(
      "the policy on the default branch `main` does not govern `hijack`; a branch's own copy of the policy cannot make it feed `production`",
    );
  });

  it("attack: a new release branch created with a weakened copy of the policy gets no release record, and an alert says why", async () => {
    await h.openPull(h.people.mallory, "release/9", {
      ".github/pullgate.yml": basePolicy(STAGING + RELEASE_WEAK),
    });
    const merged = await land("to-release", "release/9", { "clusters/prod/app.yaml": "replicas: 0\n" });
    expect(await recordHead(h, "release")).toBeNull();
    const alerts = (await alertComments()).filter((b) => b.includes(merged));
    expect(alerts.join("\n")).toContain(
      "`release/9`'s own copy of the policy is looser than the default branch `main`'s for it: signatures.required false against true (unsigned commits would pass)",
    );
  });

  it("attack: staging's own copy redirected to production gets no production record, and an alert says why", async () => {
    const production = await recordHead(h, "production");
    // The redirect itself lands by staging's rules, which for the policy file (a sensitive path)
    // include a policy admin's approval: even an admin's edit on staging cannot redirect it.
    await land(
      "redirect",
      "staging",
      { ".github/pullgate.yml": basePolicy(STAGING_CLAIMS_PRODUCTION) },
      "olivia",
    );
    const merged = await land("after-redirect", "staging", { "clusters/prod/app.yaml": "replicas: 0\n" });
    expect(await recordHead(h, "production")).toBe(production);
    const alerts = (await alertComments()).filter((b) => b.includes(merged));
    expect(alerts.join("\n")).toContain(
      "the policy on the default branch `main` makes `staging` feed `staging`, not `production` as the branch's own copy says",
    );
  });
});
