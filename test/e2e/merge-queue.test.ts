/**
 * End to end through the sandbox's merge queue (no hand-built groups, no hand-signed deliveries):
 * a ruleset on main requires the merge queue and the `pullgate` check (plus a `ci` commit status the
 * test posts, so the test decides when a group may land). An approved PR is enqueued; the sandbox
 * builds its `gh-readonly-queue/main/pr-<N>-<sha>` group and sends `merge_group.checks_requested`;
 * the real Probot app writes its pullgate check on the group head; the queue fast-forwards main;
 * the app's push handler publishes an approved-revision record for the landed commit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf, readPublicKeys } from "../../src/record/index.js";
import { ORG, REPO, startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import { settle } from "@pullgate/sandbox";
import { readable } from "../helpers/check-text.js";
import { webhookErrors, webhookSchemas } from "@pullgate/sandbox";
import {
  git,
  gnupgHome,
  openApprovedPull,
  readRecords,
  recordHead,
  type RecordView,
} from "../helpers/records.js";

interface QueueEntry {
  pull_number: number;
  merge_group: { head_sha: string; head_ref: string; base_sha: string } | null;
}

describe("e2e: the merge queue lands approved PRs and pullgate records them", () => {
  let h: AppHarness;
  let clone: string;
  let fingerprint: string;
  let rulesetId: number;
  const repoParams = { owner: ORG, repo: REPO };

  /** merge_queue (MERGE, `build` groups at a time) + required checks pullgate (the app) and ci. */
  const rules = (build: number) => [
    {
      type: "merge_queue",
      parameters: {
        check_response_timeout_minutes: 60,
        grouping_strategy: "ALLGREEN",
        max_entries_to_build: build,
        max_entries_to_merge: 1,
        merge_method: "MERGE",
        min_entries_to_merge: 1,
        min_entries_to_merge_wait_minutes: 0,
      },
    },
    {
      type: "required_status_checks",
      parameters: {
        strict_required_status_checks_policy: false,
        required_status_checks: [
          { context: "pullgate", integration_id: h.t.sandbox.app.id },
          { context: "ci" },
        ],
      },
    },
  ];

  beforeAll(async () => {
    webhookSchemas(); // compiled before the sandbox's sockets exist (it blocks the event loop a while)
    h = await startAppHarness();
    clone = await h.clone(h.people.olivia);
    const [key] = await readPublicKeys([h.recordPublicKey]);
    if (key === undefined) throw new Error("no record key");
    fingerprint = fingerprintOf(key);
    const { data } = await h.people.olivia.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      ...repoParams,
      name: "main goes through the merge queue",
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      rules: rules(5),
    } as never);
    rulesetId = (data as { id: number }).id;
    await h.settle();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function setBuild(build: number) {
    await h.people.olivia.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      ...repoParams,
      ruleset_id: rulesetId,
      rules: rules(build),
    } as never);
    await h.settle();
  }

  /** The CI the ruleset also requires: a commit status the test posts. */
  async function ci(sha: string, state: "success" | "failure" = "success") {
    await h.people.alice.octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      ...repoParams,
      sha,
      state,
      context: "ci",
    });
    await h.settle();
  }

  async function enqueue(who: Person, number: number) {
    const r = await settle(
      who.octokit.request("PUT /sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue", {
        ...repoParams,
        pull_number: number,
      }),
    );
    await h.settle();
    return r;
  }

  async function queue(): Promise<QueueEntry[]> {
    await h.settle();
    const { data } = await h.people.olivia.octokit.request(
      "GET /sandbox/repos/{owner}/{repo}/queue/{branch}",
      {
        ...repoParams,
        branch: "main",
      },
    );
    return data as QueueEntry[];
  }

  async function groupOf(number: number) {
    const group = (await queue()).find((e) => e.pull_number === number)?.merge_group;
    if (!group) throw new Error(`#${number} has no merge group`);
    return group;
  }

  async function pull(number: number) {
    return (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
        ...repoParams,
        pull_number: number,
      })
    ).data;
  }

  const alertIssues = async () =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
        ...repoParams,
        labels: "pullgate-alert",
        state: "all",
      })
    ).data;

  /** Every webhook the sandbox sent the app, oldest first. */
  const deliveries = () => h.t.sandbox.webhooks.deliveries();

  /** The record chain, oldest first (empty before the first record). */
  const records = async () => ((await recordHead(h)) === null ? [] : (await readRecords(h, clone)).reverse());
  const tree = async (sha: string) => (await git(h, clone, ["rev-parse", `${sha}^{tree}`])).trim();
  /** A commit's tree and parents from the API (for commits the local clone has not fetched). */
  const commitOf = async (sha: string) =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        ...repoParams,
        commit_sha: sha,
      })
    ).data;

  function expectRecord(record: RecordView | undefined, sequence: number, source: string, pr: number) {
    expect(record?.trailers).toMatchObject({
      "Pullgate-Record": ["1"],
      "Pullgate-Repository": [`${ORG}/${REPO}`],
      "Pullgate-Environment": ["production"],
      "Pullgate-Branch": ["main"],
      "Pullgate-Sequence": [String(sequence)],
      "Pullgate-Source-Commit": [source],
      "Pullgate-Pull-Request": [String(pr)],
      "Pullgate-Approved-By": ["bob"],
      "Pullgate-Key": [fingerprint],
    });
  }

  it("an approved PR goes through the queue: pullgate passes its group, main lands on it, a record is published", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "mq-first", [
      { "clusters/prod/app.yaml": "replicas: 11\n" },
    ]);
    await ci(pr.headSha);
    // The merge button is gone: only the queue merges into main.
    const direct = await settle(
      olivia.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        ...repoParams,
        pull_number: pr.number,
      }),
    );
    expect(direct.status).toBe(405);
    expect((direct.data as { message: string }).message).toContain(
      "Changes must be made through the merge queue",
    );

    const base = await h.world.branchHead("main");
    expect((await enqueue(alice, pr.number)).status).toBe(201);
    const group = await groupOf(pr.number);
    expect(group.head_ref).toBe(`refs/heads/gh-readonly-queue/main/pr-${pr.number}-${base}`);
    // The app answered merge_group.checks_requested with its check on the group head.
    const check = await h.check(group.head_sha);
    expect(check?.conclusion).toBe("success");
    expect(check?.title).toBe(`Merge group: #${pr.number} approved`);
    expect(await recordHead(h)).toBeNull(); // ci has not answered yet: nothing landed

    await ci(group.head_sha);
    expect(await queue()).toEqual([]);
    expect(await h.world.branchHead("main")).toBe(group.head_sha);
    const merged = await pull(pr.number);
    expect(merged.merged).toBe(true);
    expect(merged.merged_by?.login).toBe("alice");
    expect(merged.merge_commit_sha).toBe(group.head_sha);

    const [record, ...more] = await records();
    expect(more).toEqual([]);
    expectRecord(record, 1, group.head_sha, pr.number);
    expect(record?.parents).toEqual([group.head_sha]);
    expect(record?.tree).toBe(await tree(pr.headSha)); // the approved head's tree is what landed
    expect(await alertIssues()).toEqual([]);
    const gpg = gnupgHome(h.recordPublicKey);
    try {
      const r = await h.t.git(clone, ["verify-commit", "--raw", record?.sha ?? ""], { GNUPGHOME: gpg.home });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      gpg.close();
    }
  });

  it("two PRs queued back to back, the second built on the first: both land, both get records", async () => {
    const { alice, bob, mallory } = h.people;
    const first = await openApprovedPull(h, alice, bob, "mq-stack-1", [
      { "clusters/prod/app.yaml": "replicas: 12\n" },
    ]);
    // The second PR is up to date with the first (branched from it), as pullgate's policy expects.
    const dir = first.dir;
    expect((await h.t.git(dir, ["checkout", "-q", "-b", "mq-stack-2"])).code).toBe(0);
    const secondHead = await h.commit(
      dir,
      mallory,
      { "clusters/prod/extra.yaml": "kind: ConfigMap\n" },
      "stacked",
    );
    expect((await h.t.push(dir, "HEAD:refs/heads/mq-stack-2")).code).toBe(0);
    const { data: opened } = await mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      ...repoParams,
      title: "stacked",
      head: "mq-stack-2",
      base: "main",
    });
    await h.settle();
    await h.review(bob, opened.number, "APPROVE", secondHead);
    expect((await h.check(secondHead))?.conclusion).toBe("success");
    await ci(first.headSha);
    await ci(secondHead);

    expect((await enqueue(alice, first.number)).status).toBe(201);
    expect((await enqueue(alice, opened.number)).status).toBe(201);
    const g1 = await groupOf(first.number);
    const g2 = await groupOf(opened.number);
    expect(g2.base_sha).toBe(g1.head_sha);
    expect((await h.check(g1.head_sha))?.conclusion).toBe("success");
    expect((await h.check(g2.head_sha))?.conclusion).toBe("success");
    await ci(g2.head_sha);
    await ci(g1.head_sha);
    expect(await queue()).toEqual([]);
    expect(await h.world.branchHead("main")).toBe(g2.head_sha);

    const chain = await records();
    expect(chain).toHaveLength(3);
    expectRecord(chain[1], 2, g1.head_sha, first.number);
    expectRecord(chain[2], 3, g2.head_sha, opened.number);
    expect(chain[2]?.parents).toEqual([chain[1]?.sha, g2.head_sha]);
    expect(chain[1]?.tree).toBe(await tree(first.headSha));
    expect(chain[2]?.tree).toBe(await tree(secondHead));
    expect(await alertIssues()).toEqual([]);
  });

  it("two independent PRs queued back to back: the first lands with a record; the second's group holds a tree nobody approved, so pullgate fails it and the queue drops it before it lands", async () => {
    const { alice, bob } = h.people;
    const one = await openApprovedPull(h, alice, bob, "mq-indep-1", [{ "clusters/prod/a.yaml": "a: 1\n" }]);
    const two = await openApprovedPull(h, alice, bob, "mq-indep-2", [{ "clusters/prod/b.yaml": "b: 1\n" }]);
    await ci(one.headSha);
    await ci(two.headSha);
    await enqueue(alice, one.number);
    await enqueue(alice, two.number);
    const g1 = await groupOf(one.number);
    // g2 = main + #one + #two: its tree is not #two's approved head tree (that lacks #one's file).
    // The queue has already dropped #two by now (see below): its group is read from the webhook.
    const groups = deliveries()
      .filter((d) => d.event === "merge_group" && d.action === "checks_requested")
      .map((d) => d.payload.merge_group as { head_sha: string; head_ref: string });
    const g2Head = groups.findLast((g) => g.head_ref.includes(`/pr-${two.number}-`))?.head_sha ?? "";
    const g2Commit = await commitOf(g2Head);
    expect(g2Commit.parents.map((p) => p.sha)).toEqual([g1.head_sha, two.headSha]);
    expect(g2Commit.tree.sha).not.toBe((await commitOf(two.headSha)).tree.sha);
    const blocked = await h.check(g2Head);
    expect(blocked?.conclusion).toBe("failure");
    expect(blocked?.title).toBe(`Merge group blocked: #${two.number} not approved`);
    expect(readable(blocked)).toContain("is not the tree approved on");
    expect(readable(blocked)).toContain(`Update #${two.number}'s branch with main`);
    // A failing required check drops #two from the queue; #one lands alone, with its record.
    expect((await queue()).map((e) => e.pull_number)).toEqual([one.number]);
    await ci(g1.head_sha);
    expect(await queue()).toEqual([]);
    expect(await h.world.branchHead("main")).toBe(g1.head_sha);
    expect((await pull(two.number)).merged).toBe(false);
    let chain = await records();
    expect(chain).toHaveLength(4);
    expectRecord(chain[3], 4, g1.head_sha, one.number);
    expect(await alertIssues()).toEqual([]);

    // The fix the check names: bring #two up to date (re-made on main, signed), re-approve, re-queue.
    expect((await h.t.git(two.dir, ["fetch", "-q", "origin", "main"])).code).toBe(0);
    expect((await h.t.git(two.dir, ["checkout", "-q", "-B", "mq-indep-2", "FETCH_HEAD"])).code).toBe(0);
    const updated = await h.commit(two.dir, alice, { "clusters/prod/b.yaml": "b: 1\n" }, "b, on top of main");
    expect((await h.t.push(two.dir, "HEAD:refs/heads/mq-indep-2", { force: true })).code).toBe(0);
    await h.settle();
    await h.review(bob, two.number, "APPROVE", updated);
    expect((await h.check(updated))?.conclusion).toBe("success");
    await ci(updated);
    expect((await enqueue(alice, two.number)).status).toBe(201);
    const again = await groupOf(two.number);
    expect((await h.check(again.head_sha))?.conclusion).toBe("success");
    await ci(again.head_sha);
    expect(await h.world.branchHead("main")).toBe(again.head_sha);
    chain = await records();
    expect(chain).toHaveLength(5);
    expectRecord(chain[4], 5, again.head_sha, two.number);
    expect(chain[4]?.tree).toBe((await commitOf(updated)).tree.sha);
    expect(await alertIssues()).toEqual([]);
  });

  it("attacks: an unapproved PR cannot enter the queue; one whose approval is withdrawn while it waits fails its group and is dequeued, with no record", async () => {
    const { alice, bob, mallory } = h.people;
    // No approval: pullgate fails its head, and the queue requires pullgate on the head to enter.
    const lone = await h.openPull(mallory, "mq-unapproved", { "clusters/prod/app.yaml": "replicas: 666\n" });
    await ci(lone.headSha);
    expect((await h.check(lone.headSha))?.conclusion).toBe("failure");
    const refused = await enqueue(mallory, lone.number);
    expect(refused.status).toBe(422);
    expect((refused.data as { message: string }).message).toContain(
      'Required status check "pullgate" is expected.',
    );

    // One group built at a time: the second PR waits unbuilt behind the first.
    await setBuild(1);
    const ahead = await openApprovedPull(h, alice, bob, "mq-ahead", [
      { "clusters/prod/ahead.yaml": "replicas: 2\n" },
    ]);
    const victim = await openApprovedPull(h, mallory, bob, "mq-withdrawn", [
      { "clusters/prod/app.yaml": "replicas: 999\n" },
    ]);
    await ci(ahead.headSha);
    await ci(victim.headSha);
    await enqueue(alice, ahead.number);
    await enqueue(mallory, victim.number);
    const waiting = await queue();
    expect(waiting.map((e) => [e.pull_number, e.merge_group !== null])).toEqual([
      [ahead.number, true],
      [victim.number, false],
    ]);
    // bob changes his mind while the PR waits in the queue.
    await bob.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      ...repoParams,
      pull_number: victim.number,
      event: "REQUEST_CHANGES",
      body: "not 999 replicas",
    });
    await h.settle();
    const recordsBefore = (await records()).length;
    const aheadGroup = await groupOf(ahead.number);
    await ci(aheadGroup.head_sha); // the first lands; the victim's group is built and gated now
    const dequeued = deliveries().find(
      (w) =>
        w.event === "pull_request" &&
        w.action === "dequeued" &&
        (w.payload.pull_request as { number: number }).number === victim.number,
    );
    expect(dequeued?.payload.reason).toBe("CI_FAILURE");
    expect(await queue()).toEqual([]);
    expect((await pull(victim.number)).merged).toBe(false);
    const destroyed = deliveries()
      .filter((w) => w.event === "merge_group" && w.action === "destroyed")
      .at(-1);
    expect(destroyed?.payload.reason).toBe("invalidated");
    const victimGroup = (destroyed?.payload.merge_group as { head_sha: string }).head_sha;
    const check = await h.check(victimGroup);
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe(`Merge group blocked: #${victim.number} not approved`);
    // Only the PR ahead was recorded; main never saw the victim's change.
    const chain = await records();
    expect(chain).toHaveLength(recordsBefore + 1);
    expectRecord(chain.at(-1), recordsBefore + 1, aheadGroup.head_sha, ahead.number);
    const mainTree = await h.t.git(clone, ["show", `${aheadGroup.head_sha}:clusters/prod/app.yaml`]);
    expect(mainTree.stdout).not.toContain("999");
  });

  it("attack: a commit pushed to a queued PR after its group passed does not ride the queue in", async () => {
    const { bob, mallory } = h.people;
    await setBuild(5);
    const pr = await openApprovedPull(h, mallory, bob, "mq-sneak", [
      { "clusters/prod/app.yaml": "replicas: 5\n" },
    ]);
    await ci(pr.headSha);
    expect((await enqueue(mallory, pr.number)).status).toBe(201);
    const group = await groupOf(pr.number);
    expect((await h.check(group.head_sha))?.conclusion).toBe("success");
    const mainBefore = await h.world.branchHead("main");
    const recordBefore = await recordHead(h);
    // Approved and green in the queue; now mallory slips in an unreviewed change.
    expect((await h.t.git(pr.dir, ["checkout", "-q", "mq-sneak"])).code).toBe(0);
    await h.commit(pr.dir, mallory, { "clusters/prod/app.yaml": "replicas: 500\n" }, "sneak");
    expect((await h.t.push(pr.dir, "HEAD:refs/heads/mq-sneak")).code).toBe(0);
    await h.settle();
    expect(await queue()).toEqual([]);
    const dequeued = deliveries()
      .filter((d) => d.event === "pull_request" && d.action === "dequeued")
      .at(-1);
    expect(dequeued?.payload).toMatchObject({ number: pr.number, reason: "UNKNOWN_REMOVAL_REASON" });
    await ci(group.head_sha); // too late: the group is gone
    expect(await h.world.branchHead("main")).toBe(mainBefore);
    expect((await pull(pr.number)).merged).toBe(false);
    expect(await recordHead(h)).toBe(recordBefore);
  });

  it("every merge_group and enqueued/dequeued webhook the queue sent conforms to GitHub's schema", () => {
    const sent = deliveries().filter(
      (d) => d.event === "merge_group" || ["enqueued", "dequeued"].includes(d.action ?? ""),
    );
    const kinds = new Set(sent.map((d) => `${d.event}.${d.action ?? ""}`));
    expect([...kinds].sort()).toEqual([
      "merge_group.checks_requested",
      "merge_group.destroyed",
      "pull_request.dequeued",
      "pull_request.enqueued",
    ]);
    for (const d of sent) expect(webhookErrors(d), `${d.event}.${d.action ?? ""}`).toEqual([]);
  });
});
