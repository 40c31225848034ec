/**
 * The sandbox's merge queue: the ruleset `merge_queue` rule, refusals of direct merges and pushes,
 * sandbox-only enqueue/dequeue endpoints, groups on `gh-readonly-queue/<base>/pr-<N>-<sha>` with
 * GitHub's `merge_group` / `pull_request` enqueued/dequeued webhooks (checked against GitHub's
 * schemas), landing when the required checks pass, dequeueing on failure, timeout, head pushes.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";
import { startSandbox } from "../src/index.js";
import { webhookErrors, webhookSchemas } from "../src/testing/webhook-schemas.js";
import type { ReceivedWebhook } from "../src/testing/harness.js";

const OWNER = "acme";

const QUEUE_RULE = {
  type: "merge_queue",
  parameters: {
    check_response_timeout_minutes: 30,
    grouping_strategy: "ALLGREEN",
    max_entries_to_build: 5,
    max_entries_to_merge: 1,
    merge_method: "MERGE",
    min_entries_to_merge: 1,
    min_entries_to_merge_wait_minutes: 0,
  },
};

describe("sandbox: merge queue", () => {
  let t: TestSandbox;
  let alice: TestUser; // org owner: bypasses the ruleset
  let bob: TestUser; // writer, PR author
  let carol: TestUser; // writer, reviewer, enqueues

  beforeAll(async () => {
    // Compiled up front: compiling blocks the event loop for a while, and mid-test that outlasts
    // the sandbox's keep-alive sockets (the next request then meets a reset connection).
    webhookSchemas();
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    carol = await t.createUser("carol");
    await t.createOrg(OWNER, "alice");
  });
  afterAll(async () => t.close());

  async function queuedRepo(name: string, rule: Record<string, unknown> = QUEUE_RULE) {
    await t.createRepo(OWNER, name);
    for (const u of ["bob", "carol"])
      await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
        owner: OWNER,
        repo: name,
        username: u,
        permission: "push",
      });
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      owner: OWNER,
      repo: name,
      name: "queue",
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      rules: [
        rule,
        {
          type: "pull_request",
          parameters: {
            required_approving_review_count: 1,
            dismiss_stale_reviews_on_push: false,
            require_code_owner_review: false,
            require_last_push_approval: false,
            required_review_thread_resolution: false,
          },
        },
        {
          type: "required_status_checks",
          parameters: {
            strict_required_status_checks_policy: false,
            required_status_checks: [{ context: "ci" }],
          },
        },
      ],
      bypass_actors: [{ actor_id: 1, actor_type: "OrganizationAdmin", bypass_mode: "always" }],
    } as never);
    return data as { id: number };
  }

  async function mainSha(repo: string): Promise<string> {
    await t.idle(); // the queue advances after the request that woke it
    const { data } = await bob.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: OWNER,
      repo,
      ref: "heads/main",
    });
    return data.object.sha;
  }

  async function status(repo: string, sha: string, state: "success" | "failure" | "pending") {
    await bob.octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner: OWNER,
      repo,
      sha,
      state,
      context: "ci",
    });
  }

  /** A PR by bob adding one file, approved by carol, with ci green on its head. */
  async function readyPull(repo: string, branch: string) {
    const { number, headSha, dir } = await t.openPullRequest({
      owner: OWNER,
      repo,
      user: bob,
      branch,
      files: { [`${branch}.yaml`]: `${branch}: 1\n` },
    });
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo,
      pull_number: number,
      event: "APPROVE",
    });
    await status(repo, headSha, "success");
    return { number, headSha, dir };
  }

  const enqueue = (who: TestUser, repo: string, n: number) =>
    settle(
      who.octokit.request("PUT /sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue", {
        owner: OWNER,
        repo,
        pull_number: n,
      }),
    );

  interface QueueEntry {
    position: number;
    pull_number: number;
    merge_group: { head_sha: string; head_ref: string; base_sha: string; base_ref: string } | null;
  }
  async function queue(repo: string): Promise<QueueEntry[]> {
    await t.idle();
    const { data } = await bob.octokit.request("GET /sandbox/repos/{owner}/{repo}/queue/{branch}", {
      owner: OWNER,
      repo,
      branch: "main",
    });
    return data as QueueEntry[];
  }

  async function pull(repo: string, n: number) {
    await t.idle();
    return (
      await bob.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
        owner: OWNER,
        repo,
        pull_number: n,
      })
    ).data;
  }

  /** Deliveries for this repository since `from`, each checked against GitHub's schema. */
  function hooks(repo: string, from: number): ReceivedWebhook[] {
    const list = t.webhooks
      .slice(from)
      .filter((w) => (w.payload.repository as { name?: string } | undefined)?.name === repo);
    for (const w of list)
      if (["merge_group", "pull_request"].includes(w.event))
        expect(webhookErrors(w), `${w.event}.${w.action ?? ""}`).toEqual([]);
    return list;
  }
  const kinds = (list: ReceivedWebhook[]) =>
    list
      .filter((w) => w.event === "merge_group" || ["enqueued", "dequeued", "closed"].includes(w.action ?? ""))
      .map((w) => {
        const pr = w.payload.pull_request as { number: number } | undefined;
        const reason = w.payload.reason as string | undefined;
        return `${w.event}.${w.action ?? ""}${pr ? ` #${pr.number}` : ""}${reason ? ` ${reason}` : ""}`;
      });

  it("the merge_queue rule round-trips through the rulesets API and rules/branches, and bad parameters are refused", async () => {
    const { id } = await queuedRepo("shape");
    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner: OWNER,
      repo: "shape",
      ruleset_id: id,
    });
    expect(data.rules?.find((r) => r.type === "merge_queue")).toEqual(QUEUE_RULE);
    const rules = await bob.octokit.request("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
      owner: OWNER,
      repo: "shape",
      branch: "main",
    });
    const rule = rules.data.find((r) => r.type === "merge_queue") as Record<string, unknown> | undefined;
    expect(rule?.parameters).toEqual(QUEUE_RULE.parameters);
    expect(rule?.ruleset_id).toBe(id);
    const bad = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
        owner: OWNER,
        repo: "shape",
        name: "bad",
        target: "branch",
        enforcement: "active",
        rules: [{ type: "merge_queue", parameters: { ...QUEUE_RULE.parameters, merge_method: "OCTOPUS" } }],
      } as never),
    );
    expect(bad.status).toBe(422);
    // Strict mode: GitHub's schema refuses it before the rule's own checks run.
    expect((bad.data as { message: string }).message).toContain(
      `For 'properties/rules/items/properties/parameters/properties/merge_method', "OCTOPUS" is not one of MERGE, SQUASH, REBASE.`,
    );
    expect(t.takeViolations()).toMatchObject([
      { kind: "request-body", subject: "POST /repos/{owner}/{repo}/rulesets" },
    ]);
  });

  it("refuses PUT merge (405) and direct pushes (GH013) when the queue is required, and who may not enqueue", async () => {
    await queuedRepo("refusals");
    const p = await readyPull("refusals", "feat");
    const merge = await settle(
      carol.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: OWNER,
        repo: "refusals",
        pull_number: p.number,
      }),
    );
    expect(merge.status).toBe(405);
    expect((merge.data as { message: string }).message).toBe("Changes must be made through the merge queue");
    const dir = await t.clone(OWNER, "refusals", bob.token);
    await t.commit(dir, { "direct.txt": "1\n" }, "direct");
    const push = await t.push(dir, "HEAD:refs/heads/main");
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("GH013: Repository rule violations found for refs/heads/main.");
    expect(push.stderr).toContain("Changes must be made through the merge queue");

    // Not approved: GitHub will not queue it.
    const unapproved = await t.openPullRequest({
      owner: OWNER,
      repo: "refusals",
      user: bob,
      branch: "unapproved",
      files: { "u.yaml": "u: 1\n" },
    });
    await status("refusals", unapproved.headSha, "success");
    const refused = await enqueue(carol, "refusals", unapproved.number);
    expect(refused.status).toBe(422);
    expect((refused.data as { message: string }).message).toContain(
      "At least 1 approving review is required",
    );
    // Approved but ci not green on its head.
    await carol.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner: OWNER,
      repo: "refusals",
      pull_number: unapproved.number,
      event: "APPROVE",
    });
    await status("refusals", unapproved.headSha, "failure");
    const red = await enqueue(carol, "refusals", unapproved.number);
    expect(red.status).toBe(422);
    expect((red.data as { message: string }).message).toContain('Required status check "ci" is expected.');
    // A repository without a queue.
    await t.createRepo(OWNER, "plain");
    const plain = await t.openPullRequest({
      owner: OWNER,
      repo: "plain",
      user: alice,
      branch: "x",
      files: { x: "1\n" },
    });
    const noQueue = await enqueue(alice, "plain", plain.number);
    expect(noQueue.status).toBe(422);
    expect(await queue("refusals")).toEqual([]);
  });

  it("queues two PRs, builds stacked groups, and lands them in order when their checks pass", async () => {
    await queuedRepo("flow");
    const base = await mainSha("flow");
    const one = await readyPull("flow", "one");
    const two = await readyPull("flow", "two");
    await t.idle();
    const from = t.webhooks.length;
    expect((await enqueue(carol, "flow", one.number)).status).toBe(201);
    expect((await enqueue(carol, "flow", two.number)).status).toBe(201);
    const q = await queue("flow");
    expect(q.map((e) => [e.position, e.pull_number])).toEqual([
      [1, one.number],
      [2, two.number],
    ]);
    const g1 = q[0]?.merge_group;
    const g2 = q[1]?.merge_group;
    if (!g1 || !g2) throw new Error("groups not built");
    expect(g1.head_ref).toBe(`refs/heads/gh-readonly-queue/main/pr-${one.number}-${base}`);
    expect(g1.base_sha).toBe(base);
    expect(g2.base_sha).toBe(g1.head_sha);
    expect(g2.head_ref).toBe(`refs/heads/gh-readonly-queue/main/pr-${two.number}-${g1.head_sha}`);
    const groupCommit = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner: OWNER,
      repo: "flow",
      ref: g1.head_sha,
    });
    expect(groupCommit.data.parents.map((p) => p.sha)).toEqual([base, one.headSha]);
    expect(groupCommit.data.commit.verification?.verified).toBe(true); // web-flow signed
    expect(groupCommit.data.commit.committer?.name).toBe("GitHub");

    let sent = hooks("flow", from);
    expect(kinds(sent)).toEqual([
      `pull_request.enqueued #${one.number}`,
      "merge_group.checks_requested",
      `pull_request.enqueued #${two.number}`,
      "merge_group.checks_requested",
    ]);
    const requested = sent.filter((w) => w.event === "merge_group").map((w) => w.payload.merge_group);
    expect(requested).toMatchObject([
      { head_sha: g1.head_sha, head_ref: g1.head_ref, base_sha: base, base_ref: "refs/heads/main" },
      { head_sha: g2.head_sha, head_ref: g2.head_ref, base_sha: g1.head_sha, base_ref: "refs/heads/main" },
    ]);
    expect(sent.some((w) => w.event === "push" && w.payload.ref === g1.head_ref)).toBe(true);

    // The second group goes green first: nothing lands while the head of the queue waits.
    await status("flow", g2.head_sha, "success");
    expect((await queue("flow")).length).toBe(2);
    expect(await mainSha("flow")).toBe(base);
    const landFrom = t.webhooks.length;
    await status("flow", g1.head_sha, "success");
    expect(await queue("flow")).toEqual([]);
    expect(await mainSha("flow")).toBe(g2.head_sha);
    for (const [pr, group] of [
      [one, g1],
      [two, g2],
    ] as const) {
      const merged = await pull("flow", pr.number);
      expect(merged.merged).toBe(true);
      expect(merged.merge_commit_sha).toBe(group.head_sha);
      expect(merged.merged_by?.login).toBe("carol");
      const assoc = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
        owner: OWNER,
        repo: "flow",
        commit_sha: group.head_sha,
      });
      expect(assoc.data.map((p) => p.number)).toContain(pr.number);
    }
    sent = hooks("flow", landFrom);
    expect(kinds(sent)).toEqual([
      `pull_request.dequeued #${one.number} MERGE`,
      `pull_request.closed #${one.number}`,
      "merge_group.destroyed merged",
      `pull_request.dequeued #${two.number} MERGE`,
      `pull_request.closed #${two.number}`,
      "merge_group.destroyed merged",
    ]);
    const mainPushes = sent.filter((w) => w.event === "push" && w.payload.ref === "refs/heads/main");
    expect(
      mainPushes.map((w) => [
        w.payload.before,
        w.payload.after,
        (w.payload.sender as { login: string }).login,
      ]),
    ).toEqual([
      [base, g1.head_sha, "carol"],
      [g1.head_sha, g2.head_sha, "carol"],
    ]);
    const deleted = sent
      .filter((w) => w.event === "push" && w.payload.deleted === true)
      .map((w) => w.payload.ref);
    expect(deleted).toEqual([g1.head_ref, g2.head_ref]);
    const refs = await bob.octokit.request("GET /repos/{owner}/{repo}/git/matching-refs/{ref}", {
      owner: OWNER,
      repo: "flow",
      ref: "heads/gh-readonly-queue",
    });
    expect(refs.data).toEqual([]);
    // Persisted: the (now empty) queue is in state.json.
    const saved = JSON.parse(readFileSync(join(t.sandbox.dir, "state.json"), "utf8")) as {
      mergeQueue?: unknown[];
    };
    expect(saved.mergeQueue).toEqual([]);
  });

  it("a failing required check dequeues its PR (CI_FAILURE) and rebuilds the groups behind it", async () => {
    await queuedRepo("failing");
    const base = await mainSha("failing");
    const bad = await readyPull("failing", "bad");
    const good = await readyPull("failing", "good");
    await enqueue(carol, "failing", bad.number);
    await enqueue(carol, "failing", good.number);
    const [gBad, gGood] = (await queue("failing")).map((e) => e.merge_group);
    if (!gBad || !gGood) throw new Error("groups not built");

    // The queue survives a restart (state.json), and a state file from before queues loads empty.
    const copy = join(t.root, "restart-queue");
    cpSync(t.sandbox.dir, copy, { recursive: true });
    const queueAfterRestart = async () => {
      const restarted = await startSandbox({ dir: copy });
      try {
        const res = await fetch(`${restarted.apiUrl}/sandbox/repos/${OWNER}/failing/queue/main`, {
          headers: { authorization: `token ${restarted.adminToken}` },
        });
        return (await res.json()) as { pull_number: number; merge_group: { head_sha: string } | null }[];
      } finally {
        await restarted.close();
      }
    };
    expect((await queueAfterRestart()).map((e) => [e.pull_number, e.merge_group?.head_sha])).toEqual([
      [bad.number, gBad.head_sha],
      [good.number, gGood.head_sha],
    ]);
    const stateFile = join(copy, "state.json");
    const older = JSON.parse(readFileSync(stateFile, "utf8")) as Record<string, unknown>;
    delete older.mergeQueue;
    writeFileSync(stateFile, JSON.stringify(older));
    expect(await queueAfterRestart()).toEqual([]);
    const from = t.webhooks.length;
    await status("failing", gBad.head_sha, "failure");
    const q = await queue("failing");
    expect(q.map((e) => e.pull_number)).toEqual([good.number]);
    const rebuilt = q[0]?.merge_group;
    expect(rebuilt?.base_sha).toBe(base);
    expect(rebuilt?.head_ref).toBe(`refs/heads/gh-readonly-queue/main/pr-${good.number}-${base}`);
    const sent = hooks("failing", from);
    expect(kinds(sent)).toEqual([
      "merge_group.destroyed invalidated",
      `pull_request.dequeued #${bad.number} CI_FAILURE`,
      "merge_group.destroyed invalidated",
      "merge_group.checks_requested",
    ]);
    expect((await pull("failing", bad.number)).merged).toBe(false);
    await status("failing", rebuilt?.head_sha ?? "", "success");
    expect(await queue("failing")).toEqual([]);
    expect(await mainSha("failing")).toBe(rebuilt?.head_sha);
    expect((await pull("failing", good.number)).merged).toBe(true);
  });

  it("dequeues on a push to the PR's head and by hand; rebuilds when the base moves outside the queue; times out", async () => {
    await queuedRepo("moves");
    const a = await readyPull("moves", "a");
    const b = await readyPull("moves", "b");
    const c = await readyPull("moves", "c");
    for (const p of [a, b, c]) expect((await enqueue(carol, "moves", p.number)).status).toBe(201);
    await t.idle();
    const from = t.webhooks.length;
    // bob pushes to a's head: a leaves the queue, b and c are rebuilt on main.
    await t.commit(a.dir, { "a.yaml": "a: 2\n" }, "more");
    expect((await t.push(a.dir, "HEAD:refs/heads/a")).code).toBe(0);
    let q = await queue("moves");
    expect(q.map((e) => e.pull_number)).toEqual([b.number, c.number]);
    expect(kinds(hooks("moves", from))).toContain(
      `pull_request.dequeued #${a.number} UNKNOWN_REMOVAL_REASON`,
    );
    // carol takes c out by hand.
    const removed = await settle(
      carol.octokit.request("DELETE /sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue", {
        owner: OWNER,
        repo: "moves",
        pull_number: c.number,
      }),
    );
    expect(removed.status).toBe(204);
    q = await queue("moves");
    expect(q.map((e) => e.pull_number)).toEqual([b.number]);
    expect(kinds(hooks("moves", from))).toContain(`pull_request.dequeued #${c.number} MANUAL`);
    // alice (org admin, bypass) pushes straight to main: b's group is rebuilt on the new tip.
    const dir = await t.clone(OWNER, "moves", alice.token);
    const tip = await t.commit(dir, { "hotfix.txt": "1\n" }, "hotfix");
    expect((await t.push(dir, "HEAD:refs/heads/main")).code).toBe(0);
    q = await queue("moves");
    expect(q[0]?.merge_group?.base_sha).toBe(tip);
    // Nobody answers: past check_response_timeout_minutes the next wake-up dequeues it (CI_TIMEOUT).
    const entry = t.sandbox.state.mergeQueue?.find((e) => e.repo === `${OWNER}/moves`);
    if (entry === undefined || entry.group === null) throw new Error("no group");
    entry.group.created_at = new Date(Date.now() - 31 * 60_000).toISOString();
    await status("moves", entry.group.head_sha, "pending");
    expect(await queue("moves")).toEqual([]);
    expect(kinds(hooks("moves", from))).toContain(`pull_request.dequeued #${b.number} CI_TIMEOUT`);
    expect((await pull("moves", b.number)).merged).toBe(false);
  });

  it("builds squash groups (one parent, web-flow signed) and rebase groups (replayed, unsigned)", async () => {
    for (const method of ["SQUASH", "REBASE"] as const) {
      const repo = `method-${method.toLowerCase()}`;
      await queuedRepo(repo, {
        type: "merge_queue",
        parameters: { ...QUEUE_RULE.parameters, merge_method: method },
      });
      const base = await mainSha(repo);
      const p = await readyPull(repo, "m");
      expect((await enqueue(carol, repo, p.number)).status).toBe(201);
      const group = (await queue(repo))[0]?.merge_group;
      if (!group) throw new Error("no group");
      const { data } = await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
        owner: OWNER,
        repo,
        ref: group.head_sha,
      });
      expect(data.parents.map((x) => x.sha)).toEqual([base]);
      expect(data.commit.verification?.verified).toBe(method === "SQUASH");
      await status(repo, group.head_sha, "success");
      expect(await mainSha(repo)).toBe(group.head_sha);
      expect((await pull(repo, p.number)).merge_commit_sha).toBe(group.head_sha);
    }
  });
});
