/**
 * The strict sandbox (issue 13, sandbox/src/contract/): requests GitHub has no operation for answer
 * 404, invalid bodies and queries 422 in GitHub's shape, and each is recorded as a violation (which
 * fails the test that caused it, sandbox/test/helpers/contract-setup.ts); responses and webhooks GitHub's
 * schemas refuse are recorded too. Plus the mismatches the first strict runs found: check-run output
 * limits in bytes, branch protection's one-of `checks`/`contexts`, bot URLs.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract } from "../src/contract/contract.js";
import { loadContractIndex } from "../src/contract/description.js";
import { DEVIATIONS } from "../src/contract/deviations.js";
import { NON_DOTCOM_ROUTES, SANDBOX_ONLY_ROUTES } from "../src/contract/sources.js";
import { settle, startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

describe("strict sandbox: GitHub's contract", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let headSha: string;
  const base = { owner: "acme", repo: "deploy" };

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      ...base,
      ref: "main",
    });
    headSha = data.sha;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves only GitHub operations, the listed GHES ones and its own sandbox-only routes", () => {
    const contract = t.sandbox.contract;
    expect(contract.strict).toBe(true);
    for (const template of t.sandbox.routes) {
      const route = contract.route(template);
      if (SANDBOX_ONLY_ROUTES.has(template)) expect(route.kind, template).toBe("sandbox-only");
      else {
        expect(route.kind, template).toBe("operation");
        if (route.kind === "operation")
          expect(route.operation.source, template).toBe(NON_DOTCOM_ROUTES[template] ?? "api.github.com");
      }
    }
    // A made-up template is no operation (the server answers it 404, below).
    expect(contract.route("GET /repos/{owner}/{repo}/made-up").kind).toBe("none");
    // Every listed exception is served (the lists do not rot).
    for (const template of [...SANDBOX_ONLY_ROUTES, ...Object.keys(NON_DOTCOM_ROUTES)])
      expect(t.sandbox.routes, template).toContain(template);
  });

  it("answers a request no GitHub operation matches 404 as GitHub does, and records it", async () => {
    const r = await settle(alice.octokit.request("GET /repos/{owner}/{repo}/made-up", base));
    expect(r.status).toBe(404);
    expect(r.data).toMatchObject({ message: "Not Found", documentation_url: "https://docs.github.com/rest" });
    expect(t.takeViolations()).toEqual([
      {
        kind: "unknown-route",
        subject: "GET /repos/acme/deploy/made-up",
        detail: ["no sandbox route serves this request"],
      },
    ]);
  });

  it("refuses a body missing a required property, with GitHub's 422 shape", async () => {
    const r = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/pulls", { ...base, head: "main" } as never),
    );
    expect(r.status).toBe(422);
    expect(r.data).toEqual({
      message: `Invalid request.\n\n"base" wasn't supplied.`,
      errors: [{ code: "invalid", message: `"base" wasn't supplied.` }],
      documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
      status: "422",
    });
    expect(t.takeViolations()).toMatchObject([
      { kind: "request-body", subject: "POST /repos/{owner}/{repo}/pulls" },
    ]);
  });

  it("refuses wrong types and unknown properties where the schema closes them", async () => {
    const token = await t.installationToken("acme");
    const app = t.octokit(token);
    const wrong = await settle(
      app.request("POST /repos/{owner}/{repo}/check-runs", {
        ...base,
        name: "x",
        head_sha: headSha,
        status: 5,
      } as never),
    );
    expect(wrong.status).toBe(422);
    expect((wrong.data as { message: string }).message).toContain(
      `For 'properties/status', 5 is not a string.`,
    );
    const closed = await settle(
      alice.octokit.request("POST /repos/{owner}/{repo}/issues", {
        ...base,
        title: "t",
        issue_field_values: [{ field_id: 1, value: "v", colour: "red" }],
      } as never),
    );
    expect(closed.status).toBe(422);
    expect((closed.data as { message: string }).message).toContain(`"colour" is not a permitted key.`);
    expect(t.takeViolations().map((v) => v.subject)).toEqual([
      "POST /repos/{owner}/{repo}/check-runs",
      "POST /repos/{owner}/{repo}/issues",
    ]);
  });

  it("checks query parameters: a wrong type is a 422, an unknown one is recorded (GitHub ignores it)", async () => {
    const bad = await settle(
      alice.octokit.request("GET /repos/{owner}/{repo}/pulls", { ...base, per_page: "many" } as never),
    );
    expect(bad.status).toBe(422);
    expect((bad.data as { message: string }).message).toContain(
      `For 'properties/per_page', "many" is not an integer.`,
    );
    const typo = await settle(
      alice.octokit.request("GET /repos/{owner}/{repo}/pulls", { ...base, perpage: 100 } as never),
    );
    expect(typo.status).toBe(200);
    expect(t.takeViolations()).toEqual([
      expect.objectContaining({ kind: "query", subject: "GET /repos/{owner}/{repo}/pulls" }),
      {
        kind: "query",
        subject: "GET /repos/{owner}/{repo}/pulls",
        detail: [`unknown query parameter "perpage" (GitHub ignores it)`],
      },
    ]);
  });

  it("limits check-run summary and text to 65,535 UTF-8 bytes, as GitHub does", async () => {
    const app = t.octokit(await t.installationToken("acme"));
    const create = (summary: string, text?: string) =>
      settle(
        app.request("POST /repos/{owner}/{repo}/check-runs", {
          ...base,
          name: "limits",
          head_sha: headSha,
          output: { title: "t", summary, ...(text === undefined ? {} : { text }) },
        }),
      );
    expect((await create("a".repeat(65535))).status).toBe(201);
    // 65,535 characters, 131,070 bytes: GitHub's model refuses it although the schema's maxLength passes.
    const wide = await create("é".repeat(65535));
    expect(wide.status).toBe(422);
    expect(wide.data).toMatchObject({
      message: "Validation Failed",
      errors: [
        {
          resource: "CheckRun",
          code: "custom",
          field: "summary",
          message: "summary exceeds a maximum bytesize of 65535",
        },
      ],
    });
    const wideText = await create("ok", "€".repeat(30000));
    expect(wideText.data).toMatchObject({ errors: [{ field: "text" }] });
    const long = await create("a".repeat(65536));
    expect(long.status).toBe(422);
    expect((long.data as { message: string }).message).toBe(
      "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.",
    );
    // The update path counts bytes too.
    const { data: run } = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      ...base,
      name: "u",
      head_sha: headSha,
    });
    const update = await settle(
      app.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        ...base,
        check_run_id: run.id,
        output: { title: "t", summary: "ü".repeat(40000) },
      }),
    );
    expect(update.data).toMatchObject({ message: "Validation Failed", errors: [{ field: "summary" }] });
    // Only the character overrun is a schema (contract) refusal; the byte limit is GitHub's model.
    expect(t.takeViolations()).toMatchObject([
      { kind: "request-body", detail: [expect.stringContaining("Only 65535")] },
    ]);
  });

  it("branch protection takes exactly one of checks and contexts, never both merged", async () => {
    const put = (required_status_checks: Record<string, unknown>) =>
      settle(
        alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
          ...base,
          branch: "main",
          required_status_checks: required_status_checks as never,
          enforce_admins: true,
          required_pull_request_reviews: null,
          restrictions: null,
        }),
      );
    const both = await put({ strict: true, contexts: ["ci"], checks: [{ context: "pullgate" }] });
    expect(both.status).toBe(422);
    expect((both.data as { message: string }).message).toContain(
      `More than one subschema in "oneOf" matched.`,
    );
    const neither = await put({ strict: true });
    expect(neither.status).toBe(422);
    expect((neither.data as { message: string }).message).toContain(`No subschema in "oneOf" matched.`);
    // The description's `contexts: required` is not GitHub's rule: checks alone is accepted.
    const checks = await put({ strict: true, checks: [{ context: "pullgate", app_id: t.sandbox.app.id }] });
    expect(checks.status).toBe(200);
    expect(checks.data).toMatchObject({
      required_status_checks: {
        contexts: ["pullgate"],
        checks: [{ context: "pullgate", app_id: t.sandbox.app.id }],
      },
    });
    const contexts = await put({ strict: false, contexts: ["ci"] });
    expect(contexts.data).toMatchObject({
      required_status_checks: { checks: [{ context: "ci", app_id: null }] },
    });
  });

  it("spells the app's bot user as GitHub does: percent-encoded URLs, html_url on /apps/<slug>", async () => {
    const slug = t.sandbox.app.slug;
    const { data } = await alice.octokit.request("GET /users/{username}", { username: `${slug}[bot]` });
    expect(data.url).toBe(`${t.sandbox.apiUrl}/users/${slug}%5Bbot%5D`);
    expect(data.repos_url).toBe(`${t.sandbox.apiUrl}/users/${slug}%5Bbot%5D/repos`);
    expect(data.html_url).toBe(`${t.sandbox.gitUrl}apps/${slug}`);
    expect(data.type).toBe("Bot");
  });

  it("records a response or webhook GitHub's schema refuses (the checks themselves)", () => {
    const contract = new Contract({ strict: true, validateResponses: true });
    const route = contract.route("GET /repos/{owner}/{repo}/pulls/{pull_number}");
    if (route.kind !== "operation") throw new Error("no operation");
    const { data: pull } = { data: { number: "1" } };
    contract.checkResponse(route.operation, 200, pull);
    contract.checkResponse(route.operation, 201, {});
    contract.checkWebhook("push", { ref: "refs/heads/main" });
    contract.checkWebhook("pull_request", { action: "teleported" });
    const found = contract.take();
    expect(found.map((v) => `${v.kind} ${v.subject}`)).toEqual([
      "response GET /repos/{owner}/{repo}/pulls/{pull_number} 200",
      "response GET /repos/{owner}/{repo}/pulls/{pull_number}",
      "webhook push",
      "webhook pull_request.teleported",
    ]);
    // Responses report the first failure (cheaper validators); request 422s report all.
    expect(found[0]?.detail).toEqual([expect.stringMatching(/^\/ must have required property '\w+'$/)]);
    expect(found[2]?.detail).toEqual(["/ must have required property 'before'"]);
  });

  it("without the descriptions (a production install) runs non-strict and says so", () => {
    const lines: string[] = [];
    const contract = new Contract({
      strict: true,
      validateResponses: true,
      index: null,
      log: (l) => lines.push(l),
    });
    expect(contract.strict).toBe(false);
    expect(contract.validateResponses).toBe(false);
    expect(contract.route("GET /repos/{owner}/{repo}").kind).toBe("none");
    expect(lines).toEqual([expect.stringContaining("running non-strict")]);
  });

  it("off by option: a non-strict sandbox serves what it has and records nothing", async () => {
    const loose = await startTestSandbox({ strict: false, validateResponses: false });
    try {
      const r = await settle(loose.admin.request("GET /made-up"));
      expect(r.status).toBe(404);
      expect(loose.takeViolations()).toEqual([]);
      expect(loose.sandbox.contract.strict).toBe(false);
    } finally {
      await loose.close();
    }
  });

  it("caches the compact index on disk, keyed by both package versions; every deviation applies", () => {
    const index = loadContractIndex();
    expect(index?.versions).toEqual({ openapi: "23.0.2", webhooks: "12.1.0" });
    const dir = join(import.meta.dirname, "..", "..", "node_modules", ".cache", "pullgate");
    const cached = existsSync(dir) ? readdirSync(dir) : [];
    expect(cached.some((f) => f.includes("openapi-23.0.2-webhooks-12.1.0"))).toBe(true);
    // Each deviation names its evidence.
    for (const d of DEVIATIONS) expect(d.evidence, d.subject).toMatch(/https:\/\/|description's own/);
  });
});
