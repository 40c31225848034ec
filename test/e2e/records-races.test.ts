/**
 * End to end, docs/architecture.md "Record contract": publishing is a compare-and-swap: approved
 * PRs merged back to back (their push events handled one after the other, then concurrently by two
 * app replicas) give one linear record chain with nothing lost, and a redelivered push, even a late
 * one for an older merge, never publishes a duplicate or a rollback record.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server.js";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { git, readRecords, recordHead, startRelay, type RecordView } from "../helpers/records.js";

interface Delivery {
  id: number;
  event: string;
  redelivery: boolean;
  payload: { ref?: string; after?: string };
}

describe("e2e: back-to-back merges, concurrent replicas and redeliveries keep one linear chain", () => {
  let h: AppHarness;
  let replica: RunningServer;
  let clone: string;
  /** Every commit that landed on main through an approved PR, in order. */
  const landed: string[] = [];

  beforeAll(async () => {
    h = await startAppHarness();
    // A second replica of the app: same app id, key, secret and record key, its own process state.
    replica = await startServer({
      appId: h.t.sandbox.app.id,
      privateKey: h.t.sandbox.app.privateKeyPem,
      webhookSecret: h.t.sandbox.app.webhookSecret,
      baseUrl: h.t.sandbox.apiUrl,
      port: 0,
      logLevel: "fatal",
      throttle: false,
      signingKey: h.recordPrivateKey,
      app: { pullLookupRetryDelaysMs: [50, 100, 200], evaluationTimeoutMs: 30_000 },
    });
    clone = await h.clone(h.people.olivia);
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  /**
   * Two approved PRs into main, the second stacked on the first (so each one's merge commit has
   * exactly its approved head's tree, with no update needed in between).
   */
  async function twoStackedApprovedPulls(name: string): Promise<number[]> {
    const { alice, bob } = h.people;
    const dir = await h.clone(alice);
    await git(h, dir, ["checkout", "-q", "-b", `${name}-1`, "origin/main"]);
    const numbers: number[] = [];
    for (const step of [1, 2]) {
      if (step === 2) await git(h, dir, ["checkout", "-q", "-b", `${name}-2`]);
      const head = await h.commit(
        dir,
        alice,
        { [`clusters/prod/${name}-${step}.yaml`]: `step: ${step}\n` },
        `${name} ${step}`,
      );
      const pushed = await h.t.push(dir, `HEAD:refs/heads/${name}-${step}`);
      expect(pushed.code, pushed.stderr).toBe(0);
      const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: ORG,
        repo: REPO,
        title: `${name} ${step}`,
        head: `${name}-${step}`,
        base: "main",
      });
      await h.settle();
      await h.review(bob, data.number, "APPROVE", head);
      expect((await h.check(head))?.conclusion).toBe("success");
      numbers.push(data.number);
    }
    return numbers;
  }

  /** Merges the PRs one right after the other, without waiting for any webhook in between. */
  async function mergeBackToBack(numbers: number[]): Promise<void> {
    for (const number of numbers) {
      const { data } = await h.people.olivia.octokit.request(
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
        { owner: ORG, repo: REPO, pull_number: number, merge_method: "merge" },
      );
      landed.push(data.sha);
    }
  }

  /** The chain is linear (#1..#n through first parents) and names each landed commit exactly once. */
  async function expectChainCoversLanded(): Promise<RecordView[]> {
    const records = (await readRecords(h, clone)).reverse();
    expect(records.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(
      records.map((_, i) => String(i + 1)),
    );
    expect(records.map((r) => r.trailers["Pullgate-Source-Commit"]?.[0])).toEqual(landed);
    return records;
  }

  /** Merges back to back while a relay hands the resulting events to both replicas concurrently. */
  async function mergeConcurrently(numbers: number[]): Promise<void> {
    const relay = await startRelay([h.server.webhookUrl, replica.webhookUrl]);
    h.t.sandbox.setWebhookUrl(relay.url);
    try {
      await mergeBackToBack(numbers);
      await h.settle();
      await relay.drain();
    } finally {
      h.t.sandbox.setWebhookUrl(h.server.webhookUrl);
      await relay.close();
    }
    expect(relay.forwarded.every((n) => n > 0)).toBe(true);
  }

  it("the first two records, from PRs merged back to back while two replicas handle the pushes and GitHub answers the first push's commits/{sha}/pulls late", async () => {
    const numbers = await twoStackedApprovedPulls("stack-a");
    await h.t.admin.request("POST /sandbox/faults", {
      route: "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
      latency_ms: 1_500,
      times: 1,
    });
    try {
      await mergeConcurrently(numbers);
    } finally {
      await h.t.admin.request("DELETE /sandbox/faults");
    }
    expect(await expectChainCoversLanded()).toHaveLength(2);
  });

  it("two PRs merged back to back (events delivered in order): records #3 and #4", async () => {
    await mergeBackToBack(await twoStackedApprovedPulls("stack-c"));
    await h.settle();
    expect(await expectChainCoversLanded()).toHaveLength(4);
  });

  it("two PRs merged back to back, pushes handled concurrently by two replicas: nothing lost, no fork", async () => {
    await mergeConcurrently(await twoStackedApprovedPulls("stack-b"));
    expect(await expectChainCoversLanded()).toHaveLength(6);
  });

  async function mainPushDeliveries(): Promise<Delivery[]> {
    const { data } = await h.t.admin.request("GET /sandbox/deliveries", { event: "push" });
    return (data as Delivery[]).filter((d) => d.payload.ref === "refs/heads/main" && !d.redelivery);
  }
  async function redeliver(id: number): Promise<void> {
    await h.t.admin.request("POST /sandbox/deliveries/{delivery_id}/redeliver", { delivery_id: id });
    await h.settle();
  }

  it("a redelivered push publishes no duplicate record", async () => {
    const head = await recordHead(h);
    const latest = (await mainPushDeliveries()).at(-1);
    expect(latest?.payload.after).toBe(landed.at(-1));
    await redeliver(latest?.id ?? 0);
    expect(await recordHead(h)).toBe(head);
    await expectChainCoversLanded();
  });

  it("a late redelivery of an older push publishes no rollback record and raises no alert", async () => {
    const head = await recordHead(h);
    const older = (await mainPushDeliveries()).find((d) => d.payload.after === landed[0]);
    expect(older).toBeDefined();
    await redeliver(older?.id ?? 0);
    expect(await recordHead(h)).toBe(head);
    await expectChainCoversLanded();
    const { data: statuses } = await h.people.olivia.octokit.request(
      "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
      { owner: ORG, repo: REPO, ref: landed[0] ?? "" },
    );
    expect(statuses).toEqual([]);
  });
});
