/**
 * GitHub's limits, honoured through the real Probot server and the sandbox (docs/github-api.md,
 * "Limits"; docs/operations.md, "Rate limits"):
 * - a 3,000-file PR with non-ASCII paths, each file with its own CODEOWNERS owner, renders far
 *   more than 65,535 bytes: the completing write stays within GitHub's byte limit, the check
 *   completes (GitHub's 422 for size is not retried and would leave it in progress), the decision
 *   survives the cut, and the file listing is followed through every `Link` page of 100;
 * - a PR of 251 commits (GitHub lists 250) fails closed with the reason and the fix;
 * - with Octokit's throttling on (as in production), a secondary rate limit (403 with GitHub's
 *   message, or 429, with `retry-after`) on a read during an evaluation is waited out and retried,
 *   so the verdict is the real one; a limit that persists fails the check closed, never open.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server.js";
import { CHECK_OUTPUT_LIMIT, TRUNCATION_NOTE } from "../../src/github/render-check.js";
import { BASE_CODEOWNERS, ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";
import { recordAppRequests } from "../helpers/github-operations.js";

const FILES = 3_000;
const zone = (i: number) => `zone-${i}-équipe-日本`;
const PERMISSION = "GET /repos/{owner}/{repo}/collaborators/{username}/permission";

/** A fast-import stream: `count` commits on `branch` off `from`, one new file each. */
function manyCommits(branch: string, from: string, count: number): string {
  let stream = "";
  for (let i = 0; i < count; i++) {
    const message = `commit ${i}`;
    stream += `commit refs/heads/${branch}\ncommitter Alice <alice@example.test> ${1700000000 + i} +0000\n`;
    stream += `data ${Buffer.byteLength(message)}\n${message}\n`;
    if (i === 0) stream += `from ${from}\n`;
    stream += `M 100644 inline clusters/dev/c-${i}.yaml\ndata 2\n${i % 10}\n\n`;
  }
  return stream;
}

/**
 * The check once it is completed. An evaluation of 3,000 files can outlast Probot's 9 s webhook
 * answer (a 202, after which the sandbox counts the delivery as done), so wait for the condition.
 */
async function completedCheck(h: AppHarness, sha: string): Promise<Awaited<ReturnType<AppHarness["check"]>>> {
  for (let i = 0; ; i++) {
    const check = await h.check(sha);
    if (check?.status === "completed" || i >= 600) return check;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("GitHub's limits through the real app", () => {
  let h: AppHarness;
  const recorder = recordAppRequests();

  beforeAll(async () => {
    // A distinct owner per directory: one missing approval (and one fix) per file in the check.
    const rules = Array.from({ length: FILES }, (_, i) => `/${zone(i)}/ @owner-${i}`);
    h = await startAppHarness({ codeowners: [BASE_CODEOWNERS.trimEnd(), ...rules, ""].join("\n") });
  }, 120_000);

  afterAll(async () => {
    recorder.stop();
    await h?.close();
  });

  it("a 3,000-file non-ASCII PR: the check completes within 65,535 bytes, every listing page read", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`${zone(i)}/déploiement.yaml`] = `replicas: ${i}\n`;
    const from = recorder.requests.length;
    const pr = await h.openPull(h.people.alice, "wide-unicode", files);
    const check = await completedCheck(h, pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    // The code-owner rule judged all 3,000 files; the secrets rule reads at most 300 per evaluation
    // and so errors (fail closed), which titles the check "could not evaluate".
    expect(check?.summary).toContain("| ❌ | Code owners | 3000 files of 3000 owned still need");
    expect(decisionOf(check).rules).toContainEqual({ id: "secrets", status: "error" });
    // Without the byte-aware cut this text was cut at 65,535 characters, well over 65,535 bytes.
    const patches = recorder.requests
      .slice(from)
      .filter((r) => r.method === "PATCH" && r.pathname.includes("/check-runs/"));
    expect(patches.length).toBeGreaterThan(0);
    for (const p of patches) {
      const output = (p.body as { output: { title: string; summary: string; text?: string } }).output;
      for (const value of [output.title, output.summary, output.text ?? ""])
        expect(Buffer.byteLength(value, "utf8")).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    }
    expect(check?.text.endsWith(TRUNCATION_NOTE)).toBe(true);
    expect(Buffer.byteLength(check?.text ?? "", "utf8")).toBeGreaterThan(CHECK_OUTPUT_LIMIT - 2_000);
    expect(decisionOf(check).pullRequest).toBe(pr.number);
    // Every page of the listing was asked for, 100 at a time (Link rel="next" followed to the end).
    const pages = recorder.requests
      .slice(from)
      .filter((r) => r.method === "GET" && r.pathname === `/repos/${ORG}/${REPO}/pulls/${pr.number}/files`)
      .map((r) => `${r.query.get("per_page")}:${r.query.get("page") ?? "1"}`);
    expect(new Set(pages)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => `100:${i + 1}`)));
  }, 300_000);

  it("a PR of 251 commits fails closed: GitHub lists at most 250, so a signature could go unseen", async () => {
    const { alice } = h.people;
    const dir = await h.clone(alice);
    const main = (await h.world.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    execFileSync("git", ["fast-import", "--quiet"], {
      cwd: dir,
      env: h.world.gitEnv,
      input: manyCommits("long", main, 251),
    });
    expect((await h.world.push(dir, "refs/heads/long:refs/heads/long")).code).toBe(0);
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "long",
      head: "long",
      base: "main",
    });
    const check = await h.check(data.head.sha);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain("the pull request has 251 commits; GitHub lists at most 250");
    expect(fixes(check)).toContain(
      "Squash or split the branch so each pull request has at most 250 commits.",
    );
    expect(decisionOf(check).status).not.toBe("pass");
  }, 120_000);

  describe("secondary rate limits with Octokit's throttling on (production settings)", () => {
    let throttled: RunningServer;

    beforeAll(async () => {
      const sandbox = h.t.sandbox;
      throttled = await startServer({
        appId: sandbox.app.id,
        privateKey: sandbox.app.privateKeyPem,
        webhookSecret: sandbox.app.webhookSecret,
        baseUrl: sandbox.apiUrl,
        port: 0,
        logLevel: "fatal",
        throttle: true,
        app: { evaluationTimeoutMs: 30_000, pullLookupRetryDelaysMs: [50, 100, 200] },
      });
      // From now on GitHub (the sandbox) delivers to the throttled replica only.
      sandbox.setWebhookUrl(throttled.webhookUrl);
    }, 60_000);

    afterAll(async () => {
      h.t.sandbox.setWebhookUrl(h.server.webhookUrl);
      h.t.sandbox.instrumentation.clearFaults();
      await throttled?.close();
    });

    for (const limit of [403, 429] as const) {
      it(`a ${limit} secondary limit on a read is waited out and retried: the approved PR passes`, async () => {
        const { alice, olivia } = h.people;
        const pr = await h.openPull(alice, `limited-${limit}`, {
          "clusters/dev/app.yaml": `replicas: ${limit}\n`,
        });
        h.t.sandbox.instrumentation.resetCounts();
        h.t.sandbox.instrumentation.setFault(PERMISSION, {
          secondaryRateLimit: limit,
          retryAfter: 1,
          times: 1,
        });
        await h.review(olivia, pr.number, "APPROVE");
        const check = await h.check(pr.headSha);
        expect(h.t.sandbox.instrumentation.listFaults()).toEqual({});
        // The limited answer was followed by a retry that got the real answer: a 200, or a 304
        // when the server's conditional-request cache already held the current permission (a 304
        // is counted apart from the rate-limited requests, and it is GitHub's answer too).
        const { instrumentation } = h.t.sandbox;
        const answered =
          instrumentation.count(PERMISSION) + (instrumentation.notModifiedRequestCounts()[PERMISSION] ?? 0);
        expect(answered).toBeGreaterThanOrEqual(2);
        expect(check?.status).toBe("completed");
        expect(check?.conclusion).toBe("success");
      }, 120_000);
    }

    it("a secondary limit that persists fails the check closed with the reason, never a pass", async () => {
      const { alice, olivia } = h.people;
      const pr = await h.openPull(alice, "limited-for-good", { "clusters/dev/app.yaml": "replicas: 9\n" });
      h.t.sandbox.instrumentation.setFault(PERMISSION, { secondaryRateLimit: 403, retryAfter: 1 });
      try {
        await h.review(olivia, pr.number, "APPROVE");
        const check = await h.check(pr.headSha);
        expect(check?.status).toBe("completed");
        expect(check?.conclusion).toBe("failure");
        expect(readable(check)).toMatch(/secondary rate limit/i);
        expect(decisionOf(check).status).not.toBe("pass");
      } finally {
        h.t.sandbox.instrumentation.clearFaults(PERMISSION);
      }
    }, 120_000);
  });
});
