/**
 * End to end, issue 12 finding 1 (protection side): with `protection.mode: enforce` the app guards
 * the record refs itself. When the policy lands (before any record exists) it creates the ruleset
 * "pullgate records (approved/*)" (creation, update, deletion, non_fast_forward; only the app's
 * Integration may bypass), so the sandbox, enforcing rulesets as GitHub does, refuses every
 * non-app push, force-push, deletion and pull-request merge on approved/production, from a writer
 * and from the org owner alike, while the app still publishes records through the API. Weakening
 * the ruleset (disabling it, adding a bypass actor, deleting it) is reverted on the
 * repository_ruleset event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ORG,
  REPO,
  basePolicy,
  startAppHarness,
  type AppHarness,
  type Person,
} from "../helpers/app-harness.js";
import { settle } from "@pullgate/sandbox";
import { git, mergePull, openApprovedPull, readRecords, recordHead } from "../helpers/records.js";

const RULESET = "pullgate records (approved/*)";

interface Ruleset {
  id: number;
  name: string;
  enforcement: string;
  bypass_actors: { actor_id: number | null; actor_type: string; bypass_mode: string }[];
  rules: { type: string }[];
  conditions: { ref_name: { include: string[] } };
}

describe("e2e: record refs guarded by the app (enforce mode)", () => {
  let h: AppHarness;
  let first: string;

  beforeAll(async () => {
    // GitHub's signed-commit badge is not what pullgate trusts (the sandbox badges no SSH keys), so the
    // branch's own protection does not ask for it here; the record-ref ruleset is the subject.
    h = await startAppHarness({
      policy: basePolicy(
        ["    protection:", "      mode: enforce", "      require_signed_commits: false"].join("\n"),
      ),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function ownRuleset(): Promise<Ruleset | undefined> {
    const { data } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/rulesets", {
      owner: ORG,
      repo: REPO,
    });
    const summary = (data as { id: number; name: string }[]).find((r) => r.name === RULESET);
    if (!summary) return undefined;
    const detail = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner: ORG,
      repo: REPO,
      ruleset_id: summary.id,
    });
    return detail.data as unknown as Ruleset;
  }

  /** A clone of `who` on approved/production with one more commit on top (or on `base`). */
  async function commitOnRecordRef(who: Person, base = "origin/approved/production"): Promise<string> {
    const dir = await h.clone(who);
    await git(h, dir, ["checkout", "-q", "-B", "approved/production", base]);
    await h.commit(dir, who, { "forged.txt": `by ${who.login}\n` }, "a record of my own");
    return dir;
  }

  it("the ruleset covers approved/production before the first record exists", async () => {
    expect(await recordHead(h)).toBeNull();
    const ruleset = await ownRuleset();
    expect(ruleset).toMatchObject({
      enforcement: "active",
      bypass_actors: [{ actor_id: h.t.sandbox.app.id, actor_type: "Integration", bypass_mode: "always" }],
    });
    expect(ruleset?.rules.map((r) => r.type).sort()).toEqual([
      "creation",
      "deletion",
      "non_fast_forward",
      "update",
    ]);
    expect(ruleset?.conditions.ref_name.include).toContain("refs/heads/approved/*");
  });

  it("a writer cannot create the record ref before the app does", async () => {
    const dir = await commitOnRecordRef(h.people.mallory, "origin/main");
    const pushed = await h.t.push(dir, "HEAD:refs/heads/approved/production");
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr + pushed.stdout).toContain("GH013");
    // Through the API, with a commit the sandbox has (main's head): refused by the creation rule.
    const sha = (await git(h, dir, ["rev-parse", "origin/main"])).trim();
    const viaApi = await settle(
      h.people.mallory.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
        owner: ORG,
        repo: REPO,
        ref: "refs/heads/approved/production",
        sha,
      }),
    );
    expect(viaApi.status).toBe(422);
    expect(JSON.stringify(viaApi.data)).toContain("creations being restricted");
    expect(await recordHead(h)).toBeNull();
  });

  it("the app still publishes records through the API", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "first", [
      { "clusters/prod/app.yaml": "replicas: 3\n" },
    ]);
    await mergePull(h, olivia, pr.number, "squash");
    const head = await recordHead(h);
    expect(head).not.toBeNull();
    first = head ?? "";
    const pr2 = await openApprovedPull(h, alice, bob, "second", [
      { "clusters/prod/app.yaml": "replicas: 4\n" },
    ]);
    await mergePull(h, olivia, pr2.number, "squash");
    const records = await readRecords(h, await h.clone(olivia));
    expect(records).toHaveLength(2);
    expect(records[1]?.sha).toBe(first);
  });

  for (const who of ["mallory", "olivia"] as const) {
    it(`${who} (${who === "olivia" ? "org owner" : "writer"}) cannot push, force-push or delete approved/production`, async () => {
      const person = h.people[who];
      const before = await recordHead(h);
      const dir = await commitOnRecordRef(person);

      const push = await h.t.push(dir, "HEAD:refs/heads/approved/production");
      expect(push.code).not.toBe(0);
      expect(push.stderr + push.stdout).toContain("Cannot update this protected ref");

      // Back to the older genuine record: the rollback that wedges every agent with state.
      const rollback = await h.t.push(dir, `${first}:refs/heads/approved/production`, { force: true });
      expect(rollback.code).not.toBe(0);
      expect(rollback.stderr + rollback.stdout).toContain("GH013");

      const deletion = await h.t.push(dir, ":refs/heads/approved/production");
      expect(deletion.code).not.toBe(0);
      expect(deletion.stderr + deletion.stdout).toContain("Cannot delete this protected ref");

      // The same through the API.
      const api = person.octokit;
      const patch = await settle(
        api.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
          owner: ORG,
          repo: REPO,
          ref: "heads/approved/production",
          sha: first,
          force: true,
        }),
      );
      expect(patch.status).toBe(422);
      const del = await settle(
        api.request("DELETE /repos/{owner}/{repo}/git/refs/{ref}", {
          owner: ORG,
          repo: REPO,
          ref: "heads/approved/production",
        }),
      );
      expect(del.status).toBe(422);
      await h.settle();
      expect(await recordHead(h)).toBe(before);
    });
  }

  it("a PR into approved/production fails its check, and its author's merge is refused", async () => {
    const { mallory } = h.people;
    const before = await recordHead(h);
    const pr = await h.openPull(
      mallory,
      "into-record",
      { "clusters/prod/app.yaml": "replicas: 99\n" },
      {
        base: "approved/production",
      },
    );
    expect((await h.check(pr.headSha))?.conclusion).toBe("failure");
    const merge = await settle(
      mallory.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: ORG,
        repo: REPO,
        pull_number: pr.number,
        merge_method: "merge",
      }),
    );
    expect(merge.status).toBe(405);
    await h.settle();
    expect(await recordHead(h)).toBe(before);
  });

  async function editRuleset(body: Record<string, unknown>): Promise<void> {
    const ruleset = await ownRuleset();
    if (!ruleset) throw new Error("no pullgate ruleset");
    await h.people.olivia.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner: ORG,
      repo: REPO,
      ruleset_id: ruleset.id,
      ...body,
    } as never);
    await h.settle();
  }

  it("weakening the ruleset is reverted: disabled, or a bypass actor added", async () => {
    await editRuleset({ enforcement: "disabled" });
    expect((await ownRuleset())?.enforcement).toBe("active");
    await editRuleset({
      bypass_actors: [
        { actor_id: h.t.sandbox.app.id, actor_type: "Integration", bypass_mode: "always" },
        { actor_id: 4, actor_type: "RepositoryRole", bypass_mode: "always" },
      ],
    });
    expect((await ownRuleset())?.bypass_actors).toEqual([
      { actor_id: h.t.sandbox.app.id, actor_type: "Integration", bypass_mode: "always" },
    ]);
  });

  it("deleting the ruleset is reverted, and the refs stay guarded", async () => {
    const ruleset = await ownRuleset();
    await h.people.olivia.octokit.request("DELETE /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner: ORG,
      repo: REPO,
      ruleset_id: ruleset?.id ?? 0,
    });
    await h.settle();
    const again = await ownRuleset();
    expect(again?.enforcement).toBe("active");
    const dir = await commitOnRecordRef(h.people.mallory);
    const push = await h.t.push(dir, "HEAD:refs/heads/approved/production");
    expect(push.code).not.toBe(0);
  });
});

describe("e2e: a repository created empty under an enforcing org policy", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function rulesetNames(repo: string): Promise<string[]> {
    const { data } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/rulesets", {
      owner: ORG,
      repo,
    });
    return (data as { name: string }[]).map((r) => r.name);
  }

  async function firstPush(repo: string, files: Record<string, string>): Promise<void> {
    const { olivia } = h.people;
    const dir = await h.t.clone(ORG, repo, olivia.token);
    await h.t.commit(dir, files, "first commit", { name: olivia.login, email: olivia.email });
    const pushed = await h.t.push(dir, "HEAD:refs/heads/main");
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
  }

  it("gets its record ruleset on its first push, before any record (the org policy governs it)", async () => {
    await h.t.createRepo(ORG, ".github");
    await firstPush(".github", {
      ".github/pullgate.yml": [
        "version: 1",
        'admins: ["@acme/platform"]',
        "branches:",
        "  - branch: main",
        "    environment: production",
        "    protection:",
        "      mode: enforce",
        "",
      ].join("\n"),
    });
    await h.t.createRepo(ORG, "fresh", { autoInit: false });
    await h.settle();
    expect(await rulesetNames("fresh")).toEqual([]);
    // Nothing about pullgate in this push: the repository has no policy file of its own.
    await firstPush("fresh", { "README.md": "fresh\n" });
    expect(await rulesetNames("fresh")).toContain(RULESET);
  });
});
