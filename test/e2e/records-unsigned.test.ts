/**
 * End to end: an app without a record-signing key still gates pull requests, publishes no record
 * for an approved merge (and raises no bypass alert for it: nothing was bypassed), and says so,
 * both when `pullgate serve` starts and on each approved merge it cannot record.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { mergePull, openApprovedPull, recordHead } from "../helpers/records.js";

const BIN = resolve(import.meta.dirname, "../../bin/pullgate.js");

describe("e2e: no signing key configured", () => {
  let h: AppHarness;
  let serve: ChildProcess | undefined;
  let serveOut = "";
  let serveErr = "";

  beforeAll(async () => {
    h = await startAppHarness({ signingKey: false });
  });
  afterAll(async () => {
    if (serve?.exitCode === null) {
      const exited = new Promise((r) => serve?.once("exit", r));
      serve.kill("SIGTERM");
      await exited;
    }
    await h?.close();
  });

  const alertIssues = async () =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
        owner: ORG,
        repo: REPO,
        labels: "pullgate-alert",
        state: "all",
      })
    ).data;

  it("still gates pull requests, and an approved merge publishes no record and no alert", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "bump", { "clusters/prod/app.yaml": "replicas: 3\n" });
    expect((await h.check(pr.headSha))?.conclusion).toBe("failure");
    await h.review(bob, pr.number, "APPROVE");
    const passed = await h.check(pr.headSha);
    expect(passed?.conclusion).toBe("success");
    // ... and the check says no record will follow the merge.
    expect(passed?.summary).toContain("no record-signing key");
    const merged = await mergePull(h, olivia, pr.number, "squash");
    expect(await recordHead(h)).toBeNull();
    expect(await alertIssues()).toEqual([]);
    const { data: statuses } = await olivia.octokit.request(
      "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
      {
        owner: ORG,
        repo: REPO,
        ref: merged,
      },
    );
    expect(statuses).toEqual([]);
  });

  it("`pullgate serve` says so at start and for each approved merge it cannot record", async () => {
    const api = new URL(h.t.sandbox.apiUrl);
    serve = spawn(process.execPath, [BIN, "serve"], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PULLGATE_FROM_SOURCE: "1",
        APP_ID: String(h.t.sandbox.app.id),
        PRIVATE_KEY: h.t.sandbox.app.privateKeyPem,
        WEBHOOK_SECRET: h.t.sandbox.app.webhookSecret,
        GHE_HOST: api.host,
        GHE_PROTOCOL: "http",
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    serve.stdout?.on("data", (c: Buffer) => (serveOut += c.toString("utf8")));
    const webhookUrl = await new Promise<string>((resolvePromise, reject) => {
      serve?.stderr?.on("data", (c: Buffer) => {
        serveErr += c.toString("utf8");
        const m = /webhooks at (http:\/\/\S+)\)/.exec(serveErr);
        if (m?.[1] !== undefined) resolvePromise(m[1]);
      });
      serve?.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${serveErr}`)));
    });
    expect(serveErr).toContain(
      "no PULLGATE_SIGNING_KEY(_FILE): pull requests are gated, but no approved-revision records are published",
    );

    h.t.sandbox.setWebhookUrl(webhookUrl);
    try {
      const { alice, bob, olivia } = h.people;
      const pr = await openApprovedPull(h, alice, bob, "bump-served", [
        { "clusters/prod/app.yaml": "replicas: 4\n" },
      ]);
      await mergePull(h, olivia, pr.number, "merge");
    } finally {
      h.t.sandbox.setWebhookUrl(h.server.webhookUrl);
    }
    expect(await recordHead(h)).toBeNull();
    expect(serveOut).toContain("no signing key configured: approved merge, but no record published");
  });
});
