/**
 * End-to-end: GitHub misbehaving and forged deliveries. Faults are injected on single API routes
 * through the sandbox's instrumentation; whatever happens, pullgate's check must complete as a
 * failure that says why: never success, never left in progress. A webhook whose HMAC does not
 * match is refused before it can start any work.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "@pullgate/sandbox";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";

const FILES_ROUTE = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files";
const PERMISSION_ROUTE = "GET /repos/{owner}/{repo}/collaborators/{username}/permission";
const REVIEWS_ROUTE = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews";
const CREATE_CHECK_ROUTE = "POST /repos/{owner}/{repo}/check-runs";
const RERUN_FIX =
  "Re-run the pullgate check; if it keeps failing, see the app's logs for the underlying error.";
/** The app's deadline per evaluation here: short, so a hung request fails the check quickly. */
const EVALUATION_TIMEOUT_MS = 5_000;

describe("e2e: API faults fail closed", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ evaluationTimeoutMs: EVALUATION_TIMEOUT_MS });
  });
  afterEach(() => {
    h.t.sandbox.instrumentation.clearFaults();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("10a. a route answering 502 every time: the check fails naming the request, and passes once GitHub recovers", async () => {
    const { alice, olivia } = h.people;
    h.t.sandbox.instrumentation.setFault(FILES_ROUTE, { status: 502 });
    const pr = await h.openPull(alice, "fault-502", { "clusters/dev/app.yaml": "replicas: 21\n" });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    expect(check?.title).toBe("pullgate could not evaluate this pull request");
    const text = readable(check);
    expect(text).toContain(
      `GitHub answered HTTP 502 to GET /repos/${ORG}/${REPO}/pulls/${pr.number}/files (Bad Gateway`,
    );
    expect(fixes(check)).toEqual([RERUN_FIX]);
    expect(decisionOf(check).status).toBe("error");
    // Octokit retried (1 + 3 attempts) before giving up, for each of the two evaluations.
    expect(h.t.sandbox.instrumentation.count(FILES_ROUTE)).toBeGreaterThanOrEqual(8);

    h.t.sandbox.instrumentation.clearFaults();
    await h.rerequest(pr.headSha);
    const recovered = await h.check(pr.headSha);
    expect(recovered?.conclusion).toBe("success");
  });

  it("10b. a transient 503 (two answers) is retried and the verdict is the real one", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "fault-503-transient", { "clusters/dev/app.yaml": "replicas: 22\n" });
    // Reviews are listed afresh on every evaluation (files and commits are cached per head).
    h.t.sandbox.instrumentation.setFault(REVIEWS_ROUTE, { status: 503, times: 2 });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("success");
    expect(h.t.sandbox.instrumentation.listFaults()).toEqual({});
  });

  it("10c. a 500 while reading a reviewer's permission: the reason names the reviewer", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "fault-500-permission", { "clusters/dev/app.yaml": "replicas: 23\n" });
    h.t.sandbox.instrumentation.setFault(PERMISSION_ROUTE, { status: 500 });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain(`cannot read @olivia's permission on ${ORG}/${REPO}`);
    expect(fixes(check)).toEqual([RERUN_FIX]);
    expect(decisionOf(check).approvedBy).toEqual([]);
  });

  it("10d. a request that never answers: the evaluation times out and the check completes as a failure", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "fault-timeout", { "clusters/dev/app.yaml": "replicas: 24\n" });
    h.t.sandbox.instrumentation.setFault(REVIEWS_ROUTE, { timeout: true });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain(`evaluating ${ORG}/${REPO}#${pr.number} timed out after 5 s`);
    expect(fixes(check)).toEqual([RERUN_FIX]);
  });

  it("10e. no check run can be created: nothing is reported as passing, and a redelivery evaluates again", async () => {
    const { alice } = h.people;
    h.t.sandbox.instrumentation.setFault(CREATE_CHECK_ROUTE, { status: 502 });
    const pr = await h.openPull(alice, "fault-no-check", { "clusters/dev/app.yaml": "replicas: 25\n" });
    expect(await h.check(pr.headSha)).toBeNull();
    // GitHub's "Redeliver" of the failed delivery evaluates again.
    h.t.sandbox.instrumentation.clearFaults();
    const failed = h.t.sandbox.webhooks
      .deliveries()
      .filter((d) => d.event === "pull_request" && d.action === "opened")
      .at(-1);
    // The handler failed, so the app answered a server error and GitHub shows the delivery as failed.
    expect(failed?.status_code).toBeGreaterThanOrEqual(500);
    h.t.sandbox.webhooks.redeliver(failed?.id ?? -1);
    await h.settle();
    expect((await h.check(pr.headSha))?.conclusion).toBe("failure");
  });
});

describe("e2e: webhook deliveries", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("11. a pull_request webhook with a wrong X-Hub-Signature-256 is rejected with 4xx and creates no check run", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "forged", { "clusters/prod/app.yaml": "replicas: 31\n" });
    const genuine = h.t.sandbox.webhooks
      .deliveries()
      .find((d) => d.event === "pull_request" && d.action === "opened");
    expect(genuine).toBeDefined();
    const payload = genuine?.payload ?? {};
    const checksBefore = await h.check(pr.headSha);
    const counter = h.t.sandbox.instrumentation;
    counter.resetCounts();

    const wrong = await h.deliver("pull_request", payload, { signature: `sha256=${"0".repeat(64)}` });
    expect(wrong).toBeGreaterThanOrEqual(400);
    expect(wrong).toBeLessThan(500);
    const unsigned = await h.deliver("pull_request", payload, { signature: "" });
    expect(unsigned).toBeGreaterThanOrEqual(400);
    expect(unsigned).toBeLessThan(500);
    // A genuine signature replayed over a tampered body (another head SHA) is refused too.
    const genuineSignature = signWebhookBody(h.t.sandbox.app.webhookSecret, JSON.stringify(payload));
    const pull = payload.pull_request as { head: { sha: string } };
    const tampered = { ...payload, pull_request: { ...pull, head: { ...pull.head, sha: "f".repeat(40) } } };
    const replayed = await h.deliver("pull_request", tampered, { signature: genuineSignature });
    expect(replayed).toBeGreaterThanOrEqual(400);
    expect(replayed).toBeLessThan(500);
    expect(counter.count(CREATE_CHECK_ROUTE)).toBe(0);
    expect(counter.totalRequests()).toBe(0);
    expect((await h.check(pr.headSha))?.id).toBe(checksBefore?.id);

    // Control: the same payload, signed with the app's secret, is accepted and evaluated.
    const signed = await h.deliver("pull_request", payload);
    expect(signed).toBe(200);
    expect(counter.count(CREATE_CHECK_ROUTE)).toBe(1);
    expect((await h.check(pr.headSha))?.id).toBeGreaterThan(checksBefore?.id ?? Infinity);
  });

  it("12b. a re-run whose check_run names no pull request (GitHub does that for forks' PRs) still re-evaluates the head; so does the Re-evaluate button", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "rerun-unnamed", { "clusters/prod/app.yaml": "replicas: 32\n" });
    const first = await h.check(pr.headSha);
    const created = h.t.sandbox.webhooks
      .deliveries()
      .find((d) => d.event === "check_run" && (d.payload.check_run as { id: number }).id === first?.id);
    expect(created).toBeDefined();
    const payload = created?.payload ?? {};
    const run = { ...(payload.check_run as Record<string, unknown>), pull_requests: [] };
    expect(await h.deliver("check_run", { ...payload, action: "rerequested", check_run: run })).toBe(200);
    const again = await h.check(pr.headSha);
    expect(again?.id).toBeGreaterThan(first?.id ?? Infinity);
    expect(again?.conclusion).toBe("failure");
    expect(fixes(again)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");

    // The check's "Re-evaluate" button (check_run.requested_action) does the same. GitHub sends it
    // from its UI only, so it is delivered here, signed like GitHub signs it.
    const button = await h.deliver("check_run", {
      ...payload,
      action: "requested_action",
      check_run: run,
      requested_action: { identifier: "reevaluate" },
    });
    expect(button).toBe(200);
    expect((await h.check(pr.headSha))?.id).toBeGreaterThan(again?.id ?? Infinity);
  });

  it("invariant 1: a push while the facts are being read cannot mix the old head's verdict with the new head's files", async () => {
    const { alice, olivia } = h.people;
    // H1 changes prod (needs @acme/sre); olivia (@acme/platform) approves it: not enough.
    const pr = await h.openPull(alice, "race-head", { "clusters/prod/app.yaml": "replicas: 33\n" });
    await h.review(olivia, pr.number, "APPROVE");
    const first = await h.check(pr.headSha);
    expect(first?.conclusion).toBe("failure");

    // Re-run H1, and while GitHub is slow to list the reviews (read by PR number on every
    // evaluation; H1's files and commits are cached), push H2 which only touches dev.
    h.t.sandbox.instrumentation.setFault(REVIEWS_ROUTE, { latencyMs: 4_000, times: 1 });
    await olivia.octokit.request("POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", {
      owner: ORG,
      repo: REPO,
      check_run_id: first?.id ?? 0,
    });
    await new Promise((r) => setTimeout(r, 300));
    const h2 = await h.commit(
      pr.dir,
      alice,
      { "clusters/prod/app.yaml": "replicas: 2\n", "clusters/dev/app.yaml": "replicas: 33\n" },
      "move the change to dev",
    );
    expect((await h.t.push(pr.dir, "HEAD:refs/heads/race-head")).code).toBe(0);
    await h.settle();
    h.t.sandbox.instrumentation.clearFaults();

    const { data: now } = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: ORG,
      repo: REPO,
      pull_number: pr.number,
    });
    expect(now.head.sha).toBe(h2);
    const rerun = await h.check(pr.headSha);
    expect(rerun?.id).toBeGreaterThan(first?.id ?? Infinity);
    expect(rerun?.conclusion).toBe("failure");
    expect(readable(rerun)).toContain("head moved");
  });

  it("a file listing read while the head moved is never cached for that head (attack: race a push, then push the old head back)", async () => {
    const { alice, olivia } = h.people;
    // H1 changes prod; the PR is opened while GitHub is slow to list its files, and meanwhile the
    // author pushes H2 (dev only), so that listing describes H2. Then H1 is pushed back.
    const dir = await h.clone(alice);
    await h.t.git(dir, ["checkout", "-q", "-b", "race-cache", "origin/main"]);
    const h1 = await h.commit(dir, alice, { "clusters/prod/app.yaml": "replicas: 44\n" }, "prod change");
    expect((await h.t.push(dir, "HEAD:refs/heads/race-cache")).code).toBe(0);
    await h.settle();
    h.t.sandbox.instrumentation.setFault(FILES_ROUTE, { latencyMs: 4_000, times: 1 });
    const { data: pr } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "race the cache",
      head: "race-cache",
      base: "main",
    });
    await new Promise((r) => setTimeout(r, 300));
    await h.t.git(dir, ["checkout", "-q", "-B", "dev-only", "origin/main"]);
    await h.commit(dir, alice, { "clusters/dev/app.yaml": "replicas: 44\n" }, "dev only");
    expect((await h.t.push(dir, "HEAD:refs/heads/race-cache", { force: true })).code).toBe(0);
    await h.settle();
    h.t.sandbox.instrumentation.clearFaults();
    expect((await h.t.push(dir, `${h1}:refs/heads/race-cache`, { force: true })).code).toBe(0);
    await h.settle();

    // Olivia (platform) approves H1: not enough, H1 changes production, owned by @acme/sre.
    await h.review(olivia, pr.number, "APPROVE", h1);
    const check = await h.check(h1);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain("clusters/prod/app.yaml");
    expect(readable(check)).toContain("@acme/sre");
  });
});

describe("e2e: a GitHub request that never answers has a deadline", () => {
  const COMPLETE_CHECK_ROUTE = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}";
  let h: AppHarness;
  beforeAll(async () => {
    // The evaluation deadline stays long (30 s): what ends a hung write here is the request's own.
    h = await startAppHarness({ requestTimeoutMs: 300 });
  });
  afterEach(() => {
    h.t.sandbox.instrumentation.clearFaults();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("13a. the check-completing write hangs once: it is abandoned at its deadline, retried, and the check completes", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "hung-write-once", { "clusters/dev/app.yaml": "replicas: 26\n" });
    h.t.sandbox.instrumentation.setFault(COMPLETE_CHECK_ROUTE, { timeout: true, times: 1 });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("success");
    expect(h.t.sandbox.instrumentation.listFaults()).toEqual({}); // the hang was really served
  });

  it("13b. it hangs every time: the handler gives up instead of hanging, nothing passes, and a re-run completes the check", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "hung-write-always", { "clusters/dev/app.yaml": "replicas: 27\n" });
    await h.settle();
    h.t.sandbox.instrumentation.setFault(COMPLETE_CHECK_ROUTE, { timeout: true });
    await h.review(olivia, pr.number, "APPROVE");
    await h.settle(); // returns: the handler did not hang on the write
    const review = h.t.sandbox.webhooks
      .deliveries()
      .filter((d) => d.event === "pull_request_review")
      .at(-1);
    expect(review?.status_code).not.toBeNull(); // the app answered the delivery
    const stuck = await h.check(pr.headSha);
    expect(stuck?.conclusion).not.toBe("success");

    h.t.sandbox.instrumentation.clearFaults();
    await h.rerequest(pr.headSha);
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("success");
  });
});
