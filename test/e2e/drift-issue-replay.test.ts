/**
 * End to end, the protection drift issue is idempotent per drift state, not per delivery (issue 12,
 * finding 4; docs/threat-model.md, "The webhook endpoint"). `X-GitHub-Delivery` is not covered by
 * the HMAC, so a captured `branch_protection_rule` delivery replayed under fresh ids passes the
 * replay ledger: the handler itself must not open a second issue or edit it again, even when the
 * replays arrive all at once.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRIFT_LABEL } from "../../src/github/protection/alert-issue.js";
import { signWebhookBody, type Delivery } from "@pullgate/sandbox";
import { ORG, REPO, basePolicy, startAppHarness, type AppHarness } from "../helpers/app-harness.js";

const audit = ["    protection:", "      mode: audit"].join("\n");
const ISSUES_POST = "POST /repos/{owner}/{repo}/issues";
const ISSUE_PATCH = "PATCH /repos/{owner}/{repo}/issues/{issue_number}";

describe("e2e: replayed protection events do not multiply the drift issue", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(audit) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const driftIssues = async () =>
    (
      await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
        owner: ORG,
        repo: REPO,
        labels: DRIFT_LABEL,
        state: "all",
      })
    ).data.filter((i) => !i.pull_request);

  const deliver = async (d: Delivery) => {
    const body = JSON.stringify(d.payload);
    const response = await fetch(h.server.webhookUrl, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": d.event,
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": signWebhookBody(h.t.sandbox.app.webhookSecret, body),
      },
    });
    await response.arrayBuffer();
    return response.status;
  };

  it("replays under fresh ids, concurrent and then one by one: one issue for the drift, never edited again", async () => {
    const { olivia } = h.people;
    // A weak protection on main: a genuine branch_protection_rule delivery, and drift.
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: ORG,
      repo: REPO,
      branch: "main",
      required_status_checks: null,
      enforce_admins: false,
      required_pull_request_reviews: null,
      restrictions: null,
    });
    await h.settle();
    const captured = h.t.sandbox.webhooks
      .deliveries()
      .filter((d) => d.event === "branch_protection_rule" && !d.redelivery)
      .at(-1);
    expect(captured?.status_code).toBe(200);
    if (captured === undefined) return;
    const before = await driftIssues();
    const open = before.filter((i) => i.state === "open");
    expect(open).toHaveLength(1);

    // Someone with triage access takes the label off: pullgate no longer owns an issue here, so
    // the next audit opens a new one; the replays race to do it.
    await olivia.octokit.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      owner: ORG,
      repo: REPO,
      issue_number: open[0]!.number,
      labels: [],
    });
    h.t.sandbox.instrumentation.resetCounts();
    const statuses = await Promise.all([captured, captured, captured, captured].map(deliver));
    await h.settle();
    expect(statuses).toEqual([200, 200, 200, 200]);
    const after = (await driftIssues()).filter((i) => i.state === "open");
    expect(after).toHaveLength(1);
    expect(h.t.sandbox.instrumentation.count(ISSUES_POST)).toBe(1);
    expect(h.t.sandbox.instrumentation.count(ISSUE_PATCH)).toBe(0);

    // One by one, the same drift: nothing is created or edited.
    h.t.sandbox.instrumentation.resetCounts();
    expect(await deliver(captured)).toBe(200);
    expect(await deliver(captured)).toBe(200);
    await h.settle();
    expect(h.t.sandbox.instrumentation.count(ISSUES_POST)).toBe(0);
    expect(h.t.sandbox.instrumentation.count(ISSUE_PATCH)).toBe(0);
    expect((await driftIssues()).filter((i) => i.state === "open").map((i) => i.number)).toEqual(
      after.map((i) => i.number),
    );
  });
});
