import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

/**
 * The unmodified Probot 14 stack against the sandbox: webhook HMAC verification, app JWT →
 * installation token exchange, installation-authenticated REST calls, config read with the raw
 * media type. If any of these drifts from GitHub's behaviour, this fails.
 */
describe("sandbox: an unmodified Probot app runs against it", () => {
  let t: TestSandbox;
  let bob: TestUser;
  let server: Server;
  const seen: string[] = [];

  beforeAll(async () => {
    t = await startTestSandbox();
    const alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: "acme",
      repo: "deploy",
      username: "bob",
      permission: "push",
    });
    const probot = new Probot({
      appId: t.sandbox.app.id,
      privateKey: t.sandbox.app.privateKeyPem,
      secret: t.sandbox.app.webhookSecret,
      baseUrl: t.sandbox.apiUrl,
      logLevel: "fatal",
    });
    const middleware = await createNodeMiddleware(
      (app) => {
        app.on("pull_request.opened", async (context) => {
          seen.push(`opened #${context.payload.pull_request.number}`);
          const config = await context.config<{ greeting?: string }>("pullgate-test.yml");
          await context.octokit.rest.checks.create(
            context.repo({
              name: "pullgate",
              head_sha: context.payload.pull_request.head.sha,
              conclusion: "success",
              output: { title: config?.greeting ?? "no config", summary: "probot smoke test" },
            }),
          );
        });
      },
      { probot, webhooksPath: "/" },
    );
    server = createServer((req, res) => {
      void middleware(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    t.sandbox.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  afterAll(async () => {
    await t.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("receives a pull_request webhook, reads config and writes a check run as the app", async () => {
    const dir = await t.clone("acme", "deploy", bob.token);
    await t.commit(dir, { ".github/pullgate-test.yml": "greeting: hello from config\n" }, "config");
    expect((await t.push(dir, "HEAD:refs/heads/main")).code).toBe(0);
    await t.git(dir, ["checkout", "-q", "-b", "feature"]);
    const sha = await t.commit(dir, { "x.txt": "x\n" }, "x");
    await t.push(dir, "HEAD:refs/heads/feature");
    await bob.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: "acme",
      repo: "deploy",
      title: "t",
      head: "feature",
      base: "main",
    });
    await t.idle();
    const delivery = t.sandbox.webhooks.deliveries().find((d) => d.event === "pull_request");
    expect(delivery?.status_code).toBe(200);
    // Probot's middleware answers after the handler ran, and deliveries are sequential: the check run exists now.
    const runs = (
      await bob.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        owner: "acme",
        repo: "deploy",
        ref: sha,
      })
    ).data.check_runs;
    expect(seen).toEqual(["opened #1"]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: "pullgate",
      output: { title: "hello from config" },
      app: { slug: "pullgate" },
    });
  });
});
