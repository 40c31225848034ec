/**
 * The outage scenario of the reconciler (docs/operations.md, "Outages and recovery"), shared by
 * the short run in `npm test` (test/e2e/reconcile-outage.test.ts) and the reliability suite: the
 * only app replica, a child process, is SIGKILLed; while it is down three approved pull requests
 * are merged and one commit is pushed straight to main, and every webhook of that time fails
 * (the sandbox logs the failed deliveries); a new replica is started. Its first sweep, right after
 * start, both asks GitHub to redeliver the failed deliveries and reconciles the branch with the
 * records, so the push handler and the sweep race for the same landings.
 */
import { ENVIRONMENT } from "../../../src/demo/seed.js";
import { ALERT_ISSUE_MARKER, eventMarker } from "../../../src/github/records/alert.js";
import type { Cluster } from "./cluster.js";
import { approvedPull } from "./flow.js";
import { readChain, verifyChain, type ChainReport } from "./records.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface OutageResult {
  /** Commits that landed on main through approved PRs, oldest first (the first one before the outage). */
  landed: string[];
  directPush: string;
  chain: ChainReport;
  /** ms from the new replica's start to the record of the last missing landing. */
  recoveryMs: number;
  /** Bodies of pullgate's alert issues and their comments that name the direct push. */
  alertMentions: number;
  alertIssues: number;
  /** The new replica's /metrics text. */
  metrics: string;
}

/** Three PRs opened and approved while the app is up, stacked so each merge keeps its approved tree. */
async function stackedApprovedPulls(c: Cluster, name: string, count: number): Promise<number[]> {
  const { alice, bob } = c.world.people;
  const dir = await c.world.clone(alice);
  await c.world.git(dir, ["checkout", "-q", "-b", `${name}-0`, "origin/main"]);
  const branches: string[] = [];
  for (let i = 0; i < count; i++) {
    const branch = `${name}-${i}`;
    if (i > 0) await c.world.git(dir, ["checkout", "-q", "-b", branch]);
    await c.world.commit(
      dir,
      alice,
      { "clusters/prod/app.yaml": `replicas: ${20 + i}\n` },
      `scale to ${20 + i}`,
    );
    const pushed = await c.world.push(dir, `HEAD:refs/heads/${branch}`);
    if (pushed.code !== 0) throw new Error(pushed.stderr);
    branches.push(branch);
  }
  const numbers: number[] = [];
  for (const branch of branches) {
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: c.world.org,
      repo: c.world.repo,
      title: branch,
      head: branch,
      base: "main",
    });
    numbers.push(data.number);
    await c.settle();
    await c.world.review(bob, data.number, "APPROVE");
    await c.settle();
  }
  return numbers;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function runOutageScenario(c: Cluster): Promise<OutageResult> {
  const { olivia, mallory } = c.world.people;
  const first = await c.addChildReplica();
  const pr0 = await approvedPull(c, "before-outage", "replicas: 4\n");
  const landed = [await c.world.merge(olivia, pr0.number, "merge")];
  await c.settle();
  const pulls = await stackedApprovedPulls(c, "during-outage", 3);

  // The crash: SIGKILL, and every delivery from now on fails (nothing listens).
  await c.replicas[first]?.kill?.();
  c.relay.down.add(first);
  c.world.sandbox.setWebhookUrl("http://127.0.0.1:9/pullgate-is-down");
  for (const number of pulls) landed.push(await c.world.merge(olivia, number, "merge"));
  const directPush = await c.world.pushCommit(
    mallory,
    "main",
    { "clusters/prod/app.yaml": "replicas: 0\n" },
    "hotfix during the outage",
  );
  await c.world.sandbox.idle();

  // Restart: a new replica (its first sweep runs at start); GitHub delivers to it again.
  c.world.sandbox.setWebhookUrl(c.relay.url);
  const started = Date.now();
  const second = await c.addChildReplica();
  const last = landed.at(-1);
  await waitFor("the last missing record", async () => {
    const chain = await readChain(c.world, ENVIRONMENT);
    return chain.at(-1)?.fields.sourceCommit === last ? chain : null;
  });
  const recoveryMs = Date.now() - started;
  await c.settle();
  // Let the sweep and redelivered events finish (the sweep may still be alerting the direct push).
  const issues = await waitFor("the bypass alert", async () => {
    const found = await alertIssuesNaming(c, directPush);
    return found.mentions > 0 ? found : null;
  });
  await sleep(500);
  await c.settle();
  const final = await alertIssuesNaming(c, directPush);
  const replicaUrl = new URL(c.replicas[second]?.webhookUrl ?? "http://127.0.0.1:9/");
  const metrics = await (await fetch(`${replicaUrl.origin}/metrics`)).text();
  return {
    landed,
    directPush,
    chain: await verifyChain(c.world, c.root, ENVIRONMENT),
    recoveryMs,
    alertMentions: Math.max(final.mentions, issues.mentions),
    alertIssues: final.issues,
    metrics,
  };
}

/** pullgate's alert issues, and how many of their bodies and comments report `commit` as a bypass. */
export async function alertIssuesNaming(
  c: Cluster,
  commit: string,
): Promise<{ issues: number; mentions: number }> {
  const repo = { owner: c.world.org, repo: c.world.repo };
  const { data: issues } = await c.world.admin.request("GET /repos/{owner}/{repo}/issues", {
    ...repo,
    labels: "pullgate-alert",
    state: "all",
    per_page: 100,
  });
  const own = issues.filter((i) => !i.pull_request && (i.body ?? "").includes(ALERT_ISSUE_MARKER));
  const marker = eventMarker(`bypass:${commit}`);
  let mentions = 0;
  for (const issue of own) {
    if ((issue.body ?? "").includes(marker)) mentions++;
    const { data: comments } = await c.world.admin.request(
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { ...repo, issue_number: issue.number, per_page: 100 },
    );
    mentions += comments.filter((x) => (x.body ?? "").includes(marker)).length;
  }
  return { issues: own.length, mentions };
}

/** The value of one series in a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
