/**
 * GitHub API requests the real pullgate server makes for the things that happen to every PR, on
 * the sandbox (the local GitHub emulator counts requests per route template). As docs/performance.md says,
 * requests are counted as carefully as CPU time: an installation has 5,000 requests an hour (15,000 on
 * GHEC), shared by every repository it is installed on, and each request is a round trip on the
 * critical path of the check reviewers wait for.
 *
 * Only the app's requests are counted: webhooks are paused while the harness's users act (their
 * own API calls, pushes, reviews), then the deliveries that action produced are redelivered to the
 * server with the counters zeroed, and the count is read once the server has answered them all.
 */
import { spawn } from "node:child_process";
import {
  basePolicy,
  startAppHarness,
  ORG,
  REPO,
  type AppHarness,
  type Person,
} from "../test/helpers/app-harness.js";
import { atMost, type BenchResult } from "./result.js";

/** What one scenario cost: the total and the per-route breakdown (kept for the report). */
export interface RequestCount {
  scenario: string;
  events: string[];
  total: number;
  routes: Record<string, number>;
  /** Requests answered 304 by the app's ETag cache (GitHub does not count them): apart from `total`. */
  notModified: number;
  notModifiedRoutes: Record<string, number>;
  /** Wall time from redelivery until the app was done (informative only: includes the sandbox's git work). */
  ms: number;
}

/** Runs `act` with webhooks held back, then replays its deliveries to the server and counts. */
async function countAppRequests(
  h: AppHarness,
  scenario: string,
  act: () => Promise<void>,
): Promise<RequestCount> {
  const { sandbox } = h.t;
  await h.settle();
  const first = sandbox.webhooks.deliveries().length;
  sandbox.setWebhookUrl(undefined);
  try {
    await act();
    await h.settle();
  } finally {
    sandbox.setWebhookUrl(h.server.webhookUrl);
  }
  const produced = sandbox.webhooks.deliveries().slice(first);
  sandbox.instrumentation.resetCounts();
  const started = performance.now();
  for (const d of produced) sandbox.webhooks.redeliver(d.id);
  await h.settle();
  const redelivered = sandbox.webhooks.deliveries().slice(first + produced.length);
  // Probot answers 202 "still processing" when a handler outlives its 9 s webhook timeout and
  // carries on; on a loaded machine the sandbox's own 10 s delivery timeout can fire first. Either
  // way the server has the event and is working on it: wait until it has been quiet for a while.
  const stillProcessing = (d: (typeof redelivered)[number]) =>
    d.status_code === 202 || (d.status_code === null && /timeout/i.test(d.status));
  const failed = redelivered.filter((d) => d.status_code !== 200 && !stillProcessing(d));
  if (failed.length > 0) {
    throw new Error(
      `${scenario}: the server did not accept ${failed.map((d) => `${d.event} (${d.status})`).join(", ")}`,
    );
  }
  if (redelivered.some(stillProcessing)) await quiet(h);
  const ms = performance.now() - started;
  return {
    scenario,
    events: produced.map((d) => (d.action ? `${d.event}.${d.action}` : d.event)),
    total: sandbox.instrumentation.totalRequests(),
    routes: sandbox.instrumentation.requestCounts(),
    notModified: sandbox.instrumentation.totalNotModified(),
    notModifiedRoutes: sandbox.instrumentation.notModifiedRequestCounts(),
    ms,
  };
}

/** Resolves once no API request has arrived for `quietMs` and no webhook is in flight. */
async function quiet(h: AppHarness, quietMs = 1_500): Promise<void> {
  const { instrumentation } = h.t.sandbox;
  let last = -1;
  let since = performance.now();
  for (;;) {
    await h.settle();
    const now = instrumentation.totalRequests();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A branch off main with `commits` commits signed by `author` (SSH, as the harness signs), each
 * adding `filesPerCommit` files. Built with git plumbing (fast-import for the trees, then
 * `commit-tree -S` for the signed chain), not a work tree: writing thousands of files to a loaded
 * CI disk costs tens of seconds and measures nothing we care about.
 */
async function commitBranch(
  h: AppHarness,
  author: Person,
  branch: string,
  commits: number,
  filesPerCommit: number,
): Promise<{ dir: string; headSha: string }> {
  const dir = await h.clone(author);
  const git = async (args: string[], env: Record<string, string> = {}, input?: string) => {
    const result =
      input === undefined ? await h.t.git(dir, args, env) : await gitWithInput(h, dir, args, input);
    if (result.code !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr}`);
    return result.stdout.trim();
  };
  const base = await git(["rev-parse", "origin/main"]);
  // One unsigned fast-import commit per tree (cumulative, like the real branch), on a scratch ref.
  let stream = "";
  for (let c = 0; c < commits; c++) {
    const message = `tree ${c}`;
    stream += `commit refs/scratch/${branch}\ncommitter B <b@x> ${1_700_000_000 + c} +0000\ndata ${message.length}\n${message}\n`;
    if (c === 0) stream += `from ${base}\n`;
    for (let f = 0; f < filesPerCommit; f++) {
      const n = c * filesPerCommit + f;
      const content = `replicas: ${n}\n`;
      stream += `M 100644 inline clusters/dev/${branch}/svc-${String(n).padStart(4, "0")}/deployment.yaml\ndata ${content.length}\n${content}\n`;
    }
    stream += "\n";
  }
  await git(["fast-import", "--quiet"], {}, stream);
  const trees = (await git(["log", "--reverse", "--format=%T", `${base}..refs/scratch/${branch}`])).split(
    "\n",
  );
  const identity = {
    GIT_AUTHOR_NAME: author.login,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.login,
    GIT_COMMITTER_EMAIL: author.email,
  };
  let parent = base;
  for (const [c, tree] of trees.entries()) {
    parent = await git(
      [
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${author.signingKey}`,
        "commit-tree",
        "-S",
        tree,
        "-p",
        parent,
        "-m",
        `${branch}: part ${c + 1}`,
      ],
      identity,
    );
  }
  await git(["update-ref", `refs/heads/${branch}`, parent]);
  await git(["checkout", "-q", branch]);
  return { dir, headSha: parent };
}

function gitWithInput(
  h: AppHarness,
  cwd: string,
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("git", args, {
      cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: h.t.root,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function push(h: AppHarness, dir: string, branch: string): Promise<void> {
  const pushed = await h.t.push(dir, `HEAD:refs/heads/${branch}`);
  if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
}

async function openPull(author: Person, branch: string): Promise<number> {
  const { data } = await author.octokit.request("POST /repos/{owner}/{repo}/pulls", {
    owner: ORG,
    repo: REPO,
    title: `Change ${branch}`,
    head: branch,
    base: "main",
  });
  return data.number;
}

async function approve(who: Person, number: number): Promise<void> {
  await who.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
    owner: ORG,
    repo: REPO,
    pull_number: number,
    event: "APPROVE",
  });
}

/** Fails the benchmark when the app did not do its job: a cheap count must not come from skipped work. */
async function expectCheck(h: AppHarness, scenario: string, sha: string, expected: string): Promise<void> {
  const check = await h.check(sha);
  if (check?.conclusion !== expected) {
    throw new Error(
      `${scenario}: expected pullgate's check to be ${expected}, got ${check?.conclusion ?? "none"}: ${check?.title ?? ""}`,
    );
  }
}

/** The record head of approved/production, or null. */
async function recordHead(h: AppHarness): Promise<string | null> {
  const res = await h.people.olivia.octokit
    .request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: "heads/approved/production",
    })
    .catch(() => null);
  return res?.data.object.sha ?? null;
}

/**
 * The scenarios, in the order a PR lives them, on a server started fresh (its installation token
 * is already cached: the seed push to main was handled before). Each checks the app's outcome.
 */
export async function measureApiRequests(options: { wide?: boolean } = {}): Promise<RequestCount[]> {
  // The 3,000-file PR's generated directory is allow-listed for the secrets rule, as a repository
  // with generated manifests would do: without it the rule fails closed (more than 300 files to
  // read, docs/policy.md "secrets") and the PR could never pass, so its review would measure nothing.
  const h = await startAppHarness({
    policy: basePolicy(["    secrets:", '      allow: ["/clusters/dev/wide/"]', ""].join("\n")),
  });
  try {
    const { alice, bob, olivia } = h.people;
    const counts: RequestCount[] = [];
    const measure = async (scenario: string, act: () => Promise<void>) => {
      const count = await countAppRequests(h, scenario, act);
      counts.push(count);
      return count;
    };

    // A feature branch is pushed: the app must learn that the branch is not governed.
    const smallDir = await h.clone(alice);
    await h.t.git(smallDir, ["checkout", "-q", "-b", "bump-prod", "origin/main"]);
    let smallHead = await h.commit(smallDir, alice, { "clusters/prod/app.yaml": "replicas: 3\n" }, "bump");
    await measure("push_feature_branch", () => push(h, smallDir, "bump-prod"));

    // (a) The 1-file PR is opened: the first evaluation against this base commit.
    let smallNumber = 0;
    await measure("open_1_file_pr", async () => {
      smallNumber = await openPull(alice, "bump-prod");
    });
    await expectCheck(h, "open_1_file_pr", smallHead, "failure");

    // The author pushes a fix to the open PR (push + pull_request.synchronize): a new head.
    smallHead = await h.commit(smallDir, alice, { "clusters/prod/app.yaml": "replicas: 4\n" }, "fix");
    await measure("synchronize_1_file_pr", () => push(h, smallDir, "bump-prod"));
    await expectCheck(h, "synchronize_1_file_pr", smallHead, "failure");

    // (b) The code owner approves the same head: a re-evaluation, with the base's data cached.
    await measure("review_1_file_pr", () => approve(bob, smallNumber));
    await expectCheck(h, "review_1_file_pr", smallHead, "success");

    // (d) It is squash-merged: the push to main publishes a record (and the record's own push
    // event comes back to the app).
    await measure("merge_and_record", async () => {
      await olivia.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        owner: ORG,
        repo: REPO,
        pull_number: smallNumber,
        merge_method: "squash",
      });
    });
    if ((await recordHead(h)) === null) throw new Error("merge_and_record: no record was published");

    // (c) A 100-file PR in 20 signed commits (5 files each), against the new main.
    const big = await commitBranch(h, alice, "many-services", 20, 5);
    await push(h, big.dir, "many-services");
    let bigNumber = 0;
    await measure("open_100_file_20_commit_pr", async () => {
      bigNumber = await openPull(alice, "many-services");
    });
    await expectCheck(h, "open_100_file_20_commit_pr", big.headSha, "failure");
    await measure("review_100_file_20_commit_pr", () => approve(olivia, bigNumber));
    await expectCheck(h, "review_100_file_20_commit_pr", big.headSha, "success");

    if (options.wide !== false) {
      // GitHub's limit: 3,000 files (30 pages of the files listing), one commit.
      const wide = await commitBranch(h, alice, "wide", 1, 3_000);
      await push(h, wide.dir, "wide");
      let wideNumber = 0;
      await measure("open_3000_file_pr", async () => {
        wideNumber = await openPull(alice, "wide");
      });
      await expectCheck(h, "open_3000_file_pr", wide.headSha, "failure");
      await measure("review_3000_file_pr", () => approve(olivia, wideNumber));
      await expectCheck(h, "review_3000_file_pr", wide.headSha, "success");
    }
    return counts;
  } finally {
    await h.close();
  }
}

/**
 * Targets (requests per webhook-driven action; see docs/performance.md for the reasoning):
 * an evaluation needs the PR, its three listings, the base's policy/CODEOWNERS/keyring (immutable
 * per base SHA), the org policy, reviewers' permissions, team rosters and the check (create +
 * complete), plus two reads that close races: the PR again after its listings (the head did not
 * move meanwhile) and the other open PRs with the same head (the check is per head, so the
 * strictest verdict of them all is reported). A re-evaluation of the same head and base needs only
 * what can change.
 */
export const API_TARGETS: Record<string, number> = {
  push_feature_branch: 2,
  open_1_file_pr: 17,
  synchronize_1_file_pr: 15,
  review_1_file_pr: 11,
  merge_and_record: 19,
  open_100_file_20_commit_pr: 17,
  review_100_file_20_commit_pr: 11,
  open_3000_file_pr: 47,
  review_3000_file_pr: 11,
};

export async function benchApiRequests(): Promise<BenchResult[]> {
  const counts = await measureApiRequests();
  if (process.env.PULLGATE_BENCH_VERBOSE === "1") {
    for (const c of counts) {
      process.stderr.write(
        `\n${c.scenario}: ${c.total} requests (+ ${c.notModified} answered 304) for ${c.events.join(", ")} (${Math.round(c.ms)} ms)\n`,
      );
      for (const [route, n] of Object.entries(c.routes))
        process.stderr.write(`  ${String(n).padStart(3)}  ${route}\n`);
      for (const [route, n] of Object.entries(c.notModifiedRoutes))
        process.stderr.write(`  ${String(n).padStart(3)}  ${route} (304)\n`);
    }
  }
  return counts.map((c) => atMost(`api.${c.scenario}`, c.total, "requests", API_TARGETS[c.scenario] ?? 0));
}
