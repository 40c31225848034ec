/**
 * The other half of the sandbox's fidelity check (sandbox/test/fidelity.test.ts covers REST
 * responses): the webhook payloads the sandbox sends, validated against GitHub's published webhook
 * schemas (sandbox/test/fixtures/openapi-webhooks, extracted from @octokit/openapi-webhooks; see the README
 * there). A real flow drives the sandbox; every delivery the receiver got is checked.
 *
 * Payloads that do not conform are listed in KNOWN_DEVIATIONS with their exact ajv errors, so a
 * deviation can neither grow silently nor be fixed without this list being updated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestSandbox,
  type ReceivedWebhook,
  type TestSandbox,
  type TestUser,
} from "../src/testing/harness.js";
import { errorsOf, schemaName, webhookSchemas } from "../src/testing/webhook-schemas.js";
import { APP_EVENTS } from "../src/routes/app.js";

/** Every `<event>.<action>` the flow below must produce, and that has a schema. */
const EXERCISED = [
  "installation.created",
  "repository.created",
  "push",
  "check_suite.requested",
  "pull_request.opened",
  "pull_request.synchronize",
  "pull_request_review.submitted",
  "pull_request_review.dismissed",
  "pull_request.edited",
  "pull_request.closed",
  "check_run.created",
  "check_run.completed",
  "check_run.rerequested",
  "branch_protection_rule.created",
  "branch_protection_rule.edited",
  "repository_ruleset.created",
  "repository_ruleset.edited",
  "pull_request.reopened",
  "check_suite.rerequested",
  "status",
  "issues.opened",
  "issue_comment.created",
  "member.added",
] as const;
type Exercised = (typeof EXERCISED)[number];

/**
 * The schema-side deviations: the app's `events` list names events the check_suite schemas' event
 * enums (older than those webhooks) do not know, though GitHub Apps subscribe to them and pullgate
 * needs them. The errors, at those events' positions in the sorted list.
 */
const appEventsEnumLags = (...events: string[]) =>
  events.map(
    (e) => `/check_suite/app/events/${APP_EVENTS.indexOf(e)} must be equal to one of the allowed values`,
  );

/**
 * Where the sandbox's payloads differ from GitHub's schema: the exact ajv errors, per
 * `<event>.<action>`. Every delivery of that kind must show exactly these errors, no more and no
 * fewer; anything not listed must conform.
 */
const KNOWN_DEVIATIONS: Partial<Record<Exercised, string[]>> = {
  "check_suite.requested": appEventsEnumLags("repository_ruleset"),
  // The rerequested schema's enum does not know merge_group either.
  "check_suite.rerequested": appEventsEnumLags("merge_group", "repository_ruleset"),
};

describe("sandbox: webhook payloads match GitHub's published webhook schemas", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let bob: TestUser;
  let hooks: ReceivedWebhook[] = [];
  const validators = webhookSchemas();

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    bob = await t.createUser("bob");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "deploy");
    const owner = "acme";
    const repo = "deploy";
    await alice.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner,
      repo,
      username: "bob",
      permission: "push",
    });

    // A push to main, and a second branch to retarget the PR to.
    const main = await t.clone(owner, repo, alice.token);
    await t.commit(main, { "env/prod.yaml": "replicas: 1\n" }, "prod env", {
      name: "alice",
      email: alice.email,
    });
    expect((await t.push(main, "HEAD:refs/heads/main")).code).toBe(0);
    expect((await t.push(main, "HEAD:refs/heads/release")).code).toBe(0);

    // PR opened, then a push to its branch (synchronize).
    const pr = await t.openPullRequest({
      owner,
      repo,
      user: bob,
      branch: "feature",
      files: { "env/prod.yaml": "replicas: 2\n" },
    });
    await t.commit(pr.dir, { "env/prod.yaml": "replicas: 3\n" }, "three", { name: "bob", email: bob.email });
    expect((await t.push(pr.dir, "HEAD:refs/heads/feature")).code).toBe(0);
    await t.idle();

    // Review submitted, then dismissed.
    const review = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
      owner,
      repo,
      pull_number: pr.number,
      event: "APPROVE",
    });
    await alice.octokit.request(
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
      {
        owner,
        repo,
        pull_number: pr.number,
        review_id: Number(review.data.id),
        message: "stale",
      },
    );

    // Base edited, then merged.
    await bob.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: pr.number,
      base: "release",
    });
    await alice.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner,
      repo,
      pull_number: pr.number,
    });

    // A check run by the app, re-requested by a user.
    const app = await t.installationOctokit(owner);
    const { data: head } = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner,
      repo,
      ref: "release",
    });
    const run = await app.request("POST /repos/{owner}/{repo}/check-runs", {
      owner,
      repo,
      name: "pullgate",
      head_sha: head.sha,
      conclusion: "success",
      output: { title: "ok", summary: "ok" },
    });
    await alice.octokit.request("POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", {
      owner,
      repo,
      check_run_id: run.data.id,
    });

    // Branch protection created, then changed.
    await alice.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner,
      repo,
      branch: "main",
      required_status_checks: { strict: true, contexts: ["pullgate"] },
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1 },
      restrictions: null,
    });
    await alice.octokit.request(
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures",
      {
        owner,
        repo,
        branch: "main",
      },
    );

    // Ruleset created, then updated.
    const ruleset = await alice.octokit.request("POST /repos/{owner}/{repo}/rulesets", {
      owner,
      repo,
      name: "release rules",
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["refs/heads/release"], exclude: [] } },
      rules: [{ type: "deletion" }, { type: "non_fast_forward" }],
    });
    await alice.octokit.request("PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
      owner,
      repo,
      ruleset_id: ruleset.data.id,
      rules: [{ type: "deletion" }, { type: "non_fast_forward" }, { type: "required_signatures" }],
    });

    // A second PR closed and reopened; a commit status; the check suite re-requested.
    const second = await t.openPullRequest({
      owner,
      repo,
      user: bob,
      branch: "second",
      files: { "env/staging.yaml": "replicas: 1\n" },
    });
    for (const state of ["closed", "open"] as const)
      await bob.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
        owner,
        repo,
        pull_number: second.number,
        state,
      });
    await alice.octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner,
      repo,
      sha: head.sha,
      state: "success",
      context: "ci/build",
      target_url: "https://ci.example.test/build/1",
    });
    const suites = await alice.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-suites", {
      owner,
      repo,
      ref: head.sha,
    });
    const suite = suites.data.check_suites[0];
    expect(suite).toBeDefined();
    await alice.octokit.request("POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest", {
      owner,
      repo,
      check_suite_id: Number(suite?.id ?? 0),
    });

    // An issue (pullgate's alerts are issues) and a comment on it.
    const issue = await app.request("POST /repos/{owner}/{repo}/issues", {
      owner,
      repo,
      title: "pullgate alert",
      body: "a direct push",
    });
    await app.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner,
      repo,
      issue_number: issue.data.number,
      body: "another one",
    });

    await t.idle();
    hooks = [...t.webhooks];
  });
  afterAll(async () => t.close());

  it("the schemas have teeth: a payload missing required fields is rejected", () => {
    const push = validators.get("push");
    const opened = validators.get("pull_request.opened");
    expect(push).toBeDefined();
    expect(opened).toBeDefined();
    if (push === undefined || opened === undefined) return;
    expect(errorsOf(push, { ref: "refs/heads/main" })).not.toEqual([]);
    expect(errorsOf(opened, { action: "opened", number: 1 })).not.toEqual([]);
  });

  it("a new deviation on a real payload is caught beyond the recorded ones (formats too)", () => {
    const push = validators.get("push");
    const delivered = hooks.find((h) => schemaName(h) === "push");
    expect(push).toBeDefined();
    expect(delivered).toBeDefined();
    if (push === undefined || delivered === undefined) return;
    const payload = structuredClone(delivered.payload) as {
      after: unknown;
      repository: { html_url: unknown };
    };
    payload.after = 42;
    payload.repository.html_url = "not a url";
    const errors = errorsOf(push, payload);
    expect(errors).toEqual(
      expect.arrayContaining(["/after must be string", '/repository/html_url must match format "uri"']),
    );
    expect(errors.length).toBe((KNOWN_DEVIATIONS.push ?? []).length + 2);
  });

  it("the flow produced every exercised event and nothing unchecked, each signed", () => {
    const seen = new Set(hooks.map(schemaName));
    expect([...seen].sort()).toEqual([...EXERCISED].sort());
    for (const hook of hooks) expect(hook.signatureValid, schemaName(hook)).toBe(true);
  });

  it.each(EXERCISED.map((name) => [name]))("%s conforms, or deviates exactly as recorded", (name) => {
    const validate = validators.get(name);
    expect(validate, `no schema for ${name}`).toBeDefined();
    if (validate === undefined) return;
    const deliveries = hooks.filter((h) => schemaName(h) === name);
    expect(deliveries.length).toBeGreaterThan(0);
    for (const hook of deliveries)
      expect(errorsOf(validate, hook.payload), `${name} delivery ${hook.deliveryId}`).toEqual(
        [...new Set(KNOWN_DEVIATIONS[name] ?? [])].sort(),
      );
  });
});
