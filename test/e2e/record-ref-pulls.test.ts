/**
 * End to end, issue 12 finding 1 (gate side): a pull request whose base is a record ref
 * (`approved/<env>`) fails pullgate's check, saying record refs are written only by pullgate and to
 * close it: even when the record ref's head carries a broken policy or none at all (its tree is not
 * trusted; the prefix comes from the governed branches' policy). Before, such a PR got a neutral
 * "No pullgate policy governs approved/production", which a required check counts as passing.
 * The repository has no protection here (mode off), so the sandbox lets the pushes through.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, basePolicy, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";
import { git, mergePull, openApprovedPull, recordHead } from "../helpers/records.js";

describe("e2e: pull requests into record refs fail their check", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness();
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "first", [
      { "clusters/prod/app.yaml": "replicas: 3\n" },
    ]);
    await mergePull(h, olivia, pr.number, "squash");
    expect(await recordHead(h)).not.toBeNull();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("a PR into approved/production opened and self-merged by its author: the check fails with the reason", async () => {
    const { mallory } = h.people;
    const pr = await h.openPull(
      mallory,
      "into-record",
      { "clusters/prod/app.yaml": "replicas: 99\n" },
      {
        base: "approved/production",
      },
    );
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe(
      "approved/production is a record ref written only by pullgate: close this pull request",
    );
    expect(readable(check)).toContain("only pullgate writes it, never a pull request");
    expect(fixes(check)[0]).toMatch(
      /^Close this pull request\. To change what production runs, open the pull request into the branch that feeds production/,
    );
    const decision = decisionOf(check);
    expect(decision).toMatchObject({ status: "fail", baseRef: "approved/production", environment: null });
    expect(decision.rules).toEqual([{ id: "record-ref", status: "fail" }]);
    // Without protection on the record ref (this repository has none) the author can still merge:
    // the check says so, and test/e2e/record-ref-protection.test.ts shows the ruleset refusing it.
    await mergePull(h, mallory, pr.number, "merge");
  });

  async function pushToRecordRef(edit: (dir: string) => Promise<void>, message: string): Promise<void> {
    const { mallory } = h.people;
    const dir = await h.clone(mallory);
    await git(h, dir, ["checkout", "-q", "-B", "approved/production", "origin/approved/production"]);
    await edit(dir);
    await h.commit(dir, mallory, {}, message);
    const pushed = await h.t.push(dir, "HEAD:refs/heads/approved/production");
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
  }

  it("fails too when the record ref's head carries no policy at all (it used to be 'not governed')", async () => {
    await pushToRecordRef(async (dir) => {
      await git(h, dir, ["rm", "-q", ".github/pullgate.yml"]);
    }, "drop the policy from the record ref");
    const pr = await h.openPull(
      h.people.mallory,
      "into-policyless-record",
      { "x.txt": "x\n" },
      {
        base: "approved/production",
      },
    );
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toContain("approved/production is a record ref");
    // The prefix was read from the governed branch, not from the ref's own tree.
    expect(readable(check)).toContain("the default branch main");
  });

  it("fails with the record-ref reason when the record ref's head carries a broken policy", async () => {
    await pushToRecordRef(async (dir) => {
      await writeFile(join(dir, ".github/pullgate.yml"), "version: [\n");
    }, "a broken policy on the record ref");
    const pr = await h.openPull(
      h.people.mallory,
      "into-broken-record",
      { "y.txt": "y\n" },
      {
        base: "approved/production",
      },
    );
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toContain("approved/production is a record ref");
  });

  it("an ordinary branch with no policy entry is still 'not governed' (neutral)", async () => {
    const { alice } = h.people;
    const dir = await h.clone(alice);
    await git(h, dir, ["checkout", "-q", "-b", "scratch"]);
    const pushed = await h.t.push(dir, "HEAD:refs/heads/scratch");
    expect(pushed.code, pushed.stderr).toBe(0);
    const pr = await h.openPull(alice, "into-scratch", { "z.txt": "z\n" }, { base: "scratch" });
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("neutral");
  });
});

describe("e2e: a custom record prefix (records.ref_prefix)", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(["records:", "  ref_prefix: records/"].join("\n")) });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function branch(name: string): Promise<void> {
    const { olivia } = h.people;
    const dir = await h.clone(olivia);
    const pushed = await h.t.push(dir, `HEAD:refs/heads/${name}`);
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
  }

  it("a PR into records/<env> fails; approved/<env> is then an ordinary branch", async () => {
    await branch("records/production");
    await branch("approved/production");
    const { mallory } = h.people;
    const intoRecords = await h.openPull(
      mallory,
      "into-records",
      { "a.txt": "a\n" },
      {
        base: "records/production",
      },
    );
    const check = await h.check(intoRecords.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe(
      "records/production is a record ref written only by pullgate: close this pull request",
    );

    const intoApproved = await h.openPull(
      mallory,
      "into-approved",
      { "b.txt": "b\n" },
      {
        base: "approved/production",
      },
    );
    expect((await h.check(intoApproved.headSha))?.conclusion).toBe("neutral");
  });

  it("a PR from a record ref into the governed branch is judged like any other (its commits are the app's, not a person's)", async () => {
    const { mallory } = h.people;
    const dir = await h.clone(mallory);
    await git(h, dir, ["checkout", "-q", "-B", "records/production", "origin/records/production"]);
    await h.commit(dir, mallory, { "c.txt": "c\n" }, "on the record ref");
    const pushed = await h.t.push(dir, "HEAD:refs/heads/records/production");
    expect(pushed.code, pushed.stderr).toBe(0);
    const { data } = await mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "records back into main",
      head: "records/production",
      base: "main",
    });
    await h.settle();
    // Judged by main's policy: no approval yet, so it fails, but not as a record ref.
    const check = await h.check(data.head.sha);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).not.toContain("record ref");
  });
});
